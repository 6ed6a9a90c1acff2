// dx_engine._native: ActorRT's runtime for the dx_engine package.
#include <pybind11/pybind11.h>

#include "actorrt/inference_engine.hpp"
#include "core/errors.hpp"
#include "disposal.hpp"
#include "dxrt_classes.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "gil.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_native, m) {
  m.doc() = "ActorRT native runtime behind dx_engine";
  actorrt::python::register_errors(m);
  actorrt::python::bind_engine(m);
  actorrt::python::bind_dxrt_classes(m);
  m.def(
    "_finish_disposals",
    [](double seconds) {
      actorrt::python::without_gil nogil;
      actorrt::python::finish_disposals(
        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
    },
    "Waits for engines dropped without dispose() to be disposed (exit).");
  m.def(
    "parse_model",
    [](const std::string& path) {
      actorrt::python::without_gil nogil;
      return actorrt::DescribeModel(path);
    },
    "What ActorRT knows of the model at `path`, as text.");
  m.def("start_trace", &actorrt::StartTrace, py::arg("path"),
        "Records every job's stages for a Chrome trace written by "
        "stop_trace().");
  m.def(
    "stop_trace",
    [] {
      actorrt::python::without_gil nogil;
      return actorrt::StopTrace();
    },
    "Writes the trace started by start_trace(); returns the jobs in it.");
  m.def(
    "option_defaults",
    [] {
      actorrt::InferenceOption o;
      return py::make_tuple(o.buffer_count, o.max_batch_size, o.batch_delay_us);
    },
    "Default buffer_count, max_batch_size and batch_delay_us, from "
    "DXRT_TASK_MAX_LOAD, ACTORRT_MAX_BATCH and ACTORRT_BATCH_DELAY_US as "
    "they are now.");
  m.def(
    "option_limits",
    [] {
      using O = actorrt::InferenceOption;
      py::dict d;
      d["buffer_count"] = O::max_buffer_count;
      d["max_batch_size"] = O::max_batch_bound;
      d["batch_delay_us"] = O::max_batch_delay_us;
      d["timeout_ms"] = O::max_timeout_ms;
      d["priority"] = O::max_priority;
      return d;
    },
    "The largest value each InferenceOption field takes.");
  m.def(
    "is_ort_supported", [] { return !actorrt::OnnxRuntimeVersion().empty(); },
    "True when ONNX Runtime's library loads: CPU lanes can run on it");
  // ActorRT's warnings reach Python as RuntimeWarning, said once.
  actorrt::SetWarningHandler([](const std::string& text) {
    actorrt::python::with_gil gil;
    if (PyErr_WarnEx(PyExc_RuntimeWarning, text.c_str(), 1) != 0)
      PyErr_Clear(); // warnings turned into errors cannot unwind C++ here
  });
}
