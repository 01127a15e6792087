// bind_optim.cpp: Python bindings for the optim kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_optim(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
