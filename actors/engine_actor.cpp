#include "actors/engine_actor.hpp"

#include <random>

#include <cstring>
#include <iostream>
#include <optional>
#include <set>

#include "actors/spin.hpp"
#include "core/clock.hpp"
#include "observability/trace.hpp"

namespace actorrt {

namespace {

using self_ptr = engine_actor::stateful_pointer<engine_state>;

/// The state of the engine whose handler runs on this thread, if any.
thread_local const engine_state* current_state = nullptr;

/// Marks the running handler's thread as the thread of the engine whose
/// state is `st`.
struct engine_thread {
  explicit engine_thread(const engine_state& st) {
    current_state = &st;
  }
};

engine_report report(const engine_state& st) {
  auto& counters = st.books->counters;
  return {counters.latency.read().summary(), counters.compute.read().summary(),
          st.recent_latency.values(), st.recent_npu_time.values(), st.latest};
}

void in_scope(const job_callback& cb, const std::function<void()>& run) {
  if (cb.in_scope)
    cb.in_scope(run);
  else
    run();
}

/// Reports an exception thrown by the callback of job `id`.
void report_callback_error(self_ptr self, job_id id, const std::string& what) {
  if (self->state.on_error)
    self->state.on_error(id, what);
  else
    std::cerr << "actorrt: callback for job " << id << " threw: " << what
              << "\n";
}

/// The outputs in the caller's buffers when it gave some. In-process the
/// core wrote there already; a remote core's results arrive elsewhere.
void into_caller_buffers(tensors& outputs, const std::vector<blob>& given) {
  if (given.size() != outputs.size())
    return;
  for (size_t k = 0; k < outputs.size(); ++k) {
    auto& bytes = outputs[k].bytes;
    if (bytes.data != given[k].data) {
      std::memcpy(given[k].data, bytes.data,
                  std::min(bytes.size, given[k].size));
      bytes = given[k];
    }
  }
}

/// Credits of ended jobs, returned once per batch: one lock and at most
/// one wake-up for many jobs.
struct credit_return {
  std::vector<int> per_device;

