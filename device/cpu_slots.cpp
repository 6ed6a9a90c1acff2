#include "device/cpu_slots.hpp"

#include <algorithm>
#include <thread>

namespace actorrt {

cpu_slots& cpu_slots::host() {
  static cpu_slots instance{std::max(1u, std::thread::hardware_concurrency())};
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
