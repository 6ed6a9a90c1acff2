#include "core/tensor.hpp"

#include <cstdint>
#include <cstring>
#include <new>

#include "core/errors.hpp"

namespace actorrt {

size_t element_size(dtype type) {
  switch (type) {
    case dtype::uint8:
    case dtype::int8:
    case dtype::boolean:
      return 1;
    case dtype::uint16:
    case dtype::int16:
    case dtype::float16:
      return 2;
    case dtype::float32:
    case dtype::int32:
    case dtype::uint32:
      return 4;
    case dtype::int64:
    case dtype::uint64:
    case dtype::float64:
      return 8;
  }
  return 0;
}

const char* to_string(dtype type) {
  switch (type) {
    case dtype::float32:
      return "float32";
    case dtype::uint8:
      return "uint8";
    case dtype::int8:
      return "int8";
    case dtype::uint16:
      return "uint16";
    case dtype::int16:
      return "int16";
    case dtype::int32:
      return "int32";
    case dtype::int64:
      return "int64";
    case dtype::uint32:
      return "uint32";
    case dtype::uint64:
      return "uint64";
    case dtype::float16:
      return "float16";
    case dtype::float64:
      return "float64";
    case dtype::boolean:
      return "bool";
  }
  return "unknown";
}

size_t tensor_info::element_count() const {
  size_t n = 1;
  for (auto d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

namespace {

/// Room at the front of a blob's memory for its shared_ptr's control
/// block, so that a blob is one allocation, not two: a lane makes one per
/// output per job and another thread frees it, which glibc's malloc pays
/// for per allocation (C++17 has no make_shared of a runtime-sized array).
constexpr size_t control_room = 64;

/// Gives a shared_ptr the room at the front of `block` for its control
/// block, and frees the whole block with it.
template <class T>
struct in_block {
  using value_type = T;
  void* block;

  explicit in_block(void* b) : block(b) {}
  template <class U>
  in_block(const in_block<U>& other) : block(other.block) {}

  T* allocate(size_t) {
    static_assert(sizeof(T) <= control_room
                  && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    return static_cast<T*>(block); // a shared_ptr asks for one block, once
  }
  void deallocate(T*, size_t) {
    ::operator delete(block);
  }
  template <class U>
  bool operator==(const in_block<U>& other) const {
    return block == other.block;
  }
  template <class U>
  bool operator!=(const in_block<U>& other) const {
    return block != other.block;
  }
};

} // namespace

blob blob::allocate(size_t size) {
  // Uninitialised: executors overwrite the bytes.
  if (size > SIZE_MAX - control_room)
    throw std::bad_alloc();
  auto* block = static_cast<uint8_t*>(::operator new(control_room + size));
  auto* data = block + control_room;
  // The deleter does nothing: the block goes with the control block.
  return {std::shared_ptr<void>(
            data, [](void*) {}, in_block<uint8_t>(block)),
          data, size};
}

blob blob::copy_of(const void* data, size_t size) {
  auto result = allocate(size);
  if (size > 0)
    std::memcpy(result.data, data, size);
  return result;
}

blob blob::borrow(void* data, size_t size, std::shared_ptr<void> owner) {
  return {std::move(owner), static_cast<uint8_t*>(data), size};
}

blob blob::slice(size_t offset, size_t length) const {
  return {owner, data + offset, length};
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string result = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    result += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return result + "]";
}

tensor_metas share(const std::vector<tensor_info>& infos) {
  tensor_metas metas;
  metas.reserve(infos.size());
  for (auto& info : infos)
    metas.push_back(std::make_shared<const tensor_info>(info));
  return metas;
}

namespace {

/// `info`'s bytes for `batch` samples; a job of one sample (the common
/// case) copies no description for it.
size_t bytes_for(const tensor_info& info, int64_t batch) {
  return batch == 1 ? info.byte_size() : info.with_batch(batch).byte_size();
}

/// Samples in `bytes` of an input: its batch when the input has a dynamic
/// batch axis and `bytes` hold whole samples, else 1 (checked later).
int64_t samples(const tensor_info& info, size_t bytes) {
  auto one = info.byte_size();
  if (!info.dynamic_batch || one == 0 || bytes == 0 || bytes % one != 0)
    return 1;
  return static_cast<int64_t>(bytes / one);
}

} // namespace

size_t total_bytes(const std::vector<tensor_info>& infos, int64_t batch) {
  size_t total = 0;
  for (auto& info : infos)
    total += bytes_for(info, batch);
  return total;
}

size_t total_bytes(const tensors& ts) {
  size_t total = 0;
  for (auto& t : ts)
    total += t.bytes.size;
  return total;
}

tensor_info tensor_info::with_batch(int64_t batch) const {
  tensor_info result = *this;
  if (dynamic_batch && !result.shape.empty())
    result.shape[0] = batch;
  return result;
}

std::shared_ptr<const tensor_info>
with_shape(const std::shared_ptr<const tensor_info>& meta,
           std::vector<int64_t> shape) {
  auto info = *meta;
  info.shape = std::move(shape);
  return std::make_shared<const tensor_info>(std::move(info));
}

tensor_metas batched(const tensor_metas& metas, int64_t batch) {
  if (batch == 1)
    return metas;
  tensor_metas result;
  for (auto& meta : metas)
    result.push_back(meta->dynamic_batch ? std::make_shared<const tensor_info>(
                       meta->with_batch(batch))
                                         : meta);
  return result;
}

std::vector<blob> split_inputs(const std::vector<tensor_info>& declared,
                               blob raw, int64_t batch) {
  auto expected = total_bytes(declared, batch);
  if (raw.size != expected)
    throw InvalidArgument("input buffer has " + std::to_string(raw.size)
                          + " bytes, the model expects "
                          + std::to_string(expected)
                          + " bytes (get_input_size())");
  if (declared.size() == 1)
    return {std::move(raw)};
  std::vector<blob> result;
  result.reserve(declared.size());
  size_t offset = 0;
  for (auto& info : declared) {
    auto size = bytes_for(info, batch);
    result.push_back(raw.slice(offset, size));
    offset += size;
  }
  return result;
}

tensors bind_inputs(const std::vector<tensor_info>& declared,
                    const std::vector<blob>& buffers, int64_t* batch) {
  int64_t n = 1;
  if (buffers.size() == 1 && declared.size() != 1) {
    bool all_dynamic = batch != nullptr;
    for (auto& info : declared)
      all_dynamic = all_dynamic && info.dynamic_batch;
    auto one = total_bytes(declared);
    if (all_dynamic && one > 0 && buffers[0].size % one == 0
        && buffers[0].size > 0)
      n = static_cast<int64_t>(buffers[0].size / one);
    if (batch)
      *batch = n;
    return undescribed(split_inputs(declared, buffers.front(), n));
  }
  if (buffers.size() != declared.size())
    throw InvalidArgument("got " + std::to_string(buffers.size())
                          + " input buffers, the model has "
                          + std::to_string(declared.size()) + " inputs");
  if (batch)
    for (size_t i = 0; i < declared.size(); ++i)
      if (declared[i].dynamic_batch) {
        n = samples(declared[i], buffers[i].size);
        break;
      }
  for (size_t i = 0; i < declared.size(); ++i) {
    if (buffers[i].size == bytes_for(declared[i], n))
      continue;
    auto info = declared[i].with_batch(n);
    throw InvalidArgument(
      "input " + std::to_string(i) + " ('" + info.name + "') has "
      + std::to_string(buffers[i].size) + " bytes, expected "
      + std::to_string(info.byte_size()) + " bytes (" + to_string(info.type)
      + " " + shape_string(info.shape) + ")");
  }
  if (batch)
    *batch = n;
  tensors bound;
  bound.reserve(buffers.size());
  for (auto& b : buffers)
    bound.push_back({nullptr, b});
  return bound;
}

std::vector<blob> bind_outputs(const std::vector<tensor_info>& declared,
                               const std::vector<blob>& buffers,
                               int64_t batch) {
  for (auto& info : declared)
    if (info.dynamic_shape)
      throw InvalidArgument("output '" + info.name
                            + "' has a shape only a run decides: it cannot "
                              "go into caller output buffers");
  auto total = total_bytes(declared, batch);
  if (buffers.size() == 1 && buffers[0].size == total) {
    std::vector<blob> result;
    size_t offset = 0;
    for (auto& info : declared) {
      auto size = bytes_for(info, batch);
      result.push_back(buffers[0].slice(offset, size));
      offset += size;
    }
    return result;
  }
  bool per_output = buffers.size() == declared.size();
  for (size_t k = 0; per_output && k < declared.size(); ++k)
    per_output = buffers[k].size == bytes_for(declared[k], batch);
  if (per_output)
    return buffers;
  size_t got = 0;
  for (auto& b : buffers)
    got += b.size;
  throw InvalidArgument("output buffers must be one buffer of "
                        + std::to_string(total)
                        + " bytes or one buffer per model output; got "
                        + std::to_string(buffers.size()) + " buffer(s) of "
                        + std::to_string(got) + " bytes in all");
}

tensors attach(const tensor_metas& metas, std::vector<blob> buffers,
               int64_t batch) {
  auto result = undescribed(std::move(buffers));
  describe(result, metas, batch);
  return result;
}

tensors undescribed(std::vector<blob> buffers) {
  tensors result;
  result.reserve(buffers.size());
  for (auto& b : buffers)
    result.push_back({nullptr, std::move(b)});
  return result;
}

std::vector<blob> bytes_of(const tensors& ts) {
  std::vector<blob> result;
  result.reserve(ts.size());
  for (auto& t : ts)
    result.push_back(t.bytes);
  return result;
}

void describe(tensors& ts, const tensor_metas& metas, int64_t batch) {
  if (batch != 1)
    return describe(ts, batched(metas, batch));
  ts.resize(metas.size());
  for (size_t k = 0; k < metas.size(); ++k)
    ts[k].meta = metas[k];
}

} // namespace actorrt
