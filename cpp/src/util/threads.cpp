// threads.cpp: the OpenMP thread count used by every kernel (see threads.h).
#include "fastnn/threads.h"

#include <atomic>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define FASTNN_HAVE_ATFORK 1
#endif

namespace fastnn {

namespace {

// Set in a child created by fork(): GNU libgomp's thread pool does not survive
// fork, and the child's first parallel region would wait forever for threads
// that no longer exist. The child therefore runs every kernel on one thread.
std::atomic<bool> in_forked_child{false};

#ifdef FASTNN_HAVE_ATFORK
void on_fork_child() {
  in_forked_child.store(true);
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}
#endif

}  // namespace

void install_fork_guard() {
#ifdef FASTNN_HAVE_ATFORK
  pthread_atfork(nullptr, nullptr, on_fork_child);
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(in_forked_child.load() || n < 1 ? 1 : n);
#else
  (void)n;
#endif
}

int get_num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

const char* openmp_runtime() {
#ifdef _OPENMP
  static const std::string name = "OpenMP " + std::to_string(_OPENMP);
  return name.c_str();
#else
  return "none (serial build)";
#endif
}

}  // namespace fastnn
