// What an engine's callers and its actor share of each job, and nothing
// more: its id, its control (started? cancelled?) and the promise Wait
// blocks on. Plain logic, no CAF: callers open, cancel and wait; the engine
// actor, which alone ends jobs (exactly once: see engine_state::open),
// publishes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"

namespace actorrt {

/// How much of the results that finish unwaited while a callback also
/// receives them is kept for a later Wait: the newest, within both bounds
/// (the newest one always, whatever its size).
struct result_retention {
  size_t results = 4096;
  size_t bytes = size_t(64) << 20; // their outputs'
};

class job_table {
public:
  struct outcome {
    tensors outputs;
    failure error;
  };

  explicit job_table(result_retention retention) : retention_(retention) {}

  /// Opens a job under the next id (ids start at 1, never reused).
  job_id open(std::shared_ptr<job_control> control = nullptr);

  /// Ends a job: its outcome becomes available to Wait. With `bounded`,
  /// the result counts against the retention window.
  void publish(job_id id, outcome result, bool bounded);

  /// Blocks until the job ends and hands its outcome over (once). Throws
  /// InvalidArgument for ids never issued or no longer held, Timeout when
  /// `timeout` runs out (the job stays waitable), InvalidOperation when
  /// another thread already waits for it.
  outcome wait(job_id id, std::optional<std::chrono::milliseconds> timeout);

  /// Ends a job nobody will wait for (an actor client's).
  void forget(job_id id);

  /// Nobody will wait for this job any more (its caller gave up): its
  /// outcome is dropped when it ends, or now if it has.
  void abandon(job_id id);

  /// The control of open job `id`. Throws InvalidArgument for an id never
  /// issued or a job that has ended.
  std::shared_ptr<job_control> control_of(job_id id) const;
  /// Every open job's id and control.
  std::vector<std::pair<job_id, std::shared_ptr<job_control>>>
  open_controls() const;

  /// Waits until every opened job has ended; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Finished results still held (for memory checks).
  size_t held() const;
  /// Jobs opened and not yet ended, now and at most.
  int open_count() const;
  int peak_open() const;

private:
  enum class state { open, done };

  /// One open job fewer (called with `mtx_` held by `guard`; may unlock).
  void ended_one(std::unique_lock<std::mutex>& guard);
  struct entry;
  /// Takes done entry `i` out (its outcome went to Wait, or nobody wants it).
  void erase_done(std::unordered_map<job_id, entry>::iterator i);

  struct entry {
    state st = state::open;
    std::atomic<bool> finished{false}; // st == done, for a spinning Wait
    bool waited = false;
    bool abandoned = false;
    size_t kept_bytes = 0; // its outputs', while in the retention window
    std::shared_ptr<job_control> control;
    outcome result;
    std::condition_variable cv;
  };

  mutable std::mutex mtx_;
  std::condition_variable idle_;
  std::unordered_map<job_id, entry> entries_;
  std::deque<job_id> bounded_; // the retention window, oldest first
  size_t bounded_bytes_ = 0;   // outputs held there
  result_retention retention_;
  size_t held_ = 0;
  job_id last_id_ = 0;
  int open_ = 0;
  int peak_open_ = 0;
};

} // namespace actorrt
