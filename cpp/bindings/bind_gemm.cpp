// bind_gemm.cpp: Python bindings for the gemm kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_gemm(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
