// bind_runtime.cpp: thread control and build facts for fastnn.info().
#include <pybind11/pybind11.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "fastnn/activations.h"
#include "fastnn/gemm.h"
#include "fastnn/threads.h"
#include "util/isa.h"
#include "util/parallel_thresholds.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_VER);
#else
  return "unknown";
#endif
}

// A RuntimeWarning when the environment variable `name` is set but was not taken
// (`taken`: the reader parsed it), naming the value, the format and what applies.
void warn_if_ignored(const char* name, bool taken, const char* format, const char* instead) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0' || taken) return;
  py::module_::import("warnings")
      .attr("warn")(std::string(name) + "='" + value + "' is not " + format + "; " + instead +
                        " apply (fastnn.info() shows the values in use)",
                    py::module_::import("builtins").attr("RuntimeWarning"));
}

}  // namespace

void bind_runtime(py::module_& m) {
  install_fork_guard();
  // Read once, at import, like FASTNN_ARCH (bind_gemm.cpp): say so when a value is malformed.
  warn_if_ignored("FASTNN_PARALLEL_THRESHOLDS",
                  std::strcmp(parallel_thresholds_source(), "env") == 0,
                  "\"MACS,ELEMENTS\" (two integers from 1 to 2^53)", "the defaults");
  warn_if_ignored("FASTNN_CACHE_SIZES",
                  std::strcmp(gemm_blocking_info().cache_source, "env") == 0,
                  "\"L1D,L2,L3\" (sizes in bytes, K or M suffixes)", "the detected sizes");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1)
          throw py::value_error("set_num_threads(): argument 'n' must be >= 1, got " +
                                std::to_string(n));
        set_num_threads(n);
      },
      py::arg("n"));
  // The OpenMP wait policy the loader found in effect at the first import (JSON text from
  // python/fastnn/_core_loader.py): kept in the library, which stays loaded, so that a
  // re-import (the loader runs again, with fastnn's runtime mapped by then) reports it.
  m.def(
      "_keep_wait_policy",
      [](const std::string& found) {
        static std::string first;
        if (first.empty()) first = found;
        return first;
      },
      py::arg("found"));
  m.def("get_num_threads", &get_num_threads);
  m.def("_set_thread_num_threads", &set_thread_num_threads, py::arg("n"),
        "This thread's own count, ahead of the process-wide one (0: none).");
  m.def("_thread_num_threads", &thread_num_threads);
  m.def("_set_cpu_limit", &set_cpu_limit, py::arg("n"),
        "The CPUs this process may use (0: no cap); kernels run at most that many threads.");
  m.def("_cpu_limit", &cpu_limit);
  m.def("build_info", [] {
    py::dict d;
    d["simd"] = gemm_arch();
    d["elementwise"] = elementwise_arch();
    const GemmBlockingInfo bl = gemm_blocking_info();
    py::dict blocking;
    blocking["mr"] = bl.mr;
    blocking["nr"] = bl.nr;
    blocking["mc"] = bl.mc;
    blocking["kc"] = bl.kc;
    blocking["nc"] = bl.nc;
    if (bl.tall_rows > 0) {
      py::dict tall;
      tall["mr"] = bl.tall_mr;
      tall["nr"] = bl.tall_nr;
      tall["min_rows"] = bl.tall_rows;
      blocking["tall"] = tall;
    } else {
      blocking["tall"] = py::none();
    }
    blocking["l1d"] = bl.l1d;
    blocking["l2"] = bl.l2;
    blocking["l3"] = bl.l3;
    blocking["cache_source"] = bl.cache_source;
    d["gemm_blocking"] = blocking;
    py::dict thresholds;
    thresholds["gemm_macs_per_thread"] = static_cast<long long>(gemm_min_macs_per_thread());
    thresholds["gemm_macs_per_extra_thread"] =
        static_cast<long long>(gemm_macs_per_extra_thread());
    thresholds["elementwise"] = elementwise_threshold();
    thresholds["source"] = parallel_thresholds_source();
    d["parallel_thresholds"] = thresholds;
    d["x86_simd_kernels"] = FASTNN_X86_SIMD == 1;  // built with the *_avx2.cpp files
    d["openmp"] = openmp_runtime();
    d["openmp_enabled"] = openmp_enabled();
    d["compiler"] = compiler();
    return d;
  });
  m.def(
      "_gemm_threads", [](double macs) { return gemm_threads(macs, team_threads()); },
      py::arg("macs"),
      "For tests: the threads a product of `macs` multiply-adds runs on (before the cap of "
      "one per C tile).");
}

}  // namespace fastnn::bind
