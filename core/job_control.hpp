// Where one job is, shared by its engine (which may cancel it) and the lane
// that runs it, so that a cancel knows whether the job started and a
// cancelled job never starts. In-process only: a worker node's core sees
// no control (a cancel ends such a job on the client, not on the node).
#pragma once

#include <atomic>

namespace actorrt {

class job_control {
public:
  enum class cancel_result { not_started, running, ended };

  /// The core takes the job: false when it was cancelled first.
  bool start() {
    int queued = 0;
    return state_.compare_exchange_strong(queued, started);
  }

  /// Not started: it never will (its engine ends it now). Running: it
  /// finishes and is reported cancelled. Ended: too late.
  cancel_result cancel() {
    int s = state_.load();
    for (;;) {
      if (s == queued && state_.compare_exchange_weak(s, cancelled_queued))
        return cancel_result::not_started;
      if (s == started && state_.compare_exchange_weak(s, cancelled_running))
        return cancel_result::running;
      if (s == cancelled_running)
        return cancel_result::running;
      if (s == cancelled_queued || s == ended)
        return cancel_result::ended;
    }
  }

  /// Cancels it only if no core took it yet: true when it did.
  bool cancel_queued() {
    int queued_state = queued;
    return state_.compare_exchange_strong(queued_state, cancelled_queued);
  }

  /// Its engine ends it: true when it was cancelled while it ran (its
  /// outputs are dropped).
  bool end() {
    return state_.exchange(ended) == cancelled_running;
  }

  /// Cancelled before a core took it: no core may run it.
  bool cancelled() const {
    return state_.load(std::memory_order_relaxed) == cancelled_queued;
  }

private:
  static constexpr int queued = 0, started = 1, cancelled_queued = 2,
                       cancelled_running = 3, ended = 4;
  std::atomic<int> state_{queued};
};

} // namespace actorrt
