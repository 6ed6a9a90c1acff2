// Tensor descriptions and reference-counted tensor data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace actorrt {

/// Element types; the numbering follows DX-RT's `DataType` where both exist.
enum class dtype : uint8_t {
  float32 = 1,
  uint8,
  int8,
  uint16,
  int16,
  int32,
  int64,
  uint32,
  uint64,
  float16 = 20,
  float64,
  boolean,
};

size_t element_size(dtype type);
const char* to_string(dtype type);

/// What a model declares about one input or output.
struct tensor_info {
  std::string name;
  std::vector<int64_t> shape;
  dtype type = dtype::float32;
  std::string note; // e.g. which dynamic dimensions were resolved to 1
  /// Dimension 0 is symbolic (a batch axis): jobs may run with any batch;
  /// `shape` holds batch 1.
  bool dynamic_batch = false;
  /// Its shape is known only after a run (an output with data-dependent
  /// dimensions, like NonMaxSuppression's): backends allocate it.
  bool dynamic_shape = false;

  size_t element_count() const;
  /// This description with `batch` in dimension 0 (when it is dynamic).
  tensor_info with_batch(int64_t batch) const;
  size_t byte_size() const {
    return element_count() * element_size(type);
  }
};

/// A byte range kept alive by a shared owner: memory we allocated, or a
/// caller's buffer (a numpy array) that must outlive the job.
struct blob {
  std::shared_ptr<void> owner;
  uint8_t* data = nullptr;
  size_t size = 0;

  static blob allocate(size_t size);
  static blob copy_of(const void* data, size_t size);
  /// A view of `size` bytes at `data`; `owner` keeps them alive.
  static blob borrow(void* data, size_t size, std::shared_ptr<void> owner);
  /// A sub-range sharing this blob's owner.
  blob slice(size_t offset, size_t length) const;
};

/// Bytes and what they are. The description is shared (with the model,
/// normally), so passing a tensor never copies names or shapes.
struct tensor {
  std::shared_ptr<const tensor_info> meta;
  blob bytes;

  const tensor_info& info() const {
    return *meta;
  }

  template <class T>
  const T* as() const {
    return reinterpret_cast<const T*>(bytes.data);
  }
};

using tensors = std::vector<tensor>;

/// Descriptions shared by every tensor made from them.
using tensor_metas = std::vector<std::shared_ptr<const tensor_info>>;

/// Shares each description of `infos` (copied once).
tensor_metas share(const std::vector<tensor_info>& infos);

/// Splits one raw buffer of exactly the models' total input size (times
/// `batch`) into its inputs, in order (DX-RT semantics). Throws
/// InvalidArgument on a mismatch.
std::vector<blob> split_inputs(const std::vector<tensor_info>& infos, blob raw,
                               int64_t batch = 1);

/// Checks input buffers against the declared inputs: one raw buffer of the
/// total input size (split into the inputs), or one per input of its size.
/// Returns one tensor per input, bytes only (see describe()). Throws
/// InvalidArgument with expected and actual bytes. With `batch`, inputs
/// with a dynamic batch axis may hold N samples (N the same for all, every
/// input dynamic for one raw buffer); *batch is set to N.
tensors bind_inputs(const std::vector<tensor_info>& infos,
                    const std::vector<blob>& buffers, int64_t* batch = nullptr);

/// Checks caller-owned output buffers: one buffer of the outputs' total
/// size (split into the outputs), or one per output of its size, for
/// `batch` samples. Returns one buffer per output. Throws InvalidArgument.
std::vector<blob> bind_outputs(const std::vector<tensor_info>& infos,
                               const std::vector<blob>& buffers,
                               int64_t batch = 1);

/// `meta` with the shape a run produced (outputs with dynamic_shape).
std::shared_ptr<const tensor_info>
with_shape(const std::shared_ptr<const tensor_info>& meta,
           std::vector<int64_t> shape);

/// `metas` for a job of `batch` samples: the same descriptions for batch 1,
/// new ones where dimension 0 is dynamic otherwise.
tensor_metas batched(const tensor_metas& metas, int64_t batch);

/// Tensors of `metas`' descriptions over `buffers`, one per description;
/// those past the end of `buffers` get no memory (an executor allocates it).
/// With `batch`, dynamic batch axes take it (batched()); batch 1 shares the
/// descriptions as they are.
tensors attach(const tensor_metas& metas, std::vector<blob> buffers,
               int64_t batch = 1);

/// Tensors of `buffers` with no description yet (see describe()).
tensors undescribed(std::vector<blob> buffers);
/// The bytes of `ts`, without their descriptions (undescribed()'s inverse).
std::vector<blob> bytes_of(const tensors& ts);

/// Gives `ts` `metas`' descriptions for `batch` samples, as attach() would
/// to their bytes: one tensor per description, those missing without
/// memory, those past the end dropped.
void describe(tensors& ts, const tensor_metas& metas, int64_t batch = 1);

/// Total byte size of a list of tensor infos, for `batch` samples.
size_t total_bytes(const std::vector<tensor_info>& infos, int64_t batch = 1);
/// The bytes `ts` hold.
size_t total_bytes(const tensors& ts);

std::string shape_string(const std::vector<int64_t>& shape);

} // namespace actorrt
