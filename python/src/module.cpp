// dx_engine._native: ActorRT's runtime for the dx_engine package.
#include <pybind11/pybind11.h>

#include "actorrt/inference_engine.hpp"
#include "core/errors.hpp"
#include "device/registry.hpp"
#include "engine.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_native, m) {
  m.doc() = "ActorRT native runtime behind dx_engine";
  // One translation for every ActorRT error, as DX-RT v3 maps them.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const actorrt::Error& e) {
      switch (e.code()) {
        case actorrt::errc::file_not_found:
          PyErr_SetString(PyExc_FileNotFoundError, e.what());
          return;
        case actorrt::errc::invalid_model:
        case actorrt::errc::invalid_argument:
          PyErr_SetString(PyExc_ValueError, e.what());
          return;
        case actorrt::errc::timeout:
          PyErr_SetString(PyExc_TimeoutError, e.what());
          return;
        default:
          PyErr_SetString(PyExc_RuntimeError, e.what());
          return;
      }
    }
  });
  actorrt::python::bind_engine(m);
  m.def("is_ort_supported", &actorrt::ort_available,
        "True when ONNX Runtime's library loads: CPU lanes can run on it");
  // ActorRT's warnings reach Python as RuntimeWarning, said once.
  actorrt::SetWarningHandler([](const std::string& text) {
    py::gil_scoped_acquire gil;
    if (PyErr_WarnEx(PyExc_RuntimeWarning, text.c_str(), 1) != 0)
      PyErr_Clear(); // warnings turned into errors cannot unwind C++ here
  });
}
