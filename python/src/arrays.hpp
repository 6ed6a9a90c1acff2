// numpy arrays ↔ ActorRT blobs and tensors, without copies.
#pragma once

#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "core/tensor.hpp"

namespace actorrt::python {

namespace py = pybind11;

/// Keeps a Python object alive from C++ for as long as a blob or job needs
/// it. Dropped without the GIL, the reference is released later by a thread
/// that holds it (release_pending), so runtime threads never wait for it.
std::shared_ptr<void> keep_alive(py::object obj);

/// Releases a reference (none: nothing) now on a thread that holds the GIL,
/// else later, as keep_alive's owner does.
void release_reference(PyObject* obj);

/// Releases references dropped by threads without the GIL. Call with the GIL.
void release_pending();

/// The inputs of one job: a list (or tuple) of arrays, or one array. Each
/// array is borrowed when C-contiguous (and kept alive by the job), copied
/// otherwise. Throws TypeError for anything that is not an array, and
/// InvalidArgument when one array per input has neither the input's dtype
/// nor uint8 (raw bytes); sizes are checked later.
std::vector<blob> to_input_blobs(py::handle inputs,
                                 const std::vector<tensor_info>& declared);

/// Writable caller buffers (for run_batch outputs).
std::vector<blob> to_output_blobs(py::handle outputs);

/// numpy dtype of an element type.
py::dtype to_numpy(dtype type);

/// Output tensors as numpy arrays viewing the runtime's buffers; each array
/// keeps its buffer alive, so it stays valid after callbacks return.
py::list to_arrays(const tensors& outputs);

} // namespace actorrt::python
