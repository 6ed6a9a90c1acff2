// Host compute slots shared by every CPU lane of the process.
#pragma once

#include <condition_variable>
#include <mutex>

namespace actorrt {

/// A counting semaphore sized to the host's hardware threads. CPU lanes hold
/// a slot while they compute, so three lanes on a two-core host take turns
/// instead of time-slicing each other's caches away.
class cpu_slots {
public:
  static cpu_slots& host();

  explicit cpu_slots(unsigned count) : free_(count) {}

  class lease {
  public:
    explicit lease(cpu_slots& owner) : owner_(owner) {
      owner_.acquire();
    }
    ~lease() {
      owner_.release();
    }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;

  private:
    cpu_slots& owner_;
  };

private:
  void acquire();
  void release();

  std::mutex mtx_;
  std::condition_variable cv_;
  unsigned free_;
};

} // namespace actorrt
