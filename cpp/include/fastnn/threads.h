// threads.h: the OpenMP thread count used by every fastnn kernel.
//
// Defaults to OMP_NUM_THREADS (or the core count) as OpenMP itself decides.
// Without OpenMP (serial build) the count is always 1.
#pragma once

namespace fastnn {

// set_num_threads applies to every thread of the process, as PyTorch's (it leaves the
// threads' OpenMP limits, which other libraries sharing the runtime read, alone).
// get_num_threads is what a kernel called from this thread uses: this thread's own
// count if set (set_thread_num_threads), else the process-wide count, lowered where
// this thread's OpenMP limit was lowered below the default every thread starts with
// (threadpoolctl); before any set_num_threads, that OpenMP limit (OMP_NUM_THREADS, or
// the cores). Always 1 in a forked child. Every parallel region passes team_threads()
// (below) as num_threads.
void set_num_threads(int n);  // n >= 1
int get_num_threads();

// A count for the calling thread only, ahead of the process-wide one (0: none): what
// the scikit-learn estimators' n_threads sets for a fit, so that fits in concurrent
// Python threads need no lock and leave the process-wide count alone.
void set_thread_num_threads(int n);
int thread_num_threads();

// 1 in the first process, incremented in every child made by fork(): state copied from
// the parent (a lock held by one of its threads) can be told from the child's own.
unsigned fork_generation();

// The CPUs this process may run on (affinity mask, capped by a cgroup CPU quota), as
// Python measured them at import and at every set_num_threads; 0: no cap (unknown,
// or a test that needs teams larger than the machine).
void set_cpu_limit(int n);
int cpu_limit();

// The team every kernel's parallel region asks for: get_num_threads(), at most
// cpu_limit(). More threads than CPUs only add work: each barrier waits until every
// thread has been scheduled, so 16 threads on 2 CPUs made a 0.3 ms product (128x512
// @ 512x784 on Zen 5) take 1.8x to 2.0x its 2-thread time. MKL (MKL_DYNAMIC) also
// runs fewer threads than requested when there are fewer cores.
int team_threads();
bool openmp_enabled();
// The OpenMP runtime library and version, e.g. "libgomp.so.1 (OpenMP 4.5, 201511)", or
// "none (serial build)".
const char* openmp_runtime();

// Registers a pthread_atfork handler (once, at import) so that a process forked
// after fastnn used its threads runs kernels single-threaded instead of hanging.
void install_fork_guard();

}  // namespace fastnn
