// What an ONNX file declares, checked before any library reads it: a model
// file is untrusted input, and ONNX's shape inference, OpenCV's importer and
// ONNX Runtime trust what it says (a stride of 0 divides by zero, an
// initializer shorter than its dims is read past its end).
#pragma once

#include <cstdint>
#include <string>

namespace onnx {
class ModelProto;
}

namespace actorrt {

/// Limits a model must stay within.
struct model_limits {
  static constexpr int max_rank = 16;
  static constexpr int64_t max_dim = int64_t(1) << 31;
  static constexpr int64_t max_elements = int64_t(1) << 34;
  /// strides, dilations, kernel sizes, pads, groups, block sizes
  static constexpr int64_t max_window = int64_t(1) << 20;
  static constexpr size_t max_file_bytes = size_t(2) << 30; // protobuf's
};

/// Throws InvalidModel naming `name` and what is wrong: a tensor rank or
/// dimension out of range, an element count that overflows, initializer
/// data that does not match its dims and type (or lives in external
/// files), a window attribute that is zero, negative or huge.
void check_declared(const onnx::ModelProto& proto, const std::string& name);

/// Bytes per element of ONNX element type `onnx_type` (0: strings, or a
/// type ActorRT does not know).
int64_t element_bytes(int32_t onnx_type);

/// a × b, or `limit` when the product exceeds it (or either is negative).
int64_t bounded_product(int64_t a, int64_t b, int64_t limit);

} // namespace actorrt
