// gil.h: the GIL around kernels and callbacks, safe when the interpreter exits meanwhile.
//
// When the interpreter is finalizing (the main thread returned while a daemon thread was
// inside fastnn), CPython 3.8 to 3.13 ends a thread that asks for the GIL with
// pthread_exit, which unwinds the thread's C++ frames (a "forced unwind"). Two places
// met it:
//   - pybind11's gil_scoped_release takes the GIL back in its destructor; the unwind
//     cannot leave a destructor (noexcept), so std::terminate aborted the process
//     ("terminate called without an active exception", SIGABRT);
//   - a Python callback (TrainStep's optimizer preparation) that the interpreter ended
//     unwound through the binding's frames, whose destructors then released Python
//     objects without the GIL, while the main thread was freeing them (a segfault).
// Both now catch the unwind and park the thread until the process exits, which is what
// CPython 3.14 itself does with such a thread. A forced unwind for any other reason
// (pthread_cancel) is not stopped: it goes on from a callback, and ends the process from
// the destructor, as before.
#pragma once

#include <pybind11/pybind11.h>

#ifdef __GLIBCXX__
#include <cxxabi.h>
#endif

namespace fastnn::bind {

// Sleeps for good when the interpreter is finalizing; returns at once otherwise.
void park_if_finalizing();

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

// call() for a callable that runs Python code while the binding holds Python objects
// (see above); rethrows everything else it raises.
template <class Call>
auto call_python(const Call& call) -> decltype(call()) {
#ifdef __GLIBCXX__
  try {
    return call();
  } catch (abi::__forced_unwind&) {
    park_if_finalizing();
    throw;
  }
#else
  return call();
#endif
}

// obj.name, obj.name() and f() for attributes and calls that run Python code, through
// call_python and CPython's own calls, so that no C++ temporary (pybind11's accessor
// caches the bound method) is left to release a Python object during the unwind.
// Raise error_already_set as pybind11 does.
pybind11::object python_attr(pybind11::handle obj, const char* name);
pybind11::object python_method_call(pybind11::handle obj, const char* name);
// f() for a Python callable, without arguments.
pybind11::object python_call(pybind11::handle f);

}  // namespace fastnn::bind
