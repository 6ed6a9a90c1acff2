// The backend boundary: one executor is one model loaded on one lane (an NPU
// core, or a CPU lane standing in for one). It knows nothing of actors,
// queues or job ids.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.hpp"

namespace actorrt {

class executor {
public:
  virtual ~executor() = default;

  /// A short name for reports, e.g. "opencv-dnn" or "simulated-npu".
  virtual std::string name() const = 0;

  /// Runs one job. Inputs are in the model's declared order; outputs come
  /// back in the declared order, shapes and dtypes, in memory the caller may
  /// keep. Throws on failure; the lane stays usable.
  virtual tensors run(const tensors& inputs) = 0;

  /// (optional) True when no real compute happens: results are not outputs
  /// of the model and every report must say so.
  virtual bool is_simulated() const {
    return false;
  }

  /// (optional) When the last run's compute began (now_ns()), for lanes that
  /// first wait for a shared host resource; 0 when it began at the call.
  /// Keeps that wait out of the NPU time.
  virtual int64_t last_compute_start() const {
    return 0;
  }
};

} // namespace actorrt
