// DX-RT's Configuration and DeviceStatus, bound for dx_engine.
#pragma once

#include <pybind11/pybind11.h>

namespace actorrt::python {

namespace py = pybind11;

void bind_dxrt_classes(py::module_& m);

} // namespace actorrt::python
