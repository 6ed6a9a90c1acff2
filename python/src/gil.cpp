#include "gil.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <utility>

namespace actorrt::python {

void park_forever() {
  for (;;)
    ::pause();
}

without_gil::without_gil() : state_(PyEval_SaveThread()) {}

without_gil::~without_gil() {
  try {
    PyEval_RestoreThread(state_);
  } catch (abi::__forced_unwind&) {
    park_forever();
  }
}

namespace {

/// A thread outside Python that takes the GIL keeps its Python thread
/// state from then on: made and deleted per acquisition (the engine's
/// result thread takes the GIL once per batch of callbacks), it cost a
/// munmap each time, whose TLB shootdown interrupts every CPU (17% of the
/// CPU time of a callback benchmark). Deleted when the thread ends.
struct pinned_thread_state {
  bool pinned = false;

  void pin() { // the GIL is held
    if (!std::exchange(pinned, true))
      PyGILState_Ensure(); // a count of its own: never back to zero
  }
  ~pinned_thread_state() {
    if (!pinned || !Py_IsInitialized() || _Py_IsFinalizing())
      return; // at exit: the interpreter frees it
    try {
      PyGILState_Ensure();
      PyGILState_Release(PyGILState_LOCKED);   // the Ensure above
      PyGILState_Release(PyGILState_UNLOCKED); // the pin: deletes it
    } catch (abi::__forced_unwind&) {
      park_forever();
    }
  }
};

thread_local pinned_thread_state pinned_state;

} // namespace

with_gil::with_gil() {
  if (_Py_IsFinalizing())
    park_forever();
  try {
    bool foreign = PyGILState_GetThisThreadState() == nullptr;
    state_ = PyGILState_Ensure();
    if (foreign) // a thread Python did not start (Python keeps its own)
      pinned_state.pin();
  } catch (abi::__forced_unwind&) {
    park_forever();
  }
}

with_gil::~with_gil() {
  PyGILState_Release(state_);
}

} // namespace actorrt::python
