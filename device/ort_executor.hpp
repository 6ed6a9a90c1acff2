// A CPU lane on ONNX Runtime: one session per model, shared by its lanes,
// one intra-op thread (the lane's own: no thread pool, so nothing spins
// beside the actors), sequential execution, every graph optimisation. Inputs
// and outputs are tensors over the job's own buffers: no copy either way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "device/executor.hpp"
#include "device/ort_library.hpp"

namespace actorrt {

class ort_executor : public executor {
public:
  /// Builds the session (which resolves every kernel), so a model ORT
  /// cannot run fails here as InvalidModel. Throws InvalidArgument when ONNX
  /// Runtime is not available. Lanes use one intra-op thread; more are for
  /// references (benchmarks) that run one session alone.
  /// With `share`, lanes of the same model (bytes) in this process use
  /// one session.
  explicit ort_executor(const model& m, int intra_op_threads = 1,
                        bool share = false);

  ort_executor(const ort_executor&) = delete;
  ort_executor& operator=(const ort_executor&) = delete;

  std::string name() const override {
    return "onnxruntime";
  }
  int64_t run(const tensors& inputs, tensors& outputs) override;
  void run_batch(std::vector<job>& jobs) override;

private:
  std::shared_ptr<ort::OrtSession> make_session(const model& m,
                                                int intra_op_threads) const;
  void forward(const tensors& inputs, tensors& outputs);
  /// forward(), returning when it began (now_ns()).
  int64_t timed_forward(const tensors& inputs, tensors& outputs);
  /// Copies an output ORT allocated (data-dependent shape) into `out`.
  void take_output(ort::OrtValue* value, tensor& out);

  const ort_library& lib_;
  std::shared_ptr<ort::OrtSession> session_;
  std::vector<std::string> names_; // inputs, then outputs
  std::vector<const char*> input_names_;
  std::vector<const char*> output_names_;
};

} // namespace actorrt
