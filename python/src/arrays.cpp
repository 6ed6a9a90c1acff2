#include "arrays.hpp"

#include <mutex>

#include "core/errors.hpp"

namespace actorrt::python {

namespace {

std::mutex pending_mtx;
std::vector<PyObject*> pending;

py::array as_array(py::handle item, const char* what) {
  if (!py::isinstance<py::array>(item))
    throw py::type_error(std::string(what) + " must be numpy arrays, got "
                         + std::string(py::str(item.get_type())));
  auto a = py::reinterpret_borrow<py::array>(item);
  constexpr char holds_references = 0x01; // NPY_ITEM_REFCOUNT
  if (a.dtype().flags() & holds_references)
    throw py::type_error(std::string(what) + " must hold numbers; dtype "
                         + std::string(py::str(a.dtype()))
                         + " holds Python object pointers");
  return a;
}

std::vector<py::array> arrays_of(py::handle inputs, const char* what) {
  std::vector<py::array> result;
  if (py::isinstance<py::array>(inputs)) {
    result.push_back(as_array(inputs, what));
    return result;
  }
  if (!py::isinstance<py::list>(inputs) && !py::isinstance<py::tuple>(inputs))
    throw py::type_error(std::string(what)
                         + " must be a list of numpy arrays, got "
                         + std::string(py::str(inputs.get_type())));
  for (auto item : inputs)
    result.push_back(as_array(item, what));
  return result;
}

} // namespace

void release_reference(PyObject* obj) {
  if (obj == nullptr)
    return;
  if (PyGILState_Check()) {
    Py_DECREF(obj);
    return;
  }
  std::lock_guard<std::mutex> guard{pending_mtx};
  pending.push_back(obj);
}

std::shared_ptr<void> keep_alive(py::object obj) {
  return std::shared_ptr<void>(obj.release().ptr(), [](void* p) {
    release_reference(static_cast<PyObject*>(p));
  });
}

void release_pending() {
  std::vector<PyObject*> batch;
  {
    std::lock_guard<std::mutex> guard{pending_mtx};
    batch.swap(pending);
  }
  for (auto* obj : batch)
    Py_DECREF(obj);
}

std::vector<blob> to_input_blobs(py::handle inputs,
                                 const std::vector<tensor_info>& declared) {
  auto arrays = arrays_of(inputs, "inputs");
  // One array per input has the declared dtype or is raw uint8 bytes (one
  // raw buffer for all is the runtime's to check). Any shape of the right
  // size passes (DX-RT code hands an HWC image to a 1xHxWxC input): byte
  // sizes are checked when the job is bound.
  bool per_input = arrays.size() == declared.size();
  std::vector<blob> result;
  result.reserve(arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    auto& arr = arrays[i];
    auto type = arr.dtype();
    if (per_input && !type.is(py::dtype::of<uint8_t>())
        && !type.is(to_numpy(declared[i].type)))
      throw InvalidArgument(
        "input " + std::to_string(i) + " ('" + declared[i].name
        + "') has dtype " + std::string(py::str(type)) + ", expected "
        + to_string(declared[i].type) + " (or raw uint8 bytes)");
    py::array c = arr;
    if (!(arr.flags() & py::array::c_style))
      c = py::array::ensure(arr, py::array::c_style);
    auto* data = const_cast<void*>(c.data());
    auto size = static_cast<size_t>(c.nbytes());
    result.push_back(blob::borrow(data, size, keep_alive(c)));
  }
  return result;
}

std::vector<blob> to_output_blobs(py::handle outputs) {
  std::vector<blob> result;
  for (auto& arr : arrays_of(outputs, "output buffers")) {
    if (!(arr.flags() & py::array::c_style))
      throw py::value_error("output buffers must be C-contiguous");
    if (!arr.writeable())
      throw py::value_error("output buffers must be writeable");
    result.push_back(blob::borrow(
      arr.mutable_data(), static_cast<size_t>(arr.nbytes()), keep_alive(arr)));
  }
  return result;
}

py::dtype to_numpy(dtype type) {
  switch (type) {
    case dtype::float32:
      return py::dtype::of<float>();
    case dtype::uint8:
      return py::dtype::of<uint8_t>();
    case dtype::int8:
      return py::dtype::of<int8_t>();
    case dtype::uint16:
      return py::dtype::of<uint16_t>();
    case dtype::int16:
      return py::dtype::of<int16_t>();
    case dtype::int32:
      return py::dtype::of<int32_t>();
    case dtype::int64:
      return py::dtype::of<int64_t>();
    case dtype::uint32:
      return py::dtype::of<uint32_t>();
    case dtype::uint64:
      return py::dtype::of<uint64_t>();
    case dtype::float64:
      return py::dtype::of<double>();
    case dtype::float16:
      return py::dtype("float16");
    case dtype::boolean:
      return py::dtype::of<bool>();
  }
  return py::dtype::of<uint8_t>();
}

py::list to_arrays(const tensors& outputs) {
  py::list result;
  for (auto& t : outputs) {
    auto* owner = new std::shared_ptr<void>(t.bytes.owner);
    py::capsule base(
      owner, [](void* p) { delete static_cast<std::shared_ptr<void>*>(p); });
    std::vector<py::ssize_t> shape(t.info().shape.begin(),
                                   t.info().shape.end());
    result.append(
      py::array(to_numpy(t.info().type), shape, t.bytes.data, base));
  }
  return result;
}

} // namespace actorrt::python
