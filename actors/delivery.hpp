// How a facade job ends: statistics, the user callback, the result for Wait,
// and the in-flight slot, in that order and exactly once. Plain logic; the
// result actor calls deliver(), shutdown calls cancel_open().
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/inflight_limiter.hpp"
#include "actors/job.hpp"
#include "actors/job_table.hpp"
#include "core/stats.hpp"

namespace actorrt {

class delivery {
public:
  /// Called once per job on the result actor's thread: outputs (empty on
  /// failure), the caller's user argument, and the failure (none on success).
  using callback = std::function<void(const tensors& outputs, void* user_arg,
                                      const failure& error)>;

  /// Reports an exception thrown by a callback; the default prints to stderr.
  using error_handler = std::function<void(job_id, const std::string&)>;

  /// Runs a batch of callbacks; a binding takes its interpreter lock here
  /// once per batch instead of once per job.
  using callback_scope = std::function<void(const std::function<void()>&)>;

  delivery(int max_in_flight, size_t retention)
    : limiter(max_in_flight), table(retention) {}

  void set_callback(callback fn, callback_scope scope = nullptr);

  /// True on a thread that is delivering results (inside a callback). Such a
  /// thread must not block on the limiter or on an unfinished job: only it
  /// could end them.
  static bool delivering();
  void set_error_handler(error_handler fn);

  /// A job's id and how it ended.
  using finished_job = std::pair<job_id, job_result>;

  /// Ends each job of a batch of finished jobs (the result actor's mailbox).
  void deliver(std::vector<finished_job>& batch);

  /// Ends every job not yet ended with Cancelled; returns how many.
  size_t cancel_open(const std::string& reason);

  inflight_limiter limiter;
  job_table table;
  time_stats latency;  // submitted → outputs ready, µs
  time_stats npu_time; // executor time on the core, µs

private:
  struct callback_pair {
    callback fn;
    callback_scope scope;
  };

  void finish(const callback_pair* cb, job_id id, job_table::ticket& arg,
              job_table::outcome result);
  std::shared_ptr<const callback_pair> current() const;
  static void in_scope(const callback_pair* cb,
                       const std::function<void()>& run);
  void report(job_id id, const std::string& what);

  mutable std::mutex mtx_;
  std::shared_ptr<const callback_pair> callback_;
  error_handler on_error_;
};

} // namespace actorrt
