// The interpreter lock, taken and given back by threads that may still be
// running when the interpreter finalises.
#pragma once

#include <pybind11/pybind11.h>

namespace actorrt::python {

/// Python ends a thread that takes the GIL during finalisation with
/// pthread_exit, whose unwinding aborts the process when it meets C++
/// (pybind11's noexcept guards, CAF's loops). These guards park such a
/// thread instead: the process is exiting, and it must not run on.
[[noreturn]] void park_forever();

/// Gives the GIL up for its scope (like py::gil_scoped_release).
class without_gil {
public:
  without_gil();
  ~without_gil();
  without_gil(const without_gil&) = delete;
  without_gil& operator=(const without_gil&) = delete;

private:
  PyThreadState* state_;
};

/// Runs `f` without the GIL: for calls that ask the engine's thread, which
/// may need the GIL to end a callback first.
template <class F>
auto released(F&& f) {
  without_gil nogil;
  return f();
}

/// Holds the GIL for its scope, from any thread (like
/// py::gil_scoped_acquire).
class with_gil {
public:
  with_gil();
  ~with_gil();
  with_gil(const with_gil&) = delete;
  with_gil& operator=(const with_gil&) = delete;

private:
  PyGILState_STATE state_;
};

} // namespace actorrt::python
