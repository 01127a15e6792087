// bind_losses.cpp: Python bindings for the losses kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_losses(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
