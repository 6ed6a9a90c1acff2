// One per engine, detached: on every job's path, in and out. Callers open
// jobs and hand them over through the engine's intake; the actor keeps
// what it needs of each (its ticket), sends them to the scheduler, and ends
// each exactly once on its own thread: statistics, callback, the result for
// Wait, the admission credit.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "actors/admission.hpp"
#include "actors/job_intake.hpp"
#include "actors/job_table.hpp"
#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "core/inference_option.hpp"
#include "core/metrics.hpp"
#include "core/stats.hpp"

namespace actorrt {

/// What an engine's callers (who open jobs and wait) and its actor (who
/// ends them) share: the placed model and its settings, the admission
/// credit, the per-job promises (table) and the way in (intake).
struct engine_books {
  explicit engine_books(result_retention retention) : table(retention) {}

  model_ptr model;
  uint64_t model_id = 0;
  placement where;
  std::vector<int> devices; // the devices it may use (empty: all, also later)
  int buffer_count = 6;     // credit per device
  int timeout_ms = 0;       // its jobs' defaults (InferenceOption)
  int priority = InferenceOption::normal_priority;
  bool simulated = false; // every core it may use is a simulated NPU
  scheduler_actor scheduler;
  std::shared_ptr<admission> credit;
  std::atomic<bool> closed{false}; // no new jobs (Dispose)
  /// Runs every 100 ms while a submitter waits for credit; may throw to
  /// give up (a binding raises Ctrl-C there). Set before the first job.
  std::function<void()> interrupt;
  /// Runs a submitter's wait for credit (see admission::acquire).
  std::function<void(const std::function<void()>&)> blocking_scope;

  job_table table;
  metrics counters;         // this engine's jobs, per core too
  uint32_t trace_track = 0; // its result thread's track in a trace
  /// Counts `counters` in the process's totals (its runtime's metrics)
  /// while these books live, and for good after.
  void count_in(std::shared_ptr<process_metrics> totals);
  ~engine_books();

  /// Every job's start, whoever submits it: binds the inputs (and the
  /// caller's output buffers) to the model, takes a credit (blocking unless
  /// on a result thread, where blocking could deadlock), opens the job and
  /// hands it to the engine actor through the intake. Returns its id.
  /// Throws InvalidArgument for bad buffers or terms, InvalidOperation once
  /// closed. A timeout counts from this call.
  job_id submit(const std::vector<blob>& inputs, std::vector<blob> outputs,
                job_ticket ticket, const JobOptions& terms = {});
  job_intake_ptr intake; // set once the engine actor exists

  /// Cancels open job `id` (see job_control::cancel): one not started is
  /// ended by `engine` with Cancelled (a message: it ends jobs, once).
  /// Throws InvalidArgument for an id never issued or a job that ended.
  job_control::cancel_result cancel(job_id id, const engine_actor& engine);
  /// Cancels every open job no core has started; returns how many.
  size_t cancel_queued(const engine_actor& engine, const std::string& why);

private:
  std::shared_ptr<process_metrics> process_;
};

/// True on the thread of `books`' engine actor (any engine's when null):
/// inside a callback, where Wait on an open job, a blocking RunAsync or
/// Dispose would wait for this very thread.
bool on_engine_thread(const engine_books* books = nullptr);

struct engine_state {
  std::shared_ptr<engine_books> books;
  /// Jobs handed over and not yet ended: ending one takes it out, so each
  /// ends once.
  std::unordered_map<job_id, job_ticket> open;
  job_callback callback;
  job_callback::error_handler on_error;
  /// DX-RT's lists: submitted → outputs ready, and compute on the core
  /// (jobs that ran), µs.
  recent_samples recent_latency, recent_npu_time;
  tensors latest;       // of the latest job to succeed (a batch's last)
  job_results finished; // arrived, not yet ended (see the done handler)
  std::unordered_map<job_id, caf::typed_response_promise<tensors>> clients;
  /// The books' per-core counters, found once (no lock per job).
  std::map<std::pair<int, int>, core_metrics*> core_counters;

  static inline const char* name = "actorrt.engine";
};

/// The behaviour of an engine actor (see engine_actor in messages.hpp). On
/// exit it unloads the model from the cores.
engine_actor::behavior_type
engine(engine_actor::stateful_pointer<engine_state> self,
       std::shared_ptr<engine_books> books);

/// Loads `m` on every core `option` allows, blocking until they answer,
/// and makes the engine's books. Throws InvalidModel or InvalidArgument.
std::shared_ptr<engine_books>
place_model(caf::actor_system& sys, const scheduler_actor& scheduler,
            std::shared_ptr<admission> credit, model_ptr m,
            const InferenceOption& option, result_retention retention = {});

/// What `engine` tells of its jobs (see engine_report): asked, or read
/// directly on its own thread (inside a callback, where asking would wait
/// for this very thread). Throws DeviceIO if it has ended.
engine_report report_of(caf::actor_system& sys, const engine_actor& engine,
                        const engine_books& books);

/// Spawns the engine actor (detached) for placed `books` and opens its
/// intake.
engine_actor spawn_engine(caf::actor_system& sys,
                          std::shared_ptr<engine_books> books);

/// Set-up step for programs with their own actor system: place_model on
/// `devices` (from start_devices), then spawn the engine actor (detached);
/// its jobs count in `devices.counters`.
/// Send it (infer_atom, inputs).
engine_actor spawn_engine(caf::actor_system& sys, const topology& devices,
                          model_ptr m, const InferenceOption& option);

} // namespace actorrt
