// Host compute slots shared by every CPU lane of the process.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <sched.h>
#include <vector>

namespace actorrt {

/// A counting semaphore with one slot per CPU this process may run on. CPU
/// lanes hold a slot while they compute, so three lanes on a two-core host
/// take turns instead of time-slicing each other's caches away.
///
/// Slot k is CPU k of that set; a lane takes the slot of the CPU it runs on
/// when that one is free. A lane that takes the last free slot and
/// whose last hold was long keeps its thread on its slot's CPU while it
/// holds it: three lanes taking turns on two cores otherwise migrate at
/// every turn, and each computation got 4-11% slower (resnet18, mobilenet)
/// than with two lanes. Short holds, and holds with CPUs to spare, are not
/// pinned: there the move costs more than it saves.
class cpu_slots {
public:
  static cpu_slots& host();

  explicit cpu_slots(std::vector<int> cpus);

  /// The CPUs of the set (none when the process's could not be read).
  const cpu_set_t& cpus() const {
    return all_;
  }

  /// Lets the calling thread, a lane's, run on every CPU of the set again:
  /// the runtime's own threads may be kept on fewer
  /// (actors/runtime_cpus.hpp), and a lane computes wherever it can.
  void enter_lane();

  /// Whether lanes hold every slot: every CPU computes, and a thread that
  /// polls takes its time from a lane.
  bool all_held() const {
    return !cpus_.empty()
           && held_.load(std::memory_order_relaxed) >= cpus_.size();
  }

  /// Holds shorter than this are not pinned.
  static constexpr int64_t pin_from_ns = 1'000'000;

  class lease {
  public:
    explicit lease(cpu_slots& owner);
    ~lease();
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;

    /// The CPU this thread is kept on, or -1.
    int pinned_cpu() const {
      return pinned_ ? owner_.cpus_[slot_] : -1;
    }

  private:
    cpu_slots& owner_;
    size_t slot_;
    bool pinned_ = false;
    int64_t taken_;
  };

private:
  size_t acquire(bool& last); // `last`: it took the last free slot
  void release(size_t slot);
  void reset(); // in a forked child

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<int> cpus_;
  cpu_set_t all_; // cpus_ (none when not known)
  std::vector<bool> busy_;
  std::atomic<size_t> held_{0}; // busy_'s count, read without the lock
};

} // namespace actorrt
