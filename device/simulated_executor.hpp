// A simulated NPU core: a latency model and outputs of the declared shapes,
// no real compute. For scheduler and scale tests; reports say "simulated".
#pragma once

#include <chrono>

#include "core/model.hpp"
#include "device/executor.hpp"

namespace actorrt {

class simulated_executor : public executor {
public:
  /// Each job takes `latency` (zero: return at once). Outputs start with the
  /// first bytes of input 0 and are zero after that, so tests can tell which
  /// input produced which output.
  simulated_executor(const model& m, std::chrono::nanoseconds latency);

  /// Latency derived from the model's MACs and a per-core throughput.
  static std::chrono::nanoseconds latency_for(const model& m,
                                              double gmacs_per_second);

  std::string name() const override {
    return "simulated-npu";
  }
  int64_t run(const tensors& inputs, tensors& outputs) override;
  bool is_simulated() const override {
    return true;
  }

private:
  std::chrono::nanoseconds latency_;
};

} // namespace actorrt
