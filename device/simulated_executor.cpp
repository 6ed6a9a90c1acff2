#include "device/simulated_executor.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/clock.hpp"

namespace actorrt {

simulated_executor::simulated_executor(const model& m,
                                       std::chrono::nanoseconds latency)
  : latency_(latency) {
  (void) m;
}

std::chrono::nanoseconds
simulated_executor::latency_for(const model& m, double gmacs_per_second) {
  if (gmacs_per_second <= 0)
    return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds{
    static_cast<int64_t>(m.macs() / gmacs_per_second)};
}

int64_t simulated_executor::run(const tensors& inputs, tensors& outputs) {
  auto started = now_ns();
  auto deadline = std::chrono::steady_clock::now() + latency_;
  for (auto& out : outputs) {
    auto& bytes = output_memory(out);
    size_t echoed = 0;
    if (!inputs.empty()) {
      echoed = std::min(bytes.size, inputs.front().bytes.size);
      std::memcpy(bytes.data, inputs.front().bytes.data, echoed);
    }
    std::memset(bytes.data + echoed, 0, bytes.size - echoed);
  }
  if (latency_.count() > 0)
    std::this_thread::sleep_until(deadline);
  return started;
}

} // namespace actorrt
