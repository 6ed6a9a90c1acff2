#include "actorrt/inference_engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "actors/engine_actor.hpp"
#include "actors/interruptible_wait.hpp"
#include "actors/runtime.hpp"
#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/warnings.hpp"
#include "engine_on_runtime.hpp"
#include "observability/trace.hpp"

namespace actorrt {

struct InferenceEngine::impl {
  std::string path;
  InferenceOption option;
  EngineSettings settings;
  std::shared_ptr<runtime> rt;
  std::shared_ptr<engine_books> books;
  engine_actor engine; // every job's results come back here
  std::atomic<bool> disposed{false};
  std::once_flag dispose_once;
  // Held (shared) by every submission from its checks to its send, so
  // Dispose knows when no half-submitted job can still appear.
  std::shared_mutex submitting;

  void check_open() const {
    if (disposed.load(std::memory_order_acquire))
      throw InvalidOperation("InferenceEngine already disposed");
    if (rt->forked())
      throw InvalidOperation(
        "this InferenceEngine was made before fork(): its threads stayed in "
        "the parent process; make a new InferenceEngine in this one");
  }

  /// Waits for job `id` (at most `timeout`; max: unbounded), giving the
  /// settings' interrupt its chances.
  job_table::outcome wait(job_id id, std::chrono::milliseconds timeout) {
    using namespace std::chrono;
    job_table::outcome out;
    auto deadline = timeout == milliseconds::max()
                      ? steady_clock::time_point::max()
                      : steady_clock::now() + timeout;
    bool ended = wait_interruptibly(
      [&](milliseconds slice) {
        try {
          out = books->table.wait(id, slice);
          return true;
        } catch (const Timeout&) {
          return false;
        }
      },
      deadline, settings.interrupt);
    if (!ended)
      throw Timeout("job " + std::to_string(id) + " did not finish within "
                    + std::to_string(timeout.count()) + " ms");
    return out;
  }

  /// Waits for the engine actor's thread to end, at most until `deadline`
  /// (a callback that still runs then ends on its own).
  void wait_for_exit(std::chrono::steady_clock::time_point deadline) {
    auto ended = std::make_shared<std::promise<void>>();
    auto future = ended->get_future();
    engine->attach_functor([ended] { ended->set_value(); });
    wait_interruptibly(
      [&](std::chrono::milliseconds slice) {
        return future.wait_for(slice) == std::future_status::ready;
      },
      deadline, settings.interrupt);
  }

  const model& m() const {
    return *books->model;
  }

  /// The engine actor's figures and latest outputs.
  engine_report report() const {
    check_open();
    return report_of(rt->system(), engine, *books);
  }

  tensors finish(job_table::outcome r) {
    if (r.error)
      throw_error(r.error.code, r.error.message);
    return std::move(r.outputs);
  }

  /// Every job's start (RunAsync, Run, RunBatch): its id.
  uint64_t submit(const std::vector<blob>& inputs, job_ticket ticket,
                  std::vector<blob> outputs, const JobOptions& job = {}) {
    std::shared_lock<std::shared_mutex> guard{submitting};
    check_open();
    return books->submit(inputs, std::move(outputs), std::move(ticket), job);
  }

