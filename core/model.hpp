// An ONNX model as the runtime knows it: validated, with its tensors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace actorrt {

class model;

/// The ONNX library ActorRT loads models with: its release and IR version.
std::string onnx_version();

/// DX-APP's configurations name compiled .dxnn files: for a path ending in
/// .dxnn, the ONNX file of the same stem beside it (FileNotFound naming
/// both when there is none); any other path as it is.
std::string onnx_stand_in(const std::string& path);

/// What ActorRT knows of a model, as text: tensors, sizes, operators, MACs
/// (what parse_model prints and dx_engine.utils.parse_model returns).
std::string describe(const model& m);

class model {
public:
  /// Loads and validates `path` (or its onnx_stand_in). Throws FileNotFound
  /// or InvalidModel.
  static std::shared_ptr<const model> load(const std::string& path);

  /// Validates a serialized ONNX model held in memory; `name` is for messages.
  static std::shared_ptr<const model> from_bytes(std::string name,
                                                 std::string bytes);

  const std::string& name() const {
    return name_;
  }
  /// The serialized ONNX bytes; executors build their networks from these.
  const std::string& bytes() const {
    return bytes_;
  }
  /// Names the bytes: equal bytes, equal digest (a 64-bit hash and the
  /// size, for caches; not a cryptographic check).
  const std::string& digest() const {
    return digest_;
  }
  const std::vector<tensor_info>& inputs() const {
    return inputs_;
  }
  const std::vector<tensor_info>& outputs() const {
    return outputs_;
  }
  /// The same descriptions, shared by every tensor made for this model.
  const tensor_metas& input_metas() const {
    return input_metas_;
  }
  const tensor_metas& output_metas() const {
    return output_metas_;
  }
  /// Bytes over all inputs (DX-RT's GetInputSize).
  size_t input_size() const {
    return total_bytes(inputs_);
  }
  size_t output_size() const {
    return total_bytes(outputs_);
  }
  /// How often each operator type occurs.
  const std::map<std::string, int>& op_census() const {
    return op_census_;
  }
  /// Multiply-accumulates of one forward pass over Conv, Gemm and MatMul
  /// (from ONNX shape inference); 0 when shapes are unknown.
  uint64_t macs() const {
    return macs_;
  }
  /// Bytes of the model's initializers (its weights).
  uint64_t parameter_bytes() const {
    return parameter_bytes_;
  }
  /// The program that wrote the file ("pytorch 2.1", ...), if it says.
  const std::string& producer() const {
    return producer_;
  }
  int64_t opset() const {
    return opset_;
  }

  /// Every input and output has a symbolic dimension 0: jobs may be merged
  /// into one run of several samples as the model is.
  bool batchable() const;
  /// For a model that fixes dimension 0 of its tensors to 1: the same
  /// graph with that dimension re-declared symbolic, when ONNX shape
  /// inference accepts it (a lane must still check that batch 2 equals two
  /// batch-1 runs before using it). Null otherwise. Made on first use.
  std::shared_ptr<const model> batch_variant() const;
  /// Whether and how the model batches, in words (parse_model, dxrt-cli).
  std::string batching() const;

private:
  /// Makes variant_ and why_not_ once.
  void redeclare() const;

  std::string name_;
  std::string bytes_;
  std::string digest_;
  std::string producer_;
  uint64_t parameter_bytes_ = 0;
  std::vector<tensor_info> inputs_;
  std::vector<tensor_info> outputs_;
  tensor_metas input_metas_;
  tensor_metas output_metas_;
  std::map<std::string, int> op_census_;
  uint64_t macs_ = 0;
  int64_t opset_ = 0;
  mutable std::once_flag redeclared_;
  mutable std::shared_ptr<const model> variant_;
  mutable std::string why_not_; // why it cannot batch
};

using model_ptr = std::shared_ptr<const model>;

} // namespace actorrt
