#include "device/cpu_slots.hpp"

#include <algorithm>
#include <thread>

#include <pthread.h>

namespace actorrt {

cpu_slots& cpu_slots::host() {
  static unsigned count = std::max(1u, std::thread::hardware_concurrency());
  static cpu_slots instance{count};
  // A forked child has none of the parent's lanes: all slots are free there.
  static int hooks = ::pthread_atfork([] { instance.mtx_.lock(); },
                                      [] { instance.mtx_.unlock(); },
                                      [] {
                                        instance.free_ = count;
                                        instance.mtx_.unlock();
                                      });
  (void) hooks;
  return instance;
}

void cpu_slots::acquire() {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait(guard, [this] { return free_ > 0; });
  --free_;
}

void cpu_slots::release() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++free_;
  }
  cv_.notify_one();
}

} // namespace actorrt
