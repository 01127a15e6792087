// gil.h: releasing the GIL around a kernel, safely when the interpreter exits meanwhile.
//
// pybind11's gil_scoped_release takes the GIL back in its destructor
// (PyEval_RestoreThread). When the interpreter is finalizing, because the main thread
// returned while a daemon thread was inside a kernel, CPython 3.8 to 3.13 ends a thread
// that asks for the GIL with pthread_exit. Its forced unwind cannot leave a destructor
// (destructors are noexcept), so std::terminate aborted the whole process at exit
// ("terminate called without an active exception", SIGABRT). ReleasedGil catches that
// unwind in its destructor and parks the thread until the process exits, which is what
// CPython 3.14 itself does with such a thread. (With libstdc++ only: elsewhere
// pthread_exit does not unwind C++ frames.)
#pragma once

#include <Python.h>

namespace fastnn::bind {

// Releases the GIL for its scope, as py::gil_scoped_release (see above).
class ReleasedGil {
 public:
  ReleasedGil() : state_(PyEval_SaveThread()) {}
  ~ReleasedGil();
  ReleasedGil(const ReleasedGil&) = delete;
  ReleasedGil& operator=(const ReleasedGil&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace fastnn::bind
