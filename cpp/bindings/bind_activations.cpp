// bind_activations.cpp: Python bindings for the activations and softmax (activations.h).
//
//   Activation                                   enum: identity, relu, leaky_relu, sigmoid,
//                                                tanh, gelu, gelu_tanh, silu, elu, softplus
//   activation_forward(act, param, y, x, param2=None)  1-D, y written; y may be x (in
//                                                place); param2 softplus's threshold (required
//                                                there, ignored elsewhere)
//   activation_backward(act, param, dx, dy, x, y, param2=None)  1-D, dx written; x or y may be None
//                                                where act does not read it; dx may be
//                                                any of dy, x, y (in place)
//   softmax_forward(y, x), softmax_backward(dx, dy, y)   2-D, over the last axis
//   log_softmax_forward(y, x), log_softmax_backward(dx, dy, y)   the same for log-softmax
//   elementwise_arch() -> str                    SIMD path of the element-wise kernels
// For tests:
//   _elementwise_archs() -> list[str]            the paths this CPU can run (EwIsa order)
//   _vecmath(arch, func, y, x)                   y = func(x) on path arch (util/vecmath.h)
// Element-wise ops take flat arrays: the Python layer passes reshape(-1) views.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "checks.h"
#include "gil.h"
#include "fastnn/activations.h"
#include "util/isa.h"
#include "util/vecmath.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

// The element-wise kernels read element i of every input before writing element i
// of the output, so an output may be exactly an input (in place); a partial
// overlap would read already-written elements and is rejected.
void require_same_or_disjoint(const FloatArray& out, const FloatArray& in, const char* f,
                              const char* out_name, const char* in_name) {
  if (out.data() != in.data()) require_no_overlap(out, in, f, out_name, in_name);
}

// param2, softplus's threshold: required for softplus (a default would be a silent
// threshold), ignored otherwise.
float second_param(Activation act, const std::optional<float>& param2, const char* f) {
  if (act == Activation::softplus && !param2)
    throw py::value_error(std::string(f) +
                          "(): softplus needs argument 'param2' (its threshold)");
  return param2.value_or(0.0f);
}

void forward(Activation act, float param, const py::handle& y_obj, const py::handle& x_obj,
             std::optional<float> param2_arg) {
  constexpr const char* f = "activation_forward";
  const float param2 = second_param(act, param2_arg, f);
  FloatArray x = float_input(x_obj, f, "x");
  require_ndim(x, 1, f, "x");
  FloatArray y = float_output(y_obj, f, "y");
  require_shape(y, {x.shape(0)}, f, "y");
  require_same_or_disjoint(y, x, f, "y", "x");
  ReleasedGil release;
  activation_forward(act, param, param2, y.mutable_data(), x.data(), x.shape(0));
}

// The cached forward input or output `name`, checked against dy; nullptr if None.
const float* cached(const py::handle& obj, bool needed, Activation act, const FloatArray& dx,
                    const FloatArray& dy, FloatArray& holder, const char* name) {
  constexpr const char* f = "activation_backward";
  if (obj.is_none()) {
    if (needed)
      throw py::value_error(std::string(f) + "(): argument '" + name + "' is required for " +
                            std::string(py::str(py::cast(act))));
    return nullptr;
  }
  holder = float_input(obj, f, name);
  require_shape(holder, {dy.shape(0)}, f, name);
  require_same_or_disjoint(dx, holder, f, "dx", name);
  return holder.data();
}

void backward(Activation act, float param, const py::handle& dx_obj, const py::handle& dy_obj,
              const py::handle& x_obj, const py::handle& y_obj, std::optional<float> param2_arg) {
  constexpr const char* f = "activation_backward";
  const float param2 = second_param(act, param2_arg, f);
  FloatArray dy = float_input(dy_obj, f, "dy");
  require_ndim(dy, 1, f, "dy");
  FloatArray dx = float_output(dx_obj, f, "dx");
  require_shape(dx, {dy.shape(0)}, f, "dx");
  require_same_or_disjoint(dx, dy, f, "dx", "dy");
  FloatArray x, y;
  const float* xp = cached(x_obj, activation_backward_reads_x(act), act, dx, dy, x, "x");
  const float* yp = cached(y_obj, activation_backward_reads_y(act), act, dx, dy, y, "y");
  ReleasedGil release;
  activation_backward(act, param, param2, dx.mutable_data(), dy.data(), xp, yp, dy.shape(0));
}

// A row-wise forward (softmax, log-softmax) of 2-D x into y, over the last axis.
using RowsForward = void (*)(float* y, const float* x, index_t rows, index_t cols);
// Its backward from dy and the forward's output y into dx.
using RowsBackward = void (*)(float* dx, const float* dy, const float* y, index_t rows,
                              index_t cols);

void rows_forward(RowsForward kernel, const char* f, const py::handle& y_obj,
                  const py::handle& x_obj) {
  FloatArray x = float_input(x_obj, f, "x");
  require_ndim(x, 2, f, "x");
  FloatArray y = float_output(y_obj, f, "y");
  require_shape(y, {x.shape(0), x.shape(1)}, f, "y");
  require_no_overlap(y, x, f, "y", "x");
  ReleasedGil release;
  kernel(y.mutable_data(), x.data(), x.shape(0), x.shape(1));
}

