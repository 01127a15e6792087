// module.cpp: the compiled module fastnn._core. Each concern binds itself in its
// own bind_<concern>.cpp; this file only assembles them.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastnn::bind {
void bind_runtime(py::module_& m);
void bind_gemm(py::module_& m);
void bind_linear(py::module_& m);
void bind_activations(py::module_& m);
void bind_losses(py::module_& m);
void bind_dropout(py::module_& m);
void bind_optim(py::module_& m);
void bind_train(py::module_& m);
}  // namespace fastnn::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastnn compiled kernels (float32, OpenMP). Use the public fastnn API instead.";
  fastnn::bind::bind_runtime(m);
  fastnn::bind::bind_activations(m);  // first: the Activation enum is a default argument below
  fastnn::bind::bind_gemm(m);
  fastnn::bind::bind_linear(m);
  fastnn::bind::bind_losses(m);
  fastnn::bind::bind_dropout(m);
  fastnn::bind::bind_optim(m);
  fastnn::bind::bind_train(m);
}
