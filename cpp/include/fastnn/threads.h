// threads.h: the OpenMP thread count used by every fastnn kernel.
//
// Defaults to OMP_NUM_THREADS (or the core count) as OpenMP itself decides.
// Without OpenMP (serial build) the count is always 1.
#pragma once

namespace fastnn {

// set_num_threads applies to every thread of the process (and sets the calling
// thread's OpenMP limit). get_num_threads is what a kernel called from this thread
// uses: min(the process-wide count, this thread's OpenMP limit, which threadpoolctl
// or OMP_NUM_THREADS may lower). Every parallel region passes it as num_threads.
void set_num_threads(int n);  // n >= 1; always 1 in a forked child (see below)
int get_num_threads();
bool openmp_enabled();
const char* openmp_runtime();

// Registers a pthread_atfork handler (once, at import) so that a process forked
// after fastnn used its threads runs kernels single-threaded instead of hanging.
void install_fork_guard();  // e.g. "OpenMP 4.5 (201511)" or "none (serial build)"

}  // namespace fastnn
