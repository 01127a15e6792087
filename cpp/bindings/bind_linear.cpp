// bind_linear.cpp: Python bindings for linear_forward / linear_backward (linear.h).
//
//   linear_forward(y, x, weight, bias, activation=identity, activation_param=0)
//       y (N, out) = act(x @ weight^T + bias), written
//   linear_backward(dx, dW, db, dy, x, weight, activation=identity, activation_param=0,
//                   act_x=None, act_y=None)
//       dx = (dy @ weight) * act'(act_x, act_y) written; dW and db accumulated
// bias, dx and db may be None. act_x / act_y are the input / output of the activation
// that produced x, shape (N, in); the derivative reads one of them (activations.h). Inputs of any real dtype and strides are converted
// to float32 once; outputs must be float32 C-contiguous and must not share memory
// with the inputs.
#include <pybind11/pybind11.h>

#include "checks.h"
#include "gil.h"
#include "fastnn/linear.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

void forward(const py::handle& y_obj, const py::handle& x_obj, const py::handle& w_obj,
             const py::handle& b_obj, Activation act, float act_param) {
  constexpr const char* f = "linear_forward";
  require_one_param_activation(act, f);
  FloatArray x = float_input(x_obj, f, "x");
  require_ndim(x, 2, f, "x");
  FloatArray W = float_input(w_obj, f, "weight");
  require_shape(W, {-1, x.shape(1)}, f, "weight");
  const index_t N = x.shape(0), in = x.shape(1), out = W.shape(0);
  FloatArray y = float_output(y_obj, f, "y");
  require_shape(y, {N, out}, f, "y");
  require_no_overlap(y, x, f, "y", "x");
  require_no_overlap(y, W, f, "y", "weight");
  const float* b = nullptr;
  FloatArray bias;
  if (!b_obj.is_none()) {
    bias = float_input(b_obj, f, "bias");
    require_shape(bias, {out}, f, "bias");
    require_no_overlap(y, bias, f, "y", "bias");
    b = bias.data();
  }
  ReleasedGil release;
  linear_forward(y.mutable_data(), x.data(), W.data(), b, N, in, out, act, act_param);
}

void backward(const py::handle& dx_obj, const py::handle& dw_obj, const py::handle& db_obj,
              const py::handle& dy_obj, const py::handle& x_obj, const py::handle& w_obj,
              Activation act, float act_param, const py::handle& ax_obj,
              const py::handle& ay_obj) {
  constexpr const char* f = "linear_backward";
  require_one_param_activation(act, f);
  FloatArray x = float_input(x_obj, f, "x");
  require_ndim(x, 2, f, "x");
  FloatArray W = float_input(w_obj, f, "weight");
  require_shape(W, {-1, x.shape(1)}, f, "weight");
  const index_t N = x.shape(0), in = x.shape(1), out = W.shape(0);
  FloatArray dy = float_input(dy_obj, f, "dy");
  require_shape(dy, {N, out}, f, "dy");
  FloatArray dW = float_output(dw_obj, f, "dW");
  require_shape(dW, {out, in}, f, "dW");
  require_no_overlap(dW, dy, f, "dW", "dy");
  require_no_overlap(dW, x, f, "dW", "x");
  require_no_overlap(dW, W, f, "dW", "weight");
  float* dx_ptr = nullptr;
  FloatArray dx;
  if (!dx_obj.is_none()) {
    dx = float_output(dx_obj, f, "dx");
    require_shape(dx, {N, in}, f, "dx");
    require_no_overlap(dx, dy, f, "dx", "dy");
    require_no_overlap(dx, x, f, "dx", "x");
    require_no_overlap(dx, W, f, "dx", "weight");
    require_no_overlap(dx, dW, f, "dx", "dW");
    dx_ptr = dx.mutable_data();
  }
  float* db_ptr = nullptr;
  FloatArray db;
  if (!db_obj.is_none()) {
    db = float_output(db_obj, f, "db");
    require_shape(db, {out}, f, "db");
    require_no_overlap(db, dy, f, "db", "dy");
    require_no_overlap(db, x, f, "db", "x");
    require_no_overlap(db, dW, f, "db", "dW");
    if (dx_ptr != nullptr) require_no_overlap(db, dx, f, "db", "dx");
    db_ptr = db.mutable_data();
  }
  // The previous activation's derivative, folded into dx.
  FloatArray act_x, act_y;
  const float* ax = nullptr;
  const float* ay = nullptr;
  if (act != Activation::identity && dx_ptr != nullptr) {
    if (activation_backward_reads_x(act)) {
      if (ax_obj.is_none())
        throw py::value_error(std::string(f) + "(): argument 'act_x' is required for this "
                              "activation's derivative");
      act_x = float_input(ax_obj, f, "act_x");
      require_shape(act_x, {N, in}, f, "act_x");
      require_no_overlap(dx, act_x, f, "dx", "act_x");
      ax = act_x.data();
    }
    if (activation_backward_reads_y(act)) {
      if (ay_obj.is_none())
        throw py::value_error(std::string(f) + "(): argument 'act_y' is required for this "
                              "activation's derivative");
      act_y = float_input(ay_obj, f, "act_y");
      require_shape(act_y, {N, in}, f, "act_y");
      require_no_overlap(dx, act_y, f, "dx", "act_y");
      ay = act_y.data();
    }
  }
  ReleasedGil release;
  linear_backward(dx_ptr, dW.mutable_data(), db_ptr, dy.data(), x.data(), W.data(), N, in, out,
                  act, act_param, ax, ay);
}

}  // namespace

void bind_linear(py::module_& m) {
  m.def("linear_forward", &forward, py::arg("y"), py::arg("x"), py::arg("weight"),
        py::arg("bias").none(true), py::arg("activation") = Activation::identity,
        py::arg("activation_param") = 0.0f,
        "y[N, out] = act(x[N, in] @ weight[out, in]^T + bias[out]) (bias may be None), "
        "bias and activation fused into the GEMM write-back.");
  m.def("linear_backward", &backward, py::arg("dx").none(true), py::arg("dW"),
        py::arg("db").none(true), py::arg("dy"), py::arg("x"), py::arg("weight"),
        py::arg("activation") = Activation::identity, py::arg("activation_param") = 0.0f,
        py::arg("act_x") = py::none(), py::arg("act_y") = py::none(),
        "dx = (dy @ weight) * act'(act_x, act_y) (written, unless None); dW += dy^T @ x; "
        "db += dy.sum(0) (unless None). act' is the derivative of the activation that "
        "produced x, folded into the write-back of dx.");
}

}  // namespace fastnn::bind