  void add(int device) {
    if (device < 0)
      return;
    if (static_cast<size_t>(device) >= per_device.size())
      per_device.resize(device + 1);
    ++per_device[device];
  }
  void to(admission& credit) {
    for (size_t d = 0; d < per_device.size(); ++d)
      credit.release(static_cast<int>(d), per_device[d]);
  }
};

/// A job's outputs: the model's descriptions (for its batch), with the
/// shapes the run decided where it did.
tensors outputs_of(const model& m, int64_t batch,
                   const std::vector<std::vector<int64_t>>& shapes,
                   tensors outputs) {
  describe(outputs, m.output_metas(), batch);
  for (size_t k = 0; k < shapes.size() && k < outputs.size(); ++k)
    if (outputs[k].info().shape != shapes[k])
      outputs[k].meta = with_shape(outputs[k].meta, shapes[k]);
  return outputs;
}

/// Ends one claimed job: its client's answer, or callback then Wait's
/// result; its credit goes back with the batch's. A traced job is in the
/// trace before anybody sees it end.
void finish(self_ptr self, credit_return& credit, job_id id, job_ticket& t,
            job_table::outcome result, trace::job_record* traced = nullptr) {
  auto& b = *self->state.books;
  credit.add(t.device);
  if (t.client) {
    if (traced)
      trace::record(*traced);
    auto i = self->state.clients.find(id);
    if (i != self->state.clients.end()) {
      if (result.error)
        i->second.deliver(to_caf_error(result.error));
      else
        i->second.deliver(std::move(result.outputs));
      self->state.clients.erase(i);
    }
    b.table.forget(id);
  } else {
    auto& cb = self->state.callback.fn;
    if (cb && !t.silent) {
      if (traced)
        traced->callback_begin = now_ns();
      try {
        cb(result.outputs, t.ptr, result.error);
      } catch (const std::exception& e) {
        report_callback_error(self, id, e.what());
      } catch (...) {
        report_callback_error(self, id, "unknown exception");
      }
      if (traced)
        traced->callback_end = now_ns();
    }
    if (traced)
      trace::record(*traced);
    // A synchronous Run's own result is always waited for; another may
    // never be (see result_retention).
    auto how = t.silent ? job_table::kept::until_waited
               : cb     ? job_table::kept::beside_callback
                        : job_table::kept::without_callback;
    t = {}; // the user argument lives until its callback has run
    // Published now, not with the batch: a later callback of the batch may
    // Wait for this job.
    b.table.publish(id, std::move(result), how);
  }
}

/// Runs `end_jobs(credit)` in one callback scope, then returns the ended
/// jobs' credits at once.
template <class F>
void end_batch(self_ptr self, F end_jobs) {
  credit_return credit;
  in_scope(self->state.callback, [&] { end_jobs(credit); });
  credit.to(*self->state.books->credit);
}

/// Ends the ticket of open job `id` (the exactly-once gate): the ticket for
/// the first caller, nothing after that.
std::optional<job_ticket> claim(engine_state& st, job_id id) {
  auto i = st.open.find(id);
  if (i == st.open.end())
    return std::nullopt;
  auto t = std::move(i->second);
  st.open.erase(i);
  return t;
}

/// Takes what the intake holds: the callback as it now is, and the jobs,
/// which it keeps the tickets of and sends on to the scheduler.
void take_intake(self_ptr self) {
  auto& st = self->state;
  auto in = st.books->intake->take();
  if (in.callback)
    st.callback = std::move(*in.callback);
  if (in.on_error)
    st.on_error = std::move(*in.on_error);
  if (in.jobs.empty())
    return;
  for (size_t k = 0; k < in.jobs.size(); ++k)
    st.open.emplace(in.jobs[k].id, std::move(in.tickets[k]));
  job_batch batch;
  batch.model = st.books->model_id;
  batch.engine = caf::actor_cast<engine_actor>(self);
  batch.jobs = std::move(in.jobs);
  self->send(st.books->scheduler, submit_atom::value, std::move(batch));
}

/// Records an ended job once: into the engine's histograms (which give
/// Prometheus its buckets and DX-RT its mean, deviation and latest; the
/// process's totals read them), per core too, and its times into the
/// recent lists DX-RT returns.
void count_ended(engine_state& st, const job_result& r, int64_t latency_us) {
  auto& b = *st.books;
  auto compute = r.error ? 0 : r.compute_us();
  auto& ended = r.error ? b.counters.failed : b.counters.done;
  ended.fetch_add(1, std::memory_order_relaxed);
  if (r.first_in_run && r.device >= 0)
    b.counters.runs.fetch_add(1, std::memory_order_relaxed);
  b.counters.latency.record(latency_us);
  st.recent_latency.add(latency_us);
  if (!r.error) {
    b.counters.compute.record(compute);
    b.counters.queue.record(latency_us - compute);
    st.recent_npu_time.add(compute);
  }
  if (r.device >= 0) {
    auto*& found = st.core_counters[{r.device, r.core}];
    if (!found)
      found = &b.counters.core(r.device, r.core);
    auto& core = *found;
    (r.error ? core.failed : core.done).fetch_add(1, std::memory_order_relaxed);
    if (r.first_in_run)
      core.runs.fetch_add(1, std::memory_order_relaxed);
    if (!r.error)
      core.compute.record(compute);
  }
}

/// Ends the results gathered so far (one callback scope for all of them).
/// Jobs are claimed and counted first, so that whoever sees one end sees
/// its statistics too.
void done(self_ptr self) {
  auto results = std::move(self->state.finished);
  self->state.finished.clear();
  auto& b = *self->state.books;
  auto now = now_ns();
  std::vector<std::pair<job_result*, job_ticket>> claimed;
  for (auto& r : results)
    if (auto t = claim(self->state, r.id)) { // else ended (cancelled)
      if (t->control && t->control->end() && !r.error) {
        r.error = {errc::cancelled,
                   "job " + std::to_string(r.id)
                     + " was cancelled while it ran; its outputs were dropped"};
        r.outputs.clear();
      }
      count_ended(self->state, r, (now - t->submitted) / 1000);
      claimed.emplace_back(&r, std::move(*t));
    }
  if (claimed.empty())
    return;
  bool tracing = trace::enabled();
  end_batch(self, [&](credit_return& credit) {
    for (auto& [r, t] : claimed) {
      std::optional<trace::job_record> traced;
      if (tracing)
        traced = trace::job_record{
          r->id,      t.thread,       b.trace_track, r->device,
          r->core,    bool(r->error), t.submitted,   r->dispatched,
          r->started, r->finished,    now,           0,
          0};
      job_table::outcome o;
      if (r->error) {
        o.error = std::move(r->error);
      } else {
        into_caller_buffers(r->outputs, t.outputs);
        o.outputs
          = outputs_of(*b.model, t.batch, r->shapes, std::move(r->outputs));
        if (r == claimed.back().first)
          self->state.latest = o.outputs;
      }
      finish(self, credit, r->id, t, std::move(o), traced ? &*traced : nullptr);
    }
  });
}

uint64_t cancel(self_ptr self, const std::string& reason) {
  take_intake(self);
  auto open = std::move(self->state.open);
  self->state.open.clear();
  auto now = now_ns();
  job_result cancelled;
  cancelled.error = {errc::cancelled, reason};
  for (auto& [id, t] : open)
    count_ended(self->state, cancelled, (now - t.submitted) / 1000);
  end_batch(self, [&](credit_return& credit) {
    for (auto& [id, t] : open)
      finish(self, credit, id, t, {{}, cancelled.error});
  });
  return open.size();
}

/// Ends the results that have arrived, unless more messages wait: results
/// of several cores that arrive together end together, in one callback
/// scope (one GIL acquisition in Python), at most 256 at a time. Every
/// handler that may leave results waiting ends with this.
void end_arrived(self_ptr self) {
  auto& finished = self->state.finished;
  if (!finished.empty() && (finished.size() >= 256 || self->mailbox().empty()))
    done(self);
}

caf::typed_response_promise<tensors> infer(self_ptr self,
                                           std::vector<blob>& inputs) {
  auto& st = self->state;
  auto promise = self->make_response_promise<tensors>();
  try {
    job_ticket t;
    t.client = true;
    // Actors never block: past the credit, the scheduler's queue holds it.
    // Its result is handled after this handler, so the promise is in time.
    st.clients.emplace(st.books->submit(inputs, {}, std::move(t)), promise);
    take_intake(self);
  } catch (...) {
    promise.deliver(to_caf_error(failure::from_current_exception()));
  }
  return promise;
}

} // namespace

bool on_engine_thread(const engine_books* books) {
  return current_state
         && (books == nullptr || current_state->books.get() == books);
}

engine_books::~engine_books() {
  if (process_)
    process_->leave(&counters);
}

void engine_books::count_in(std::shared_ptr<process_metrics> totals) {
  process_ = std::move(totals);
  process_->join(&counters);
}

job_id engine_books::submit(const std::vector<blob>& inputs,
                            std::vector<blob> outputs, job_ticket t,
                            const JobOptions& terms) {
  auto called = now_ns();
  int timeout = terms.timeout_ms.value_or(timeout_ms);
  int level = terms.priority.value_or(priority);
  check_job_options(timeout, level);
  auto bound = bind_inputs(model->inputs(), inputs, &t.batch);
  if (!outputs.empty())
    outputs = bind_outputs(model->outputs(), outputs, t.batch);
  if (closed.load(std::memory_order_acquire))
    throw InvalidOperation("InferenceEngine already disposed");
  // On a result thread only this thread frees credit: never block there.
  int device = on_engine_thread()
                 ? credit->acquire_now(devices)
                 : credit->acquire(devices, buffer_count, closed, interrupt,
                                   blocking_scope);
  if (device < 0)
    throw InvalidOperation("InferenceEngine disposed while RunAsync waited");
  t.device = device;
  t.submitted = now_ns();
  if (trace::enabled())
    t.thread = trace::thread_index();
  if (!outputs.empty())
    t.outputs = outputs;
  auto control = std::make_shared<job_control>();
  t.control = control;
  job j;
  j.id = table.open(control);
  // Described where they run: the caller's thread touches no description
  // that every job shares.
  j.inputs = std::move(bound);
  j.outputs = undescribed(std::move(outputs));
  j.device = device;
  j.batch = t.batch;
  j.deadline = timeout ? called + timeout * 1000000ll : 0;
  j.priority = level;
  j.control = std::move(control);
  auto id = j.id;
  intake->put(std::move(j), std::move(t));
  return id;
}

namespace {

/// Ends `ids` (open, not started) with Cancelled on `engine`'s thread.
void end_cancelled(const engine_actor& engine, const std::vector<job_id>& ids,
                   const std::string& why) {
  if (ids.empty())
    return;
  job_results results(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    results[i].id = ids[i];
    results[i].error = {errc::cancelled, why};
  }
  caf::anon_send(engine, done_atom::value, std::move(results));
}

} // namespace

job_control::cancel_result engine_books::cancel(job_id id,
                                                const engine_actor& engine) {
  auto outcome = table.control_of(id)->cancel();
  if (outcome == job_control::cancel_result::not_started)
    end_cancelled(engine, {id},
                  "job " + std::to_string(id)
                    + " was cancelled before it started");
  return outcome;
}

size_t engine_books::cancel_queued(const engine_actor& engine,
                                   const std::string& why) {
  std::vector<job_id> ids;
  for (auto& [id, control] : table.open_controls())
    if (control->cancel_queued())
      ids.push_back(id);
  end_cancelled(engine, ids, why);
  return ids.size();
}

engine_actor::behavior_type
engine(engine_actor::stateful_pointer<engine_state> self,
       std::shared_ptr<engine_books> books) {
  self->state.books = books;
  auto scheduler = books->scheduler;
  auto model_id = books->model_id;
  self->attach_functor([scheduler, model_id] {
    caf::anon_send(scheduler, unload_atom::value, model_id);
  });
  return {
    [=](done_atom, job_results& results) {
      engine_thread here{self->state};
      auto& finished = self->state.finished;
      finished.insert(finished.end(), std::make_move_iterator(results.begin()),
                      std::make_move_iterator(results.end()));
      end_arrived(self);
      linger(self);
    },
    [=](submit_atom) {
      engine_thread here{self->state};
      take_intake(self);
      // Open jobs come back as results soon: waking from sleep for them
      // cost a synchronous Run about 30 us of its 45 here.
      if (!self->state.finished.empty() || !self->state.open.empty())
        linger(self);
      end_arrived(self);
    },
    [=](infer_atom, std::vector<blob>& inputs) {
      engine_thread here{self->state};
      done(self);
      return infer(self, inputs);
    },
    [=](report_atom) {
      engine_thread here{self->state};
      done(self); // the figures count what has arrived
      return report(self->state);
    },
    [=](cancel_atom, std::string& reason) {
      engine_thread here{self->state};
      done(self); // what finished is not cancelled
      return cancel(self, reason);
    },
  };
}

engine_report report_of(caf::actor_system& sys, const engine_actor& engine,
                        const engine_books& books) {
  if (on_engine_thread(&books))
    return report(*current_state);
  unpinned_logger unpinned;
  caf::scoped_actor self{sys};
  engine_report answer;
  self->request(engine, caf::infinite, report_atom::value)
    .receive([&](engine_report& r) { answer = std::move(r); },
             [&](caf::error& e) { throw DeviceIO(sys.render(e)); });
  return answer;
}

std::shared_ptr<engine_books>
place_model(caf::actor_system& sys, const scheduler_actor& scheduler,
            std::shared_ptr<admission> credit, model_ptr m,
            const InferenceOption& option, result_retention retention) {
  // Unique across processes too: cores of a worker node serve several
  // clients, and key their lanes by model id.
  static std::atomic<uint64_t> model_ids{std::random_device{}() * (1ull << 32)};
  option.validate();
  auto b = std::make_shared<engine_books>(retention);
  b->model = m;
  b->model_id = ++model_ids;
  b->trace_track = trace::engine_index(m->name());
  b->where = {option.devices, bound_core_mask(option.bound)};
  b->buffer_count = option.buffer_count;
  b->timeout_ms = option.timeout_ms;
  b->priority = option.priority;
  b->scheduler = scheduler;
  b->credit = std::move(credit);
  unpinned_logger unpinned;
  caf::scoped_actor self{sys};
  std::vector<core_report> cores;
  self->request(scheduler, caf::infinite, report_atom::value)
    .receive([&](std::vector<core_report>& r) { cores = std::move(r); },
             [&](caf::error& e) { throw DeviceIO(sys.render(e)); });
  std::set<int> devices, all;
  b->simulated = true;
  for (auto& c : cores) {
    all.insert(c.device);
    if (c.alive && b->where.allows(c.device, c.core)) {
      devices.insert(c.device);
      b->simulated = b->simulated && c.simulated;
    }
  }
  for (int id : option.devices)
    if (!devices.count(id))
      throw InvalidArgument("device " + std::to_string(id)
                            + " does not exist or has no core the bound "
                              "option allows");
  // An engine that may use every device also uses those that join later
  // (worker nodes found after it was made): an empty list, which the
  // admission reads as every device it knows.
  if (!option.devices.empty() || devices != all)
    b->devices.assign(devices.begin(), devices.end());
  std::string backend = option.use_ort ? "ort" : "opencv";
  model_handle handle{b->model_id, m, backend};
  handle.max_batch = option.max_batch_size;
  handle.batch_delay_us = option.batch_delay_us;
  failure loaded;
  self
    ->request(scheduler, caf::infinite, load_atom::value, std::move(handle),
              b->where)
    .receive([&](failure& f) { loaded = std::move(f); },
             [&](caf::error& e) { loaded = to_failure(sys, e); });
  if (loaded) {
    caf::anon_send(scheduler, unload_atom::value, b->model_id);
    throw_error(loaded.code, loaded.message);
  }
  return b;
}

engine_actor spawn_engine(caf::actor_system& sys,
                          std::shared_ptr<engine_books> books) {
  unpinned_logger unpinned;
  auto actor = sys.spawn<caf::detached>(engine, books);
  books->intake = std::make_shared<job_intake>(actor);
  return actor;
}

engine_actor spawn_engine(caf::actor_system& sys, const topology& devices,
                          model_ptr m, const InferenceOption& option) {
  auto books = place_model(sys, devices.scheduler, devices.credit, m, option);
  books->count_in(devices.counters);
  return spawn_engine(sys, std::move(books));
}

} // namespace actorrt
