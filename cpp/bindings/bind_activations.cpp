// bind_activations.cpp: Python bindings for the activations kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_activations(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
