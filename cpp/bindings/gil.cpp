// gil.cpp: parking a thread the finalizing interpreter ended (gil.h says why).
#include "gil.h"

#include <chrono>
#include <exception>
#include <thread>

namespace fastnn::bind {

void park_if_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  const bool finalizing = Py_IsFinalizing() != 0;
#else
  const bool finalizing = _Py_IsFinalizing() != 0;
#endif
  // The thread holds no GIL (CPython dropped it before pthread_exit) and can never run
  // Python again: it sleeps until the process exits.
  while (finalizing) std::this_thread::sleep_for(std::chrono::hours(1));
}

namespace {

// A new reference from CPython as an object; nullptr (a Python error) raises.
pybind11::object owned(PyObject* got) {
  if (got == nullptr) throw pybind11::error_already_set();
  return pybind11::reinterpret_steal<pybind11::object>(got);
}

}  // namespace

pybind11::object python_attr(pybind11::handle obj, const char* name) {
  return owned(call_python([&] { return PyObject_GetAttrString(obj.ptr(), name); }));
}

pybind11::object python_method_call(pybind11::handle obj, const char* name) {
  return owned(call_python([&] { return PyObject_CallMethod(obj.ptr(), name, nullptr); }));
}

pybind11::object python_call(pybind11::handle f) {
  return owned(call_python([&] { return PyObject_CallNoArgs(f.ptr()); }));
}

ReleasedGil::~ReleasedGil() {
  try {
    PyEval_RestoreThread(state_);
  } catch (...) {  // only a forced unwind leaves PyEval_RestoreThread
    park_if_finalizing();
    std::terminate();  // pthread_cancel, say: a destructor cannot pass the unwind on
  }
}

}  // namespace fastnn::bind