void rows_backward(RowsBackward kernel, const char* f, const py::handle& dx_obj,
                   const py::handle& dy_obj, const py::handle& y_obj) {
  FloatArray y = float_input(y_obj, f, "y");
  require_ndim(y, 2, f, "y");
  FloatArray dy = float_input(dy_obj, f, "dy");
  require_shape(dy, {y.shape(0), y.shape(1)}, f, "dy");
  FloatArray dx = float_output(dx_obj, f, "dx");
  require_shape(dx, {y.shape(0), y.shape(1)}, f, "dx");
  require_no_overlap(dx, dy, f, "dx", "dy");
  require_no_overlap(dx, y, f, "dx", "y");
  ReleasedGil release;
  kernel(dx.mutable_data(), dy.data(), y.data(), y.shape(0), y.shape(1));
}

// The element-wise paths this CPU runs, in EwIsa order.
std::vector<std::string> elementwise_archs() {
  std::vector<std::string> archs;
  for (EwIsa isa : {EwIsa::scalar, EwIsa::avx2, EwIsa::avx512emu, EwIsa::avx512})
    if (ew_isa_runs(isa)) archs.emplace_back(ew_isa_name(isa));
  return archs;
}

void vecmath_by_name(const std::string& arch, const std::string& func, const py::handle& y_obj,
                     const py::handle& x_obj) {
  constexpr const char* f = "_vecmath";
  const std::vector<std::string> archs = elementwise_archs();
  vecmath::ArrayFn fn = nullptr;
  for (EwIsa isa : {EwIsa::scalar, EwIsa::avx2, EwIsa::avx512emu, EwIsa::avx512})
    if (arch == ew_isa_name(isa) && ew_isa_runs(isa))
      fn = vecmath::find_vecmath(isa, func.c_str());
  if (fn == nullptr)
    throw py::value_error(std::string(f) + "(): no function '" + func + "' on path '" + arch +
                          "' (this CPU runs " + std::string(py::str(py::cast(archs))) + ")");
  FloatArray x = float_input(x_obj, f, "x");
  require_ndim(x, 1, f, "x");
  FloatArray y = float_output(y_obj, f, "y");
  require_shape(y, {x.shape(0)}, f, "y");
  ReleasedGil release;
  fn(y.mutable_data(), x.data(), x.shape(0));
}

}  // namespace

void bind_activations(py::module_& m) {
  py::enum_<Activation>(m, "Activation")
      .value("identity", Activation::identity)
      .value("relu", Activation::relu)
      .value("leaky_relu", Activation::leaky_relu)
      .value("sigmoid", Activation::sigmoid)
      .value("tanh", Activation::tanh)
      .value("gelu", Activation::gelu)
      .value("gelu_tanh", Activation::gelu_tanh)
      .value("silu", Activation::silu)
      .value("elu", Activation::elu)
      .value("softplus", Activation::softplus);
  m.def("activation_forward", &forward, py::arg("act"), py::arg("param"), py::arg("y"),
        py::arg("x"), py::arg("param2") = py::none(),
        "y = act(x) element-wise (1-D); param is leaky_relu's negative slope, elu's alpha or "
        "softplus's beta, param2 softplus's threshold.");
  m.def("activation_backward", &backward, py::arg("act"), py::arg("param"), py::arg("dx"),
        py::arg("dy"), py::arg("x").none(true), py::arg("y").none(true),
        py::arg("param2") = py::none(),
        "dx = dy * act'(x) element-wise (1-D), from the forward input x and/or output y.");
  m.def(
      "softmax_forward",
      [](const py::handle& y, const py::handle& x) {
        rows_forward(&softmax_forward, "softmax_forward", y, x);
      },
      py::arg("y"), py::arg("x"), "y = softmax(x) over the last axis of a 2-D array.");
  m.def(
      "softmax_backward",
      [](const py::handle& dx, const py::handle& dy, const py::handle& y) {
        rows_backward(&softmax_backward, "softmax_backward", dx, dy, y);
      },
      py::arg("dx"), py::arg("dy"), py::arg("y"),
      "dx = y * (dy - sum(dy * y, axis=-1, keepdims=True)) for a 2-D array.");
  m.def(
      "log_softmax_forward",
      [](const py::handle& y, const py::handle& x) {
        rows_forward(&log_softmax_forward, "log_softmax_forward", y, x);
      },
      py::arg("y"), py::arg("x"), "y = log_softmax(x) over the last axis of a 2-D array.");
  m.def(
      "log_softmax_backward",
      [](const py::handle& dx, const py::handle& dy, const py::handle& y) {
        rows_backward(&log_softmax_backward, "log_softmax_backward", dx, dy, y);
      },
      py::arg("dx"), py::arg("dy"), py::arg("y"),
      "dx = dy - exp(y) * sum(dy, axis=-1, keepdims=True) for a 2-D array.");
  m.def("elementwise_arch", &elementwise_arch,
        "The SIMD path of the element-wise kernels: 'avx512', 'avx512emu', 'avx2' or 'scalar' "
        "(FASTNN_ARCH caps or forces it).");
  m.def("_elementwise_archs", &elementwise_archs,
        "For tests: the element-wise SIMD paths this CPU can run, best last.");
  m.def("_vecmath", &vecmath_by_name, py::arg("arch"), py::arg("func"), py::arg("y"),
        py::arg("x"),
        "For tests: y = func(x) (exp, log, tanh, sigmoid, erf) with the float32 maths of path "
        "arch, 1-D; y may be x.");
}

}  // namespace fastnn::bind
