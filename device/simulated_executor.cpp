#include "device/simulated_executor.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

namespace actorrt {

simulated_executor::simulated_executor(const model& m,
                                       std::chrono::nanoseconds latency)
  : outputs_(m.outputs()), latency_(latency) {}

std::chrono::nanoseconds
simulated_executor::latency_for(const model& m, double gmacs_per_second) {
  if (gmacs_per_second <= 0)
    return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds{
    static_cast<int64_t>(m.macs() / gmacs_per_second)};
}

tensors simulated_executor::run(const tensors& inputs) {
  auto deadline = std::chrono::steady_clock::now() + latency_;
  tensors result;
  result.reserve(outputs_.size());
  for (auto& info : outputs_) {
    auto bytes = blob::allocate(info.byte_size());
    size_t echoed = 0;
    if (!inputs.empty()) {
      echoed = std::min(bytes.size, inputs.front().bytes.size);
      std::memcpy(bytes.data, inputs.front().bytes.data, echoed);
    }
    std::memset(bytes.data + echoed, 0, bytes.size - echoed);
    result.push_back({info, std::move(bytes)});
  }
  if (latency_.count() > 0)
    std::this_thread::sleep_until(deadline);
  return result;
}

} // namespace actorrt
