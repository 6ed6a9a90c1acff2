// One per engine, detached: the end of every job's path, whoever submitted
// it. It owns the engine's books (job ids and the per-job table Wait blocks
// on, statistics, the callback) and ends each job exactly once on its own
// thread: statistics, callback, the result for Wait, the admission credit.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "actors/admission.hpp"
#include "actors/job_outbox.hpp"
#include "actors/job_table.hpp"
#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "core/inference_option.hpp"
#include "core/metrics.hpp"
#include "core/stats.hpp"

namespace actorrt {

/// An engine's books, shared by its callers (who open jobs and wait) and
/// its actor (who ends them).
struct engine_books {
  /// Called once per job on the engine's thread: outputs (empty on
  /// failure), the caller's user argument, and the failure (none on
  /// success).
  using callback = std::function<void(const tensors& outputs, void* user_arg,
                                      const failure& error)>;
  /// Runs a batch of callbacks; a binding takes its interpreter lock here
  /// once per batch instead of once per job.
  using callback_scope = std::function<void(const std::function<void()>&)>;
  /// Reports an exception thrown by a callback; the default prints to stderr.
  using error_handler = std::function<void(job_id, const std::string&)>;

  engine_books(size_t retention) : table(retention) {}

  model_ptr model;
  uint64_t model_id = 0;
  placement where;
  std::vector<int> devices; // the devices it may use (its credit's)
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

  job_table table;
  time_stats latency;       // submitted → outputs ready, µs
  time_stats npu_time;      // compute on the core, µs
  metrics counters;         // this engine's jobs, per core too
  uint32_t trace_track = 0; // its result thread's track in a trace
  /// Counts `counters` in the process's totals (its runtime's metrics)
  /// while these books live, and for good after.
  void count_in(std::shared_ptr<process_metrics> totals);
  ~engine_books();

  void set_callback(callback fn, callback_scope scope = nullptr);
  void set_error_handler(error_handler fn);

  /// Every job's start, whoever submits it: binds the inputs (and the
  /// caller's output buffers) to the model, takes a credit (blocking unless
  /// on a result thread, where blocking could deadlock), opens the job and
  /// hands it to the scheduler through the outbox. Returns its id. Throws
  /// InvalidArgument for bad buffers or terms, InvalidOperation once
  /// closed. A timeout counts from this call.
  job_id submit(const std::vector<blob>& inputs, std::vector<blob> outputs,
                job_ticket ticket, const JobOptions& terms = {});
  job_outbox_ptr outbox; // set once the engine actor exists

  /// Cancels open job `id` (see job_control::cancel): one not started is
  /// ended by `engine` with Cancelled (a message: it ends jobs, once).
  /// Throws InvalidArgument for an id never issued or a job that ended.
  job_control::cancel_result cancel(job_id id, const engine_actor& engine);
  /// Cancels every open job no core has started; returns how many.
  size_t cancel_queued(const engine_actor& engine, const std::string& why);

  struct callback_pair {
    callback fn;
    callback_scope scope;
  };
  std::shared_ptr<const callback_pair> current_callback() const;
  void report(job_id id, const std::string& what);

  /// The outputs of the latest job to succeed (set once per batch of
  /// results, from its last job).
  void set_latest(const tensors& outputs);
  tensors latest() const;

private:
  std::shared_ptr<process_metrics> process_;
  mutable std::mutex mtx_;
  std::shared_ptr<const callback_pair> callback_;
  error_handler on_error_;
  tensors latest_;
};

/// True on the thread of `books`' engine actor (any engine's when null):
/// inside a callback, where Wait on an open job, a blocking RunAsync or
/// Dispose would wait for this very thread.
bool on_engine_thread(const engine_books* books = nullptr);

struct engine_state {
  std::shared_ptr<engine_books> books;
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
            const InferenceOption& option, size_t retention = 4096);

/// Spawns the engine actor (detached) for placed `books` and opens its
/// outbox.
engine_actor spawn_engine(caf::actor_system& sys,
                          std::shared_ptr<engine_books> books);

/// Set-up step for programs with their own actor system: place_model on
/// `devices` (from start_devices), then spawn the engine actor (detached);
/// its jobs count in `devices.counters`.
/// Send it (infer_atom, inputs).
engine_actor spawn_engine(caf::actor_system& sys, const topology& devices,
                          model_ptr m, const InferenceOption& option);

} // namespace actorrt
