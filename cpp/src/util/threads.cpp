// threads.cpp: the OpenMP thread count used by every kernel (see threads.h).
#include "fastnn/threads.h"

#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn {

void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n < 1 ? 1 : n);
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
