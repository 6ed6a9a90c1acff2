// DX-RT's tensor: a name, a shape, a type and a data pointer, with its
// accessors by reference. A tensor ActorRT returns also keeps the memory
// its data points into alive, for as long as any copy of it lives.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dxrt/common.h"
#include "dxrt/datatype.h"

namespace dxrt {

class InferenceEngine;

class DXRT_API Tensor {
public:
  Tensor(std::string name_, std::vector<int64_t> shape_, DataType type_,
         void* data_ = nullptr);
  /// A copy of `tensor_`'s description over `data_` (or its data, when
  /// null).
  Tensor(const Tensor& tensor_, void* data_ = nullptr);
  Tensor& operator=(const dxrt::Tensor&) = default;
  Tensor& operator=(Tensor&& tensor) = default;
  Tensor(Tensor&& tensor) = default;
  ~Tensor();

  const std::string& name() const;
  std::vector<int64_t>& shape();
  const std::vector<int64_t>& shape() const;
  DataType& type();
  DataType type() const;
  void*& data();
  void* data() const;
  /// The device address of the data; 0 here: host memory only.
  uint64_t& phy_addr();
  uint32_t& elem_size();
  uint64_t size_in_bytes() const {
    uint64_t n = 1;
    for (auto dim : _shape)
      if (dim >= 0) // a dynamic dimension is known only after a run
        n *= static_cast<uint64_t>(dim);
    return n * _elemSize;
  }
  /// The element at (h, w, c) of an NHWC tensor; throws std::out_of_range.
  void* data(int height, int width, int channel);

  friend DXRT_API std::ostream& operator<<(std::ostream&, const Tensor&);
  friend InferenceEngine;

private:
  std::string _name;
  std::vector<int64_t> _shape;
  DataType _type;
  void* _data;
  uint64_t _phyAddr = 0;
  uint32_t _elemSize;
  std::shared_ptr<void> _keep; // owns the memory behind _data, if anything
};

using Tensors = std::vector<Tensor>;
using TensorPtr = std::shared_ptr<Tensor>;
using TensorPtrs = std::vector<std::shared_ptr<Tensor>>;

/// Writes the tensors' bytes one after another to `filename`.
DXRT_API void DataDumpBin(std::string filename,
                          std::vector<dxrt::Tensor> tensors);
DXRT_API void DataDumpBin(std::string filename,
                          std::vector<std::shared_ptr<dxrt::Tensor>> tensors);

} // namespace dxrt
