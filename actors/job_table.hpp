// One engine's jobs between submission and the caller taking the result:
// job ids, the exactly-once gate and the per-job promise that Wait blocks
// on. Plain logic, no CAF: callers open and wait, the engine actor claims
// and publishes.
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

/// What the table keeps of an open job: the caller's argument and what
/// keeps it alive until the job has ended (a Python object, say).
struct job_ticket {
  void* ptr = nullptr;
  std::shared_ptr<void> keep;
  bool silent = false;       // no callback: Run's or RunBatch's own job
  bool client = false;       // an actor client's: answered, never waited
  int64_t submitted = 0;     // now_ns() at RunAsync
  uint32_t thread = 0;       // the submitter's trace::thread_index(), traced
  int device = -1;           // whose admission credit it holds
  int64_t batch = 1;         // samples (dynamic batch axis)
  std::vector<blob> outputs; // the caller's output buffers, if any
  std::shared_ptr<job_control> control; // started? cancelled?
};

class job_table {
public:
  using ticket = job_ticket;

  struct outcome {
    tensors outputs;
    failure error;
  };

  /// `retention`: how many finished, unwaited results are kept while a
  /// callback also receives them; older ones are released.
  explicit job_table(size_t retention) : retention_(retention) {}

  /// Opens a job under the next id (ids start at 1, never reused).
  job_id open(ticket t = {});

  /// The exactly-once gate: the ticket for the first caller only (the
  /// result actor, or shutdown cancelling the job), nothing after that.
  std::optional<ticket> claim(job_id id);

  /// Makes a claimed job's outcome available to Wait. With `bounded`, the
  /// result counts against the retention window.
  void publish(job_id id, outcome result, bool bounded);

  /// Blocks until the job ends and hands its outcome over (once). Throws
  /// InvalidArgument for ids never issued or no longer held, Timeout when
  /// `timeout` runs out (the job stays waitable), InvalidOperation when
  /// another thread already waits for it.
  outcome wait(job_id id, std::optional<std::chrono::milliseconds> timeout);

  /// Forgets a claimed job nobody will wait for (an actor client's).
  void forget(job_id id);

  /// Nobody will wait for this job any more (its caller gave up): its
  /// outcome is dropped when it ends, or now if it has.
  void abandon(job_id id);

  /// Claims every job not yet claimed; the caller ends them.
  std::vector<std::pair<job_id, ticket>> claim_all_open();

  /// The control of open job `id`. Throws InvalidArgument for an id never
  /// issued or a job that has ended.
  std::shared_ptr<job_control> control_of(job_id id) const;
  /// Every open job's id and control.
  std::vector<std::pair<job_id, std::shared_ptr<job_control>>>
  open_controls() const;

  /// Waits until every opened job has been claimed; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Finished results still held (for memory checks).
  size_t held() const;
  /// Jobs opened and not yet claimed, now and at most.
  int open_count() const;
  int peak_open() const;

private:
  enum class state { open, claimed, done };

  struct entry {
    state st = state::open;
    std::atomic<bool> finished{false}; // st == done, for a spinning Wait
    bool waited = false;
    bool abandoned = false;
    ticket arg;
    outcome result;
    std::condition_variable cv;
  };

  mutable std::mutex mtx_;
  std::condition_variable idle_;
  std::unordered_map<job_id, entry> entries_;
  std::deque<job_id> bounded_;
  size_t retention_;
  size_t held_ = 0;
  job_id last_id_ = 0;
  int open_ = 0;
  int peak_open_ = 0;
};

} // namespace actorrt
