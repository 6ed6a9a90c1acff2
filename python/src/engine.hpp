#pragma once

#include <pybind11/pybind11.h>

namespace actorrt::python {

void bind_engine(pybind11::module_& m);

} // namespace actorrt::python
