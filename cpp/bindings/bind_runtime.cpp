// bind_runtime.cpp: thread control and build facts for fastnn.info().
#include <pybind11/pybind11.h>

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

}  // namespace

void bind_runtime(py::module_& m) {
  install_fork_guard();
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1)
          throw py::value_error("set_num_threads(): argument 'n' must be >= 1, got " +
                                std::to_string(n));
        set_num_threads(n);
      },
      py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
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
    blocking["l1d"] = bl.l1d;
    blocking["l2"] = bl.l2;
    blocking["l3"] = bl.l3;
    blocking["cache_source"] = bl.cache_source;
    d["gemm_blocking"] = blocking;
    py::dict thresholds;
    thresholds["gemm_macs_per_thread"] = static_cast<long long>(gemm_min_macs_per_thread());
    thresholds["elementwise"] = elementwise_threshold();
    thresholds["source"] = parallel_thresholds_source();
    d["parallel_thresholds"] = thresholds;
    d["x86_simd_kernels"] = FASTNN_X86_SIMD == 1;  // built with the *_avx2.cpp files
    d["openmp"] = openmp_runtime();
    d["openmp_enabled"] = openmp_enabled();
    d["compiler"] = compiler();
    return d;
  });
}

}  // namespace fastnn::bind
