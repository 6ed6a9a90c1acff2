// A simulated NPU core: a latency model and outputs of the declared shapes,
// no real compute. For scheduler and scale tests; reports say "simulated".
// It can also misbehave on purpose (faults), so users can test their own
// error handling.
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "core/model.hpp"
#include "device/executor.hpp"

namespace actorrt {

/// The parameters of a `sim` device: ACTORRT_DEVICES=sim:CORES:PARAMS, with
/// PARAMS `LATENCY[:FAULT...]`. LATENCY is `250us`, `2ms`, `1.5gmacs` (from
/// the model's MACs) or empty (zero). Each FAULT is `key=value`:
///   fail=P          every call fails with probability P (DeviceIO); a
///                   batched call's jobs then run one by one, drawing again
///   die_after=N     a core crashes while running its job N+1
///   stall_after=N   a core stops answering at its job N+1, for stall_for
///   stall_for=D     how long a stall lasts (default 3600s; s, ms, us, ns)
///   cores=I+J       the cores die_after and stall_after hit (default: all)
///   seed=S          seeds each core's failure draws (with its index)
///   batch=C         a call of N samples takes LATENCY * (1 + C * (N - 1)):
///                   what each further sample of a batch costs, as a share
///                   of the first (default 1: batching gains nothing)
struct simulated_settings {
  std::chrono::nanoseconds latency{0};
  double gmacs_per_second = 0; // > 0: latency from the model's MACs
  double fail_rate = 0;
  int64_t die_after = -1;
  int64_t stall_after = -1;
  std::chrono::nanoseconds stall_for = std::chrono::hours(1);
  uint32_t fault_cores = ~0u;
  uint64_t seed = 1;
  double batch_cost = 1;

  /// Throws InvalidArgument naming the bad part.
  static simulated_settings parse(const std::string& params);
};

class simulated_executor : public executor {
public:
  /// Each call takes the settings' latency for its batch (zero: return at
  /// once). Each sample's outputs start with the first bytes of that
  /// sample's input 0 and are zero after that, so tests can tell which
  /// input produced which output, batched or not.
  simulated_executor(const model& m, const simulated_settings& settings,
                     int core);

  std::string name() const override {
    return "simulated-npu";
  }
  int64_t run(const tensors& inputs, tensors& outputs) override;
  /// Like an NPU with a queue: a job sent to the core while the one before
  /// it ran starts when that one ends, however late this host's thread
  /// gets to it; its times are the device's.
  void run_batch(std::vector<job>& jobs) override;
  bool is_simulated() const override {
    return true;
  }

private:
  /// One call that starts at `start` (now_ns()): when it ends.
  int64_t compute(const tensors& inputs, tensors& outputs, int64_t start);
  /// The faults asked for: throws, or stalls (true) or not (false).
  bool misbehave();
  /// Returns at `deadline`, not later by the kernel's wake-up delay.
  void wait_until(std::chrono::steady_clock::time_point deadline);

  simulated_settings settings_;
  std::chrono::nanoseconds latency_;
  bool faulty_; // die_after and stall_after apply to this core
  int64_t jobs_ = 0;
  /// How late sleeps end here lately (a moving average).
  std::chrono::nanoseconds late_{std::chrono::microseconds(50)};
  int64_t last_end_ = 0; // when the device's latest call ended (now_ns())
  int64_t queued_ = 0;   // when the job run() is given was sent (0: unknown)
  std::mt19937_64 draws_;
};

} // namespace actorrt
