#include "actors/scheduler_actor.hpp"

#include <algorithm>

#include "actors/runtime_cpus.hpp"
#include "actors/spin.hpp"

namespace actorrt {

namespace {

using self_ptr = scheduler_actor::stateful_pointer<scheduler_state>;
using lane = scheduling_policy::lane;

/// "device:core", and the node's address for a remote core.
std::string core_name(const scheduler_state& st, size_t slot) {
  auto& r = st.policy.report(slot);
  auto name = std::to_string(r.device) + ":" + std::to_string(r.core);
  return r.host == st.local_host ? name : name + " on node " + r.host;
}

void fail(self_ptr self, const engine_actor& engine,
          const std::vector<job_id>& ids, errc code, const std::string& msg) {
  job_results results(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    results[i].id = ids[i];
    results[i].error = {code, msg};
  }
  self->send(engine, done_atom::value, std::move(results));
}

void drain(self_ptr self);
void fail_unservable(self_ptr self);

/// Core `slot` is gone (`why`): it takes nothing more, and jobs that no
/// core is left for say why.
void lose_core(scheduler_state& st, size_t slot, std::string why) {
  st.policy.set_alive(slot, false);
  st.last_lost = std::move(why);
}

void enqueue(self_ptr self, uint64_t model, const engine_actor& engine,
             std::vector<job> jobs, std::string lost = {}, bool first = false);
void end_lost_batch(self_ptr self, scheduler_state::outstanding& o,
                    const std::string& why);

void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (st.ticking || st.batches.empty())
    return;
  st.ticking = true;
  self->delayed_send(self, st.settings.tick, tick_atom::value);
}

void batch_answered(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto i = st.batches.find(seq);
  if (i == st.batches.end())
    return;
  st.policy.finished(i->second.slot, static_cast<int>(i->second.ids.size()),
                     i->second.bytes);
  if (i->second.late)
    st.policy.set_stalled(i->second.slot, false);
  st.batches.erase(i);
  drain(self);
}

void send_batch(self_ptr self, size_t slot, job_batch batch, size_t bytes) {
  auto& st = self->state;
  batch.alone
    = batch.jobs.size() == 1 && st.batches.empty() && st.queue.empty();
  runtime_jobs_alone(batch.alone);
  auto seq = ++st.last_batch;
  auto& o
    = st.batches
        .emplace(
          seq,
          scheduler_state::outstanding{
            slot, batch.engine, {}, bytes, self->clock().now(), false, 0, {}})
        .first->second;
  o.ids.reserve(batch.jobs.size());
  for (auto& j : batch.jobs)
    o.ids.push_back(j.id);
  if (st.policy.report(slot).host != st.local_host) {
    o.model = batch.model;
    o.kept = batch.jobs; // blobs are shared, not copied
  }
  schedule_tick(self);
  // Dead cores answer with an error (CAF bounces requests to them); stalled
  // ones are caught by the tick.
  batch.sent = now_ns();
  auto engine = batch.engine;
  self
    ->request(st.cores[slot], caf::infinite, run_atom::value, std::move(batch))
    .then(
      [self, seq, engine](job_results& results) {
        // A core on another host sends its last results with its answer.
        if (!results.empty())
          self->send(engine, done_atom::value, std::move(results));
        batch_answered(self, seq);
        linger(self); // the next submission is often a result's reaction
      },
      [self, seq](caf::error& e) {
        auto& st = self->state;
        auto i = st.batches.find(seq);
        if (i != st.batches.end()) {
          // A remote core only answers with an error when it or its
          // link is gone: take it out now, before its down message.
          auto why = "NPU core " + core_name(st, i->second.slot)
                     + " failed: " + self->system().render(e);
          if (!i->second.kept.empty())
            lose_core(st, i->second.slot, why);
          end_lost_batch(self, i->second, why);
        }
        batch_answered(self, seq);
        fail_unservable(self);
      });
}

void end_lost_batch(self_ptr self, scheduler_state::outstanding& o,
                    const std::string& why) {
  if (o.late)
    return; // ended already (timed out)
  if (o.kept.empty()) {
    fail(self, o.engine, o.ids, errc::device_io, why);
    return;
  }
  // Again, first in line; jobs no core can serve any more fail there
  // (fail_unservable), naming this core's node.
  enqueue(self, o.model, o.engine, std::move(o.kept), why, true);
  o.kept.clear();
  o.late = true;
}

/// Ends queued jobs whose deadline passed (Timeout) and drops those their
/// engine cancelled (it ended them).
void end_expired(self_ptr self) {
  auto& st = self->state;
  auto now = now_ns();
  for (auto w = st.queue.begin(); w != st.queue.end();) {
    auto& jobs = w->jobs;
    auto gone = std::remove_if(jobs.begin(), jobs.end(), [&](job& j) {
      if (j.control && j.control->cancelled())
        return true;
      if (!j.expired(now))
        return false;
      fail(self, w->engine, {j.id}, errc::timeout,
           "job " + std::to_string(j.id)
             + " passed its deadline before a core started it");
      return true;
    });
    jobs.erase(gone, jobs.end());
    w = jobs.empty() ? st.queue.erase(w) : std::next(w);
  }
}

/// Puts the queue in dispatch order: higher priority first, a level gained
/// per aging_ms waited (so no level waits forever), the order they were in
/// among equals. A queue of one level stays as it is (arrival order).
void order_by_priority(self_ptr self) {
  auto& st = self->state;
  auto first = st.queue.front().priority;
  if (std::all_of(st.queue.begin(), st.queue.end(),
                  [first](auto& w) { return w.priority == first; }))
    return;
  auto now = self->clock().now();
  auto level = [now](const scheduler_state::waiting& w) {
    auto waited
      = std::chrono::duration_cast<std::chrono::milliseconds>(now - w.since);
    return std::min<int64_t>(InferenceOption::max_priority,
                             w.priority
                               + waited.count() / InferenceOption::aging_ms);
  };
  std::stable_sort(st.queue.begin(), st.queue.end(),
                   [&](auto& a, auto& b) { return level(a) > level(b); });
}

/// Places queued jobs on cores with room; jobs bound for the same core,
/// model and engine travel as one batch.
void drain(self_ptr self) {
  auto& st = self->state;
  struct outgoing {
    size_t slot;
    job_batch batch;
    size_t bytes = 0; // its jobs' inputs
  };
  if (st.queue.empty() || !st.policy.has_room())
    return; // the tick ends expired jobs meanwhile
  std::vector<outgoing> out;
  end_expired(self);
  if (st.queue.empty())
    return;
  order_by_priority(self);
  // Every queued job can be served (unservable ones end on arrival or when
  // a core goes), so the scan stops as soon as no core has room.
  for (auto w = st.queue.begin();
       w != st.queue.end() && st.policy.has_room();) {
    auto& where = st.models.at(w->model).where;
    auto& jobs = w->jobs;
    size_t left = 0; // jobs no core takes now stay, in order
    for (size_t k = 0; k < jobs.size(); ++k) {
      auto bytes = total_bytes(jobs[k].inputs);
      auto slot = st.policy.has_room()
                    ? st.policy.pick(w->model, where, jobs[k].device, bytes)
                    : std::nullopt;
      if (!slot) {
        if (left != k)
          jobs[left] = std::move(jobs[k]);
        ++left;
        continue;
      }
      st.policy.started(*slot, 1, bytes);
      auto most = st.policy.message_bytes(*slot);
      auto same = std::find_if(out.begin(), out.end(), [&](const outgoing& o) {
        return o.slot == *slot && o.batch.model == w->model
               && o.batch.engine == w->engine
               && (most == 0 || o.bytes + bytes <= most);
      });
      if (same == out.end()) {
        same = out.insert(
          out.end(), outgoing{*slot, job_batch{w->model,
                                               w->engine,
                                               {},
                                               st.policy.report(*slot).device,
                                               st.policy.report(*slot).core}});
        same->batch.jobs.reserve(jobs.size() - k); // at most the rest
      }
      same->batch.jobs.push_back(std::move(jobs[k]));
      same->bytes += bytes;
    }
    jobs.resize(left);
    w = jobs.empty() ? st.queue.erase(w) : std::next(w);
  }
  for (auto& o : out)
    send_batch(self, o.slot, std::move(o.batch), o.bytes);
}

std::vector<job_id> ids_of(const std::vector<job>& jobs) {
  std::vector<job_id> ids;
  ids.reserve(jobs.size());
  for (auto& j : jobs)
    ids.push_back(j.id);
  return ids;
}

/// Why no core will ever run `model`'s jobs (`lost`: why they were on the
/// move), or nothing when one may.
std::optional<failure> unservable(const scheduler_state& st, uint64_t model,
                                  const std::string& lost) {
  auto m = st.models.find(model);
  if (m == st.models.end())
    return failure{errc::invalid_operation,
                   "the engine's model is no longer loaded (disposed?)"};
  // A job may run on any device its engine may use when its own cannot.
  if (!st.policy.can_serve(model, m->second.where, -1)) {
    auto& why = lost.empty() ? st.last_lost : lost;
    return failure{errc::device_io,
                   "no running NPU core that holds this engine's model "
                   "matches its devices and bound option"
                     + (why.empty() ? "" : " (" + why + ")")};
  }
  return std::nullopt;
}

/// Queues `jobs` of `engine`'s `model` (first in line with `first`), one
/// entry per priority level among them, or ends them if no core ever will
/// run them.
void enqueue(self_ptr self, uint64_t model, const engine_actor& engine,
             std::vector<job> jobs, std::string lost, bool first) {
  auto& st = self->state;
  if (jobs.empty())
    return;
  if (auto why = unservable(st, model, lost)) {
    fail(self, engine, ids_of(jobs), why->code, why->message);
    return;
  }
  auto higher
    = [](const job& a, const job& b) { return a.priority > b.priority; };
  if (!std::is_sorted(jobs.begin(), jobs.end(), higher))
    std::stable_sort(jobs.begin(), jobs.end(), higher);
  // One entry per level, each keeping its run of the batch in one piece
  // (the whole batch, when its jobs share a level).
  std::vector<scheduler_state::waiting> levels;
  for (auto run = jobs.begin(); run != jobs.end();) {
    auto end = std::find_if(run, jobs.end(), [&](const job& j) {
      return j.priority != run->priority;
    });
    levels.push_back(
      {model, engine, {}, run->priority, lost, self->clock().now()});
    if (run == jobs.begin() && end == jobs.end()) {
      levels.back().jobs = std::move(jobs);
      break;
    }
    levels.back().jobs.assign(std::make_move_iterator(run),
                              std::make_move_iterator(end));
    run = end;
  }
  st.queue.insert(first ? st.queue.begin() : st.queue.end(),
                  std::make_move_iterator(levels.begin()),
                  std::make_move_iterator(levels.end()));
}

/// Ends the queued jobs no core will ever run (after a core stopped, a
/// model was unloaded or a lane failed to load).
void fail_unservable(self_ptr self) {
  auto& st = self->state;
  for (auto w = st.queue.begin(); w != st.queue.end();) {
    if (auto why = unservable(st, w->model, w->lost)) {
      fail(self, w->engine, ids_of(w->jobs), why->code, why->message);
      w = st.queue.erase(w);
    } else {
      ++w;
    }
  }
}

void tick(self_ptr self) {
  auto& st = self->state;
  st.ticking = false;
  // The actor clock, not the wall: tests drive it deterministically.
  auto overdue = self->clock().now() - st.settings.core_timeout;
  for (auto& [seq, o] : st.batches) {
    if (o.late || o.sent > overdue)
      continue;
    o.late = true;
    st.policy.set_stalled(o.slot, true);
    fail(self, o.engine, o.ids, errc::timeout,
         "NPU core " + core_name(st, o.slot) + " did not answer within "
           + std::to_string(st.settings.core_timeout.count()) + " ms");
  }
  end_expired(self);
  schedule_tick(self);
  drain(self);
}

/// Asks core `slot` to load `entry`'s model; the lane is ready when it says.
/// Returns false when the core may not hold it.
bool load_on(self_ptr self, size_t slot,
             const scheduler_state::model_entry& entry,
             std::function<void(failure)> done, bool ship = false) {
  auto& st = self->state;
  auto& core = st.policy.report(slot);
  if (!core.alive || !entry.where.allows(core.device, core.core))
    return false;
  auto model = entry.handle.id;
  st.policy.set_lane(slot, model, lane::loading);
  // A node gets a model's bytes at most once: one of its cores asks for
  // them, the others then load it by digest (their loads wait for it).
  auto handle = entry.handle;
  auto& host = core.host;
  std::string shipping_key;
  if (host != st.local_host) {
    auto key = host + "|" + handle.ptr->digest();
    auto first = st.shipped[host].insert(handle.ptr->digest()).second;
    if (!first && !ship) {
      auto waiting = st.shipping.find(key);
      if (waiting != st.shipping.end()) {
        waiting->second.push_back([self, slot, model, done] {
          auto& st = self->state;
          auto e = st.models.find(model);
          if (e == st.models.end() || !load_on(self, slot, e->second, done))
            done(failure{errc::invalid_operation, "model unloaded"});
        });
        return true;
      }
    }
    // The first load asks by digest: the node may hold the model already
    // (another client's). One without it answers send_model_bytes, and
    // gets the bytes.
    handle.ship = ship;
    if (first || ship) {
      st.shipping.emplace(key, std::vector<std::function<void()>>{});
      shipping_key = key;
    }
  }
  // The lane's state once the core answered (unless unloaded meanwhile).
  auto settle
    = [self, slot, model, done, shipping_key](failure f, std::string backend) {
        auto& st = self->state;
        std::vector<std::function<void()>> waiting;
        if (auto i = st.shipping.find(shipping_key); i != st.shipping.end()) {
          waiting = std::move(i->second);
          st.shipping.erase(i);
        }
        auto entry = st.models.find(model);
        if (f && backend == send_model_bytes && entry != st.models.end()) {
          load_on(self, slot, entry->second, done, true);
          // The others wait for the bytes now on their way.
          if (auto i = st.shipping.find(shipping_key); i != st.shipping.end()) {
            for (auto& load : waiting)
              i->second.push_back(std::move(load));
            waiting.clear();
          }
        } else {
          if (entry != st.models.end()) {
            st.policy.set_lane(slot, model, f ? lane::failed : lane::ready,
                               std::move(backend));
          }
          done(std::move(f));
        }
        for (auto& load : waiting)
          load();
        fail_unservable(self);
        drain(self);
      };
  // Bounded like every request to a core: a stalled core fails the load
  // (and so the engine's construction) instead of hanging it.
  self
    ->request(st.cores[slot], st.settings.core_timeout, load_atom::value,
              std::move(handle))
    .then(
      [settle](failure& f, std::string& backend) {
        settle(std::move(f), std::move(backend));
      },
      [self, slot, settle](caf::error& e) {
        auto code
          = e == caf::sec::request_timeout ? errc::timeout : errc::device_io;
        settle(
          {code, "NPU core " + core_name(self->state, slot)
                   + " did not load the model: " + self->system().render(e)},
          {});
      });
  return true;
}

void join(self_ptr self, npu_core_actor core, core_report report) {
  auto& st = self->state;
  auto key = report.device_key.empty() ? std::to_string(report.device)
                                       : report.device_key;
  auto number = st.device_numbers.emplace(
    key, static_cast<int>(st.device_numbers.size()));
  report.device = number.first->second;
  if (st.settings.credit)
    st.settings.credit->add_device(report.device);
  self->monitor(core);
  st.last_lost.clear(); // a core to run on again: an older loss is moot
  // A worker node's core takes its inputs in parts; one of this process
  // shares them.
  core_byte_bounds bounds;
  if (report.host != st.local_host)
    bounds = {st.settings.remote_batch_bytes, st.settings.remote_core_bytes};
  auto slot = st.policy.add_core(std::move(report), bounds);
  st.cores.push_back(std::move(core));
  // Models loaded before this core came: it gets them before any job.
  for (auto& [id, entry] : st.models)
    load_on(self, slot, entry, [](failure) {});
}

struct load_fanout {
  caf::typed_response_promise<failure> promise;
  size_t pending = 0;
  failure first_error;
};

caf::typed_response_promise<failure> load(self_ptr self, model_handle& m,
                                          placement& where) {
  auto& st = self->state;
  auto& entry = st.models[m.id] = {std::move(m), std::move(where)};
  auto fan = std::make_shared<load_fanout>();
  fan->promise = self->make_response_promise<failure>();
  auto reply = [fan](failure f) {
    if (f && !fan->first_error)
      fan->first_error = std::move(f);
    if (--fan->pending == 0)
      fan->promise.deliver(fan->first_error);
  };
  for (size_t slot = 0; slot < st.cores.size(); ++slot)
    if (load_on(self, slot, entry, reply))
      ++fan->pending;
  if (fan->pending == 0)
    fan->promise.deliver(failure{errc::invalid_argument,
                                 "no running NPU core matches the engine's "
                                 "devices and bound option"});
  return fan->promise;
}

void unload(self_ptr self, uint64_t model) {
  auto& st = self->state;
  auto gone = st.models.find(model);
  if (gone != st.models.end()) {
    // Once no engine here holds these bytes, a node may drop them: ship
    // them again next time.
    auto digest = gone->second.handle.ptr->digest();
    st.models.erase(gone);
    bool held = false;
    for (auto& [id, entry] : st.models)
      held = held || entry.handle.ptr->digest() == digest;
    if (!held)
      for (auto& [host, digests] : st.shipped)
        digests.erase(digest);
  }
  st.policy.forget_model(model);
  for (auto& core : st.cores)
    self->send(core, unload_atom::value, model);
  fail_unservable(self);
}

void core_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (size_t slot = 0; slot < st.cores.size(); ++slot)
    if (st.cores[slot].address() == msg.source) {
      lose_core(st, slot,
                "NPU core " + core_name(st, slot)
                  + " stopped: " + self->system().render(msg.reason));
      auto& lost = st.policy.report(slot);
      st.shipped.erase(lost.host); // a node back there is new
      if (st.settings.credit && !st.policy.device_alive(lost.device))
        st.settings.credit->remove_device(lost.device);
    }
  // Its batches end here: a dead core's answers may never come.
  for (auto i = st.batches.begin(); i != st.batches.end();) {
    auto& o = i->second;
    if (st.policy.alive(o.slot)) {
      ++i;
      continue;
    }
    end_lost_batch(self, o,
                   "NPU core " + core_name(st, o.slot)
                     + " stopped: " + self->system().render(msg.reason));
    st.policy.finished(o.slot, static_cast<int>(o.ids.size()), o.bytes);
    i = st.batches.erase(i);
  }
  // Queued jobs that no living core can take end now, not never.
  fail_unservable(self);
  drain(self);
}

} // namespace

scheduler_actor::behavior_type
scheduler(scheduler_actor::stateful_pointer<scheduler_state> self,
          scheduler_settings settings) {
  self->state.settings = settings;
  self->state.policy = scheduling_policy{settings.core_depth};
  self->state.local_host = host_name(self->system());
  self->set_down_handler([self](caf::down_msg& msg) { core_down(self, msg); });
  return {
    [=](join_atom, npu_core_actor& core, core_report& report) {
      join(self, std::move(core), std::move(report));
    },
    [=](load_atom, model_handle& m, placement& where) {
      return load(self, m, where);
    },
    [=](unload_atom, uint64_t model) { unload(self, model); },
    [=](submit_atom, job_batch& batch) {
      enqueue(self, batch.model, batch.engine, std::move(batch.jobs));
      drain(self);
    },
    [=](report_atom) { return self->state.policy.reports(); },
    [=](tick_atom) { tick(self); },
  };
}

} // namespace actorrt
