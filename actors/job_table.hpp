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
#include <memory_resource>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"

namespace actorrt {

/// A quarter of the host's memory (1 GiB when /proc does not tell).
size_t quarter_of_host_memory();

/// How many of the results that finish before anybody waits for them are
/// kept for a later Wait: the newest, within the bounds (the newest one
/// always, whatever its size).
struct result_retention {
  /// While a callback also receives them (it has the outputs: a Wait is
  /// the exception).
  size_t results = 4096;
  size_t bytes = size_t(64) << 20; // their outputs'
  /// Without a callback, where Wait is the only way to them: four times
  /// DX-RT's horizon (its engine gives a job's slot to another job 1024
  /// jobs later, INFERENCE_JOB_MAX_COUNT), so that a program that waits
  /// within DX-RT's works whatever its outputs weigh; and, so that one that
  /// never waits does not take the host down, a quarter of its memory.
  size_t results_without_callback = 4096;
  size_t bytes_without_callback = quarter_of_host_memory();
};

class job_table {
public:
  struct outcome {
    tensors outputs;
    failure error;
  };

  explicit job_table(result_retention retention)
    : beside_callback_{{}, 0, retention.results, retention.bytes},
      without_callback_{{},
                        0,
                        retention.results_without_callback,
                        retention.bytes_without_callback} {}

  /// Opens a job under the next id (ids start at 1, never reused).
  job_id open(std::shared_ptr<job_control> control = nullptr);

  /// How long an ended job's outcome waits for Wait.
  enum class kept {
    until_waited,     // somebody will (Run's own job)
    beside_callback,  // the newest within result_retention's first bounds
    without_callback, // the newest results_without_callback
  };
  /// Ends a job: its outcome becomes available to Wait.
  void publish(job_id id, outcome result, kept how);

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
  using entry_map = std::pmr::unordered_map<job_id, entry>;
  /// Takes done entry `i` out (its outcome went to Wait, or nobody wants it).
  void erase_done(entry_map::iterator i);

  /// Unwaited results of one kind, oldest first, and their outputs' bytes.
  struct window {
    std::deque<job_id> ids;
    size_t bytes = 0;
    size_t most_results, most_bytes;
  };

  struct entry {
    state st = state::open;
    std::atomic<bool> finished{false}; // st == done, for a spinning Wait
    bool waited = false;
    bool abandoned = false;
    window* in = nullptr;  // while unwaited in one
    size_t kept_bytes = 0; // its outputs', counted there
    std::shared_ptr<job_control> control;
    outcome result;
    std::condition_variable cv;
  };

  mutable std::mutex mtx_;
  std::condition_variable idle_;
  /// Entries are made on callers' threads and erased on the engine's or a
  /// waiter's: from malloc, each one took the caller's arena lock twice,
  /// contended by the thread that freed it. The pool recycles them under
  /// mtx_, which every use holds anyway.
  std::pmr::unsynchronized_pool_resource entry_memory_;
  entry_map entries_{&entry_memory_};
  window beside_callback_, without_callback_;
  size_t held_ = 0;
  job_id last_id_ = 0;
  int open_ = 0;
  int peak_open_ = 0;
};

} // namespace actorrt