  /// A job submitted and waited for.
  tensors run(const std::vector<blob>& inputs, job_ticket ticket,
              std::vector<blob> outputs, const JobOptions& job = {}) {
    if (on_engine_thread(books.get()))
      throw InvalidOperation("Run inside a callback would wait for the "
                             "thread that delivers its result; use RunAsync "
                             "there");
    auto id = submit(inputs, std::move(ticket), std::move(outputs), job);
    try {
      check_open();
      return finish(wait(id, std::chrono::milliseconds::max()));
    } catch (...) {
      books->table.abandon(id); // given up: its result is not kept
      throw;
    }
  }
};

namespace {

/// The ticket of a job its callback sees with `user_arg`.
job_ticket ticket_for(void* user_arg, std::shared_ptr<void> keep) {
  job_ticket t;
  t.ptr = user_arg;
  t.keep = std::move(keep);
  return t;
}

void warn_ort_once() {
  warn_once("use_ort=True, but " + ort_load_error()
            + ": CPU lanes run on OpenCV DNN");
}

/// Says once per path that a .dxnn path loads the ONNX model beside it.
void say_stand_in(const std::string& path) {
  auto onnx = onnx_stand_in(path);
  if (onnx != path)
    warn_once("loading " + onnx + " in place of " + path
              + " (DX-RT's compiled format is not read here)");
}

} // namespace

void SetWarningHandler(std::function<void(const std::string&)> fn) {
  set_warning_handler(std::move(fn));
}

void InferenceEngine::impl_deleter::operator()(impl* state) const {
  delete state;
}

InferenceEngine::state_ptr open_engine(std::shared_ptr<runtime> rt,
                                       const std::string& model_path,
                                       const InferenceOption& option,
                                       EngineSettings settings) {
  option.validate();
  if (option.use_ort && !ort_available())
    warn_ort_once();
  InferenceEngine::state_ptr state{new InferenceEngine::impl};
  auto& d = *state;
  d.path = model_path;
  d.option = option;
  d.settings = std::move(settings);
  d.rt = rt ? std::move(rt)
         : d.settings.devices.empty()
           ? runtime::shared()
           : runtime::shared(parse_devices(d.settings.devices));
  auto m = model::load(model_path);
  say_stand_in(model_path);
  auto& sys = d.rt->system();
  d.books = place_model(sys, d.rt->scheduler(), d.rt->credit(), m, option,
                        {d.settings.retention, d.settings.retention_bytes,
                         d.settings.retention_without_callback});
  d.books->interrupt = d.settings.interrupt;
  d.books->blocking_scope = d.settings.blocking_scope;
  d.books->count_in(d.rt->counters());
  d.engine = spawn_engine(sys, d.books);
  return state;
}

InferenceEngine::InferenceEngine(const std::string& model_path,
                                 const InferenceOption& option,
                                 EngineSettings settings)
  : InferenceEngine(
    open_engine(nullptr, model_path, option, std::move(settings))) {}

InferenceEngine::InferenceEngine(state_ptr state) : impl_(std::move(state)) {}

InferenceEngine::~InferenceEngine() {
  if (impl_->rt->forked()) {
    // The parent's threads and locks are not here; freeing would touch them.
    static_cast<void>(impl_.release());
    return;
  }
  auto& d = *impl_;
  if (on_engine_thread(d.books.get()) && !d.disposed.exchange(true)) {
    // Dropped inside its own callback: end it without waiting for this
    // very thread. Cancel, then exit, in the order the actor reads them.
    d.books->closed.store(true, std::memory_order_release);
    d.rt->credit()->wake_all();
    caf::anon_send(d.engine, cancel_atom::value,
                   std::string("InferenceEngine destroyed inside its own "
                               "callback before the job finished"));
    caf::anon_send_exit(d.engine, caf::exit_reason::user_shutdown);
    return;
  }
  try {
    Dispose();
  } catch (...) {
    // a destructor must not throw
  }
}

tensors InferenceEngine::Run(const std::vector<blob>& inputs,
                             std::vector<blob> outputs) {
  return Run(inputs, JobOptions{}, std::move(outputs));
}

tensors InferenceEngine::Run(const std::vector<blob>& inputs, void* user_arg,
                             std::shared_ptr<void> keep,
                             std::vector<blob> outputs) {
  return Run(inputs, JobOptions{}, user_arg, std::move(keep),
             std::move(outputs));
}

tensors InferenceEngine::Run(const std::vector<blob>& inputs,
                             const JobOptions& job, std::vector<blob> outputs) {
  job_ticket t;
  t.silent = true;
  return impl_->run(inputs, std::move(t), std::move(outputs), job);
}

tensors InferenceEngine::Run(const std::vector<blob>& inputs,
                             const JobOptions& job, void* user_arg,
                             std::shared_ptr<void> keep,
                             std::vector<blob> outputs) {
  return impl_->run(inputs, ticket_for(user_arg, std::move(keep)),
                    std::move(outputs), job);
}

uint64_t InferenceEngine::RunAsync(const std::vector<blob>& inputs,
                                   const JobOptions& job, void* user_arg,
                                   std::shared_ptr<void> keep,
                                   std::vector<blob> outputs) {
  return impl_->submit(inputs, ticket_for(user_arg, std::move(keep)),
                       std::move(outputs), job);
}

InferenceEngine::CancelResult InferenceEngine::Cancel(uint64_t job_id) {
  impl_->check_open();
  switch (impl_->books->cancel(job_id, impl_->engine)) {
    case job_control::cancel_result::not_started:
      return CancelResult::NotStarted;
    case job_control::cancel_result::running:
      return CancelResult::Running;
    case job_control::cancel_result::ended:
      break;
  }
  throw InvalidArgument("job " + std::to_string(job_id)
                        + " has ended or was cancelled already");
}

tensors InferenceEngine::Run(const void* input, size_t bytes) {
  return Run({blob::borrow(const_cast<void*>(input), bytes, nullptr)});
}

uint64_t InferenceEngine::RunAsync(const std::vector<blob>& inputs,
                                   void* user_arg, std::shared_ptr<void> keep,
                                   std::vector<blob> outputs) {
  return RunAsync(inputs, JobOptions{}, user_arg, std::move(keep),
                  std::move(outputs));
}

tensors InferenceEngine::Wait(uint64_t job_id) {
  return Wait(job_id, std::chrono::milliseconds::max());
}

tensors InferenceEngine::Wait(uint64_t job_id,
                              std::chrono::milliseconds timeout) {
  impl_->check_open();
  auto& table = impl_->books->table;
  if (on_engine_thread(impl_->books.get())) {
    // Inside a callback: this thread delivers results, so waiting for one
    // that has not arrived would never end.
    try {
      return impl_->finish(table.wait(job_id, std::chrono::milliseconds(0)));
    } catch (const Timeout&) {
      throw InvalidOperation("Wait(" + std::to_string(job_id)
                             + ") inside a callback: that job has not "
                               "finished, and waiting here would deadlock");
    }
  }
  return impl_->finish(impl_->wait(job_id, timeout));
}

void InferenceEngine::RegisterCallback(Callback fn) {
  RegisterCallback(std::move(fn), nullptr);
}

void InferenceEngine::RegisterCallback(Callback fn, CallbackScope scope) {
  impl_->check_open();
  if (!fn) {
    impl_->books->intake->set_callback({});
    return;
  }
  impl_->books->intake->set_callback(
    {[fn = std::move(fn)](const tensors& outputs, void* user_arg,
                          const failure& error) {
       fn(outputs, user_arg, error);
     },
     std::move(scope)});
}

void InferenceEngine::SetCallbackErrorHandler(
  std::function<void(uint64_t, const std::string&)> fn) {
  impl_->books->intake->set_error_handler(std::move(fn));
}

void InferenceEngine::RunBatch(const std::vector<std::vector<blob>>& inputs,
                               const std::vector<std::vector<blob>>& outputs) {
  auto& d = *impl_;
  d.check_open();
  if (inputs.size() != outputs.size())
    throw InvalidArgument("RunBatch got " + std::to_string(inputs.size())
                          + " inputs but " + std::to_string(outputs.size())
                          + " output buffers");
  for (size_t i = 0; i < outputs.size(); ++i) {
    try {
      int64_t batch = 1;
      bind_inputs(d.m().inputs(), inputs[i], &batch);
      bind_outputs(d.m().outputs(), outputs[i], batch);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("RunBatch item " + std::to_string(i) + ": "
                            + e.what());
    }
  }
  std::vector<uint64_t> ids;
  ids.reserve(inputs.size());
  // Everything in flight ends before an error propagates: no job outlives
  // the caller's buffers.
  std::exception_ptr first_error;
  try {
    // Silent, like Run: the batch's own jobs, waited for below.
    for (size_t i = 0; i < inputs.size(); ++i) {
      job_ticket t;
      t.silent = true;
      ids.push_back(d.submit(inputs[i], std::move(t), outputs[i]));
    }
  } catch (...) {
    first_error = std::current_exception();
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    try {
      impl_->finish(impl_->wait(ids[i], std::chrono::milliseconds::max()));
    } catch (const Error&) { // the job's own
      if (!first_error)
        first_error = std::current_exception();
    } catch (...) { // interrupted: the rest goes on unwaited
      for (size_t j = i; j < ids.size(); ++j)
        impl_->books->table.abandon(ids[j]);
      throw;
    }
  }
  if (first_error)
    std::rethrow_exception(first_error);
}

double InferenceEngine::RunBenchmark(int num, const std::vector<blob>& inputs) {
  impl_->check_open();
  if (num <= 0)
    throw InvalidArgument("RunBenchmark needs a positive number of jobs, got "
                          + std::to_string(num));
  size_t chunk = 2 * static_cast<size_t>(GetMaxInFlight());
  std::vector<std::vector<blob>> in(chunk, inputs);
  std::vector<std::vector<blob>> out;
  for (size_t i = 0; i < chunk; ++i)
    out.push_back({blob::allocate(GetOutputSize())});
  auto start = std::chrono::steady_clock::now();
  for (int done = 0; done < num; done += static_cast<int>(in.size())) {
    size_t n = std::min<size_t>(chunk, num - done);
    in.resize(n);
    out.resize(n);
    RunBatch(in, out);
  }
  std::chrono::duration<double> secs = std::chrono::steady_clock::now() - start;
  return num / secs.count();
}

uint64_t InferenceEngine::GetInputSize() const {
  impl_->check_open();
  return impl_->m().input_size();
}

uint64_t InferenceEngine::GetOutputSize() const {
  impl_->check_open();
  return impl_->m().output_size();
}

const std::vector<tensor_info>& InferenceEngine::GetInputs() const {
  impl_->check_open();
  return impl_->m().inputs();
}

const std::vector<tensor_info>& InferenceEngine::GetOutputs() const {
  impl_->check_open();
  return impl_->m().outputs();
}

std::string InferenceEngine::GetModelVersion() const {
  impl_->check_open();
  return "ONNX opset " + std::to_string(impl_->m().opset());
}

std::string Version() {
  return ACTORRT_VERSION;
}

std::string OnnxRuntimeVersion() {
  return ort_version();
}

std::string DescribeModel(const std::string& path) {
  auto m = model::load(path);
  return describe(*m) + describe_backends(probe_backends(*m));
}

const std::string& InferenceEngine::GetModelName() const {
  impl_->check_open();
  return impl_->m().name();
}

stats_summary InferenceEngine::GetLatency() const {
  return impl_->report().latency;
}

stats_summary InferenceEngine::GetNpuInferenceTime() const {
  return impl_->report().npu_time;
}

std::vector<int64_t> InferenceEngine::GetLatencyVector() const {
  return impl_->report().latency_recent;
}

std::vector<int64_t> InferenceEngine::GetNpuInferenceTimeVector() const {
  return impl_->report().npu_time_recent;
}

Validation InferenceEngine::Validate(const std::vector<blob>& inputs,
                                     int device_id) const {
  impl_->check_open();
  auto& d = *impl_;
  Validation v;
  InferenceOption on_device = d.option;
  on_device.devices = {device_id};
  EngineSettings same_runtime;
  same_runtime.interrupt = d.settings.interrupt;
  InferenceEngine device{open_engine(d.rt, d.path, on_device, same_runtime)};
  v.outputs = device.Run(inputs);
  v.device_lanes = device.GetLaneBackends();
  InferenceOption reference_option;
  reference_option.use_ort = !d.option.use_ort;
  EngineSettings own_lane;
  own_lane.devices = "cpu:1";
  own_lane.interrupt = d.settings.interrupt;
  InferenceEngine reference{d.path, reference_option, own_lane};
  auto expected = reference.Run(inputs);
  v.reference_lanes = reference.GetLaneBackends();
  for (size_t i = 0; i < v.outputs.size(); ++i) {
    auto& a = v.outputs[i].bytes;
    auto& b = expected[i].bytes;
    std::vector<uint8_t> match(a.size, 0);
    for (size_t k = 0; k < a.size && k < b.size; ++k)
      match[k] = a.data[k] == b.data[k];
    v.matches.push_back(std::move(match));
  }
  return v;
}

int InferenceEngine::GetMaxInFlight() const {
  impl_->check_open();
  auto& b = *impl_->books;
  auto devices = b.devices.empty() ? b.credit->device_count()
                                   : static_cast<int>(b.devices.size());
  return b.buffer_count * devices;
}

int InferenceEngine::GetPeakInFlight() const {
  impl_->check_open();
  return impl_->books->table.peak_open();
}

size_t InferenceEngine::GetHeldResults() const {
  impl_->check_open();
  return impl_->books->table.held();
}

void StartTrace(const std::string& path) {
  trace::start(path);
}

size_t StopTrace() {
  return trace::stop();
}

namespace {

double mean_batch(uint64_t jobs, uint64_t runs) {
  return runs ? double(jobs) / double(runs) : 0.0;
}

DurationStats duration_stats(const histogram& h) {
  auto s = h.read();
  return {s.count,
          s.mean() / 1e3,
          s.quantile(0.5) / 1e3,
          s.quantile(0.9) / 1e3,
          s.quantile(0.99) / 1e3,
          double(s.max) / 1e3};
}

} // namespace

EngineStats InferenceEngine::GetStats() const {
  impl_->check_open();
  auto& b = *impl_->books;
  auto& m = b.counters;
  EngineStats s;
  s.seconds = double(now_ns() - m.started_ns) / 1e9;
  s.jobs_done = m.done.load();
  s.jobs_failed = m.failed.load();
  s.in_flight = b.table.open_count();
  s.peak_in_flight = b.table.peak_open();
  s.held_results = b.table.held();
  s.runs = m.runs.load();
  s.mean_batch = mean_batch(s.jobs_done + s.jobs_failed, s.runs);
  s.latency = duration_stats(m.latency);
  s.queue = duration_stats(m.queue);
  s.compute = duration_stats(m.compute);
  auto counted = m.cores();
  for (auto& r : impl_->rt->report()) {
    auto lane = r.lanes.find(b.model_id);
    auto c = counted.find({r.device, r.core});
    if (lane == r.lanes.end() && c == counted.end())
      continue; // neither holds the model nor ran a job of it
    CoreStats cs;
    cs.device = r.device;
    cs.core = r.core;
    cs.host = r.host;
    cs.backend = lane != r.lanes.end() ? lane->second : "";
    cs.simulated = r.simulated;
    cs.in_flight = r.in_flight;
    if (c != counted.end()) {
      cs.jobs_done = c->second->done.load();
      cs.jobs_failed = c->second->failed.load();
      cs.compute = duration_stats(c->second->compute);
      cs.mean_batch
        = mean_batch(cs.jobs_done + cs.jobs_failed, c->second->runs.load());
      cs.utilisation = s.seconds > 0 ? cs.compute.total() / 1e3 / s.seconds : 0;
    }
    s.cores.push_back(std::move(cs));
  }
  return s;
}

std::vector<std::string> InferenceEngine::GetLaneBackends() const {
  impl_->check_open();
  std::vector<std::string> result;
  for (auto& c : impl_->rt->report()) {
    auto lane = c.lanes.find(impl_->books->model_id);
    if (c.alive && lane != c.lanes.end())
      result.push_back(std::to_string(c.device) + ":" + std::to_string(c.core)
                       + " " + lane->second);
  }
  return result;
}

tensors InferenceEngine::GetLatestOutputs() const {
  return impl_->report().latest;
}

bool InferenceEngine::IsSimulated() const {
  impl_->check_open();
  return impl_->books->simulated;
}

std::vector<std::string> InferenceEngine::GetDevices() const {
  impl_->check_open();
  std::vector<std::string> names;
  for (auto& d : impl_->rt->devices())
    names.push_back(to_string(d));
  return names;
}

size_t InferenceEngine::Dispose() {
  return Dispose(impl_->settings.dispose_timeout);
}

size_t InferenceEngine::Dispose(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (d.rt->forked()) {
    d.disposed.store(true, std::memory_order_release);
    return 0;
  }
  if (on_engine_thread(d.books.get())) {
    // Never wait here: the disposal under way waits for this callback.
    if (d.disposed.load(std::memory_order_acquire))
      return 0;
    throw InvalidOperation("Dispose inside a callback would wait for the "
                           "callback itself; dispose from another thread");
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // An interrupt thrown below leaves the flag unset: the next call resumes.
  size_t cancelled = 0; // by this call (a later one finds nothing to do)
  std::call_once(d.dispose_once, [&d, &cancelled, deadline] {
    d.disposed.store(true, std::memory_order_release);
    d.books->closed.store(true, std::memory_order_release);
    d.rt->credit()->wake_all(); // submitters blocked for credit give up
    { // every job submitted so far is in the table after this
      std::unique_lock<std::shared_mutex> no_submissions{d.submitting};
    }
    cancelled = d.books->cancel_queued(
      d.engine, "InferenceEngine disposed before the job started");
    bool idle = wait_interruptibly(
      [&d](std::chrono::milliseconds slice) {
        return d.books->table.wait_idle(slice);
      },
      deadline, d.settings.interrupt);
    if (!idle) {
      // Cancelled on the engine's own thread, like every other ending. A
      // callback that still runs past the deadline delays the answer, not
      // Dispose: the actor cancels once it returns.
      unpinned_logger unpinned;
      caf::scoped_actor self{d.rt->system()};
      auto left
        = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                     deadline - std::chrono::steady_clock::now()),
                   std::chrono::milliseconds(100));
      self
        ->request(d.engine, left, cancel_atom::value,
                  std::string("InferenceEngine disposed before the job "
                              "finished"))
        .receive([&cancelled](uint64_t n) { cancelled += n; },
                 [](caf::error&) {});
    }
    // Its exit unloads the model. Wait for its thread (bounded): no
    // callback (a Python callable, say) should outlive Dispose.
    caf::anon_send_exit(d.engine, caf::exit_reason::user_shutdown);
    d.wait_for_exit(std::max(deadline, std::chrono::steady_clock::now()
                                         + std::chrono::milliseconds(100)));
    d.books->intake->close();
  });
  return cancelled;
}

} // namespace actorrt
