#include "dxrt/tensor.h"

#include <fstream>
#include <stdexcept>

#include "dxrt/exception/exception.h"

namespace dxrt {

Tensor::Tensor(std::string name_, std::vector<int64_t> shape_, DataType type_,
               void* data_)
  : _name(std::move(name_)), _shape(std::move(shape_)), _type(type_),
    _data(data_),
    _elemSize(static_cast<uint32_t>(GetDataSize_Datatype(type_))) {}

Tensor::Tensor(const Tensor& tensor_, void* data_)
  : _name(tensor_._name), _shape(tensor_._shape), _type(tensor_._type),
    _data(data_ != nullptr ? data_ : tensor_._data), _phyAddr(tensor_._phyAddr),
    _elemSize(tensor_._elemSize),
    // The caller's memory when `data_` is given; else shared with the
    // tensor copied.
    _keep(data_ != nullptr ? nullptr : tensor_._keep) {}

Tensor::~Tensor() = default;

const std::string& Tensor::name() const {
  return _name;
}
std::vector<int64_t>& Tensor::shape() {
  return _shape;
}
const std::vector<int64_t>& Tensor::shape() const {
  return _shape;
}
DataType& Tensor::type() {
  return _type;
}
DataType Tensor::type() const {
  return _type;
}
void*& Tensor::data() {
  return _data;
}
void* Tensor::data() const {
  return _data;
}
uint64_t& Tensor::phy_addr() {
  return _phyAddr;
}
uint32_t& Tensor::elem_size() {
  return _elemSize;
}

void* Tensor::data(int h, int w, int c) {
  if (_shape.size() < 4 || h < 0 || h >= _shape[1] || w < 0 || w >= _shape[2]
      || c < 0 || c >= _shape[3])
    throw std::out_of_range("Tensor::data(" + std::to_string(h) + ", "
                            + std::to_string(w) + ", " + std::to_string(c)
                            + ") is outside " + _name + "'s NHWC shape");
  auto row = static_cast<uint64_t>(_shape[3]) * _elemSize;
  return static_cast<uint8_t*>(_data) + (h * _shape[2] + w) * row
         + uint64_t(c) * _elemSize;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  os << t._name << ", " << t._type << ", [";
  for (size_t i = 0; i < t._shape.size(); ++i) {
    if (t._shape[i] < 0)
      os << "unknown";
    else
      os << t._shape[i];
    os << (i + 1 < t._shape.size() ? ", " : "");
  }
  return os << " ]";
}

namespace {

template <class Ptr>
void dump(const std::string& filename, const std::vector<Ptr>& tensors) {
  if (filename.empty())
    throw InvalidArgumentException("DataDumpBin: the file name is empty");
  std::ofstream out(filename, std::ios::binary);
  if (!out)
    throw FileIOException("DataDumpBin: cannot write " + filename);
  for (auto& t : tensors)
    out.write(static_cast<const char*>(t->data()),
              static_cast<std::streamsize>(t->size_in_bytes()));
}

} // namespace

void DataDumpBin(std::string filename, std::vector<dxrt::Tensor> tensors) {
  std::vector<const Tensor*> ptrs;
  for (auto& t : tensors)
    ptrs.push_back(&t);
  dump(filename, ptrs);
}

void DataDumpBin(std::string filename,
                 std::vector<std::shared_ptr<dxrt::Tensor>> tensors) {
  dump(filename, tensors);
}

std::string DataTypeToString(DataType type) {
  static const char* names[]
    = {"NONE_TYPE", "FLOAT",  "UINT8",  "INT8", "UINT16", "INT16", "INT32",
       "INT64",     "UINT32", "UINT64", "BBOX", "FACE",   "POSE"};
  if (type < NONE_TYPE || type >= MAX_TYPE)
    return "UNKNOWN(" + std::to_string(int(type)) + ")";
  return names[type];
}

std::ostream& operator<<(std::ostream& os, const DataType& type) {
  return os << DataTypeToString(type);
}

int GetDataSize_Datatype(DataType type) {
  switch (type) {
    case UINT8:
    case INT8:
      return 1;
    case UINT16:
    case INT16:
      return 2;
    case FLOAT:
    case INT32:
    case UINT32:
      return 4;
    case INT64:
    case UINT64:
      return 8;
    case BBOX:
      return sizeof(DeviceBoundingBox_t);
    case FACE:
      return sizeof(DeviceFace_t);
    case POSE:
      return sizeof(DevicePose_t);
    default:
      return 0;
  }
}

} // namespace dxrt
