#include "errors.hpp"

#include "dxrt/exception/exception.h"

namespace actorrt::python {

namespace {

PyObject* model_file_not_found = nullptr;
PyObject* invalid_model = nullptr;
PyObject* job_cancelled = nullptr;

PyObject* type_of(errc code) {
  switch (code) {
    case errc::file_not_found:
      return model_file_not_found;
    case errc::invalid_model:
      return invalid_model;
    case errc::invalid_argument:
      return PyExc_ValueError;
    case errc::timeout:
      return PyExc_TimeoutError;
    case errc::cancelled:
      return job_cancelled;
    default:
      return PyExc_RuntimeError;
  }
}

/// DX-RT's codes, as Configuration and DeviceStatus raise them.
PyObject* type_of(dxrt::ERROR_CODE code) {
  switch (code) {
    case dxrt::FILE_NOT_FOUND:
      return PyExc_FileNotFoundError;
    case dxrt::FILE_IO:
      return PyExc_OSError;
    case dxrt::INVALID_ARGUMENT:
    case dxrt::NULL_POINTER:
      return PyExc_ValueError;
    case dxrt::INVALID_MODEL:
    case dxrt::MODEL_PARSING:
      return invalid_model;
    default:
      return PyExc_RuntimeError;
  }
}

PyObject* new_class(py::module_& m, const char* name, PyObject* base,
                    const char* doc) {
  std::string qualified = std::string("dx_engine.") + name;
  py::object bases
    = base == PyExc_RuntimeError
        ? py::reinterpret_borrow<py::object>(base)
        : py::make_tuple(py::handle(base), py::handle(PyExc_RuntimeError));
  auto* type
    = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type)
    throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return type;
}

} // namespace

void register_errors(py::module_& m) {
  model_file_not_found = new_class(
    m, "ModelFileNotFoundError", PyExc_FileNotFoundError,
    "The model path names no readable regular file (also a RuntimeError, "
    "as DX-RT raises).");
  invalid_model = new_class(
    m, "InvalidModelError", PyExc_ValueError,
    "The model file is not a model ActorRT can run (also a RuntimeError, as "
    "DX-RT raises).");
  job_cancelled = new_class(
    m, "JobCancelledError", PyExc_RuntimeError,
    "The job was cancelled (cancel(), or its engine was disposed) before "
    "it started, or while it ran (its outputs were dropped).");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(type_of(e.code()), e.what());
    } catch (const dxrt::Exception& e) {
      PyErr_SetString(type_of(e.code()), e.what());
    }
  });
}

py::object exception_of(errc code, const std::string& message) {
  return py::reinterpret_borrow<py::object>(type_of(code))(message);
}

} // namespace actorrt::python
