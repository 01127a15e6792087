// threads.cpp: the OpenMP thread count used by every kernel (see threads.h).
#include "fastnn/threads.h"

#include <atomic>
#include <string>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#include <pthread.h>
#define FASTNN_HAVE_ATFORK 1
#define FASTNN_HAVE_DLADDR 1
#endif

namespace fastnn {

namespace {

// Set in a child created by fork(): GNU libgomp's thread pool does not survive
// fork, and the child's first parallel region would wait forever for threads
// that no longer exist. The child therefore runs every kernel on one thread.
std::atomic<bool> in_forked_child{false};

// Counts the forks this process descends from (1 in the first process): a lock taken
// in a parent and copied into a child by fork is free there (fork_generation()).
std::atomic<unsigned> fork_gen{1};

// The count set by set_num_threads, for every thread of the process (OpenMP's own
// count is per calling thread: a Python thread other than the one that called
// set_num_threads would otherwise still use every core). 0: never set.
std::atomic<int> process_threads{0};

// The OpenMP limit every thread starts with (OMP_NUM_THREADS, or the core count),
// read at import in a new thread (one no library has called omp_set_num_threads in).
// A thread whose limit differs had it lowered on purpose (threadpoolctl), which caps
// the process-wide count there; the default itself does not (set_num_threads
// overrides OMP_NUM_THREADS in every thread, as PyTorch's does).
std::atomic<int> default_limit{0};

// This thread's own count (set_thread_num_threads), ahead of the process-wide one; 0:
// none. The scikit-learn estimators' n_threads, so that fits in concurrent threads
// neither share nor change one process-wide setting.
thread_local int thread_threads = 0;

// set_cpu_limit's value; 0: no cap.
std::atomic<int> cpu_cap{0};

#ifdef FASTNN_HAVE_ATFORK
void on_fork_child() {
  in_forked_child.store(true);
  fork_gen.fetch_add(1);
  process_threads.store(1);
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}
#endif

}  // namespace

void install_fork_guard() {
#ifdef _OPENMP
  std::thread([] { default_limit.store(omp_get_max_threads()); }).join();
#endif
#ifdef FASTNN_HAVE_ATFORK
  pthread_atfork(nullptr, nullptr, on_fork_child);
#endif
}

unsigned fork_generation() { return fork_gen.load(std::memory_order_relaxed); }

void set_num_threads(int n) {
#ifdef _OPENMP
  // Not omp_set_num_threads: that would change the calling thread's limit for every
  // library sharing the OpenMP runtime (torch's count too), and read back here as a cap.
  process_threads.store(in_forked_child.load() || n < 1 ? 1 : n);
#else
  (void)n;
#endif
}

void set_thread_num_threads(int n) { thread_threads = n > 0 ? n : 0; }

int thread_num_threads() { return thread_threads; }

int get_num_threads() {
#ifdef _OPENMP
  if (in_forked_child.load(std::memory_order_relaxed)) return 1;
  if (thread_threads > 0) return thread_threads;
  const int own = omp_get_max_threads();
  const int set = process_threads.load(std::memory_order_relaxed);
  if (set == 0) return own;
  const bool lowered_here = own != default_limit.load(std::memory_order_relaxed);
  return lowered_here && own < set ? own : set;
#else
  return 1;
#endif
}

void set_cpu_limit(int n) { cpu_cap.store(n > 0 ? n : 0); }

int cpu_limit() { return cpu_cap.load(std::memory_order_relaxed); }

int team_threads() {
  const int threads = get_num_threads();
  const int cap = cpu_limit();
  return cap > 0 && cap < threads ? cap : threads;
}

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

namespace {

#ifdef _OPENMP
// The OpenMP version a _OPENMP date stands for (the spec's table), "" if unknown.
std::string spec_version(long date) {
  switch (date) {
    case 200505: return "2.5";
    case 200805: return "3.0";
    case 201107: return "3.1";
    case 201307: return "4.0";
    case 201511: return "4.5";
    case 201811: return "5.0";
    case 202011: return "5.1";
    case 202111: return "5.2";
    default: return "";
  }
}

// The file name of the library that holds the OpenMP runtime this module calls
// (libgomp, libomp, libiomp5, vcomp; a wheel's bundled copy has a hash in its name).
std::string runtime_library() {
#if defined(FASTNN_HAVE_DLADDR)
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &info) != 0 &&
      info.dli_fname != nullptr) {
    std::string path = info.dli_fname;
    return path.substr(path.find_last_of('/') + 1);
  }
  return "unknown runtime";
#elif defined(_MSC_VER)
  return "vcomp";
#else
  return "unknown runtime";
#endif
}
#endif

}  // namespace

const char* openmp_runtime() {
#ifdef _OPENMP
  static const std::string name = [] {
    const std::string version = spec_version(_OPENMP);
    return runtime_library() + " (OpenMP " + (version.empty() ? "" : version + ", ") +
           std::to_string(_OPENMP) + ")";
  }();
  return name.c_str();
#else
  return "none (serial build)";
#endif
}

}  // namespace fastnn
