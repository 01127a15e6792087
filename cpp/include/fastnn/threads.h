// threads.h: the OpenMP thread count used by every fastnn kernel.
//
// Defaults to OMP_NUM_THREADS (or the core count) as OpenMP itself decides.
// Without OpenMP (serial build) the count is always 1.
#pragma once

namespace fastnn {

void set_num_threads(int n);  // n >= 1
int get_num_threads();
bool openmp_enabled();
const char* openmp_runtime();  // e.g. "OpenMP 4.5 (201511)" or "none (serial build)"

}  // namespace fastnn
