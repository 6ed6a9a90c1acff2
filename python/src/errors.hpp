// ActorRT's errors as Python exceptions, one mapping for raising and for
// handing a failed job's error to its callback.
#pragma once

#include <pybind11/pybind11.h>

#include "core/errors.hpp"

namespace actorrt::python {

namespace py = pybind11;

/// Adds the exception classes to `m` and translates every actorrt::Error.
/// A model that cannot be loaded raises classes that are both what Python
/// code catches (FileNotFoundError, ValueError) and what DX-RT code catches
/// (RuntimeError).
void register_errors(py::module_& m);

/// The exception instance a failed job's callback receives.
py::object exception_of(errc code, const std::string& message);

} // namespace actorrt::python
