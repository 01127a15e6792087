// bind_dropout.cpp: Python bindings for the dropout kernels (placeholder until implemented).
#include <pybind11/pybind11.h>

namespace fastnn::bind {
void bind_dropout(pybind11::module_& m) { (void)m; }
}  // namespace fastnn::bind
