// gil.cpp: ReleasedGil's destructor (gil.h says why it is not pybind11's).
#include "gil.h"

#include <chrono>
#include <thread>
#ifdef __GLIBCXX__
#include <cxxabi.h>
#endif

namespace fastnn::bind {

ReleasedGil::~ReleasedGil() {
#ifdef __GLIBCXX__
  try {
    PyEval_RestoreThread(state_);
  } catch (abi::__forced_unwind&) {
    // The interpreter is finalizing: CPython ended this thread with pthread_exit, whose
    // unwind may not leave a destructor. The thread can never run Python again, so it
    // sleeps here until the process exits (CPython 3.14 parks such a thread itself).
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
#else
  PyEval_RestoreThread(state_);  // no forced unwind there: pthread_exit ends the thread
#endif
}

}  // namespace fastnn::bind
