#include "gil.hpp"

#include <cxxabi.h>
#include <unistd.h>

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

with_gil::with_gil() {
  if (_Py_IsFinalizing())
    park_forever();
  try {
    state_ = PyGILState_Ensure();
  } catch (abi::__forced_unwind&) {
    park_forever();
  }
}

with_gil::~with_gil() {
  PyGILState_Release(state_);
}

} // namespace actorrt::python
