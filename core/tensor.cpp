#include "core/tensor.hpp"

#include <cstring>

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

blob blob::allocate(size_t size) {
  // new[] without () leaves the bytes uninitialised: executors overwrite them.
  std::shared_ptr<uint8_t[]> bytes(new uint8_t[size > 0 ? size : 1]);
  auto* data = bytes.get();
  return {std::shared_ptr<void>(bytes, data), data, size};
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

size_t total_bytes(const std::vector<tensor_info>& infos) {
  size_t n = 0;
  for (auto& info : infos)
    n += info.byte_size();
  return n;
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

std::vector<blob> split_inputs(const std::vector<tensor_info>& infos,
                               blob raw) {
  auto expected = total_bytes(infos);
  if (raw.size != expected)
    throw InvalidArgument("input buffer has " + std::to_string(raw.size)
                          + " bytes, the model expects "
                          + std::to_string(expected)
                          + " bytes (get_input_size())");
  if (infos.size() == 1)
    return {std::move(raw)};
  std::vector<blob> result;
  result.reserve(infos.size());
  size_t offset = 0;
  for (auto& info : infos) {
    result.push_back(raw.slice(offset, info.byte_size()));
    offset += info.byte_size();
  }
  return result;
}

std::vector<blob> bind_inputs(const std::vector<tensor_info>& infos,
                              const std::vector<blob>& buffers) {
  if (buffers.size() == 1 && infos.size() != 1)
    return split_inputs(infos, buffers.front());
  if (buffers.size() != infos.size())
    throw InvalidArgument("got " + std::to_string(buffers.size())
                          + " input buffers, the model has "
                          + std::to_string(infos.size()) + " inputs");
  for (size_t i = 0; i < infos.size(); ++i)
    if (buffers[i].size != infos[i].byte_size())
      throw InvalidArgument(
        "input " + std::to_string(i) + " ('" + infos[i].name + "') has "
        + std::to_string(buffers[i].size) + " bytes, expected "
        + std::to_string(infos[i].byte_size()) + " bytes ("
        + to_string(infos[i].type) + " " + shape_string(infos[i].shape) + ")");
  return buffers;
}

std::vector<blob> bind_outputs(const std::vector<tensor_info>& infos,
                               const std::vector<blob>& buffers) {
  auto total = total_bytes(infos);
  if (buffers.size() == 1 && buffers[0].size == total) {
    std::vector<blob> result;
    size_t offset = 0;
    for (auto& info : infos) {
      result.push_back(buffers[0].slice(offset, info.byte_size()));
      offset += info.byte_size();
    }
    return result;
  }
  bool per_output = buffers.size() == infos.size();
  for (size_t k = 0; per_output && k < infos.size(); ++k)
    per_output = buffers[k].size == infos[k].byte_size();
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

tensors attach(const tensor_metas& metas, std::vector<blob> buffers) {
  tensors result;
  result.reserve(metas.size());
  for (size_t k = 0; k < metas.size(); ++k)
    result.push_back(
      {metas[k], k < buffers.size() ? std::move(buffers[k]) : blob{}});
  return result;
}

} // namespace actorrt
