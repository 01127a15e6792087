// bind_linear.cpp: Python bindings for the linear kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_linear(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
