// bind_optim.cpp: Python bindings for the fused optimizer steps (fastnn/optim.h).
//
//   OptimKind                                  enum: sgd, adam, rmsprop, adagrad
//   optimizer_step(kind, group, tensors, isa="best")
//       one fused update of a whole parameter group: group is the optimizer's group
//       dict, tensors a list of (param, grad, state0, state1, state2, step) tuples
//       (optim_group.h; slots as in fastnn/optim.h's OptimTensor). isa "scalar",
//       "avx2", "avx512emu" or "avx512" forces a path (tests); all give the same bits.
//   sgd_step / adam_step / rmsprop_step / adagrad_step
//       the single-tensor forms, with named arguments.
//   _adam_bc2_division(a, out, beta2, step, isa)
//       out = a / sqrt(1 - beta2^step) as Adam's update on path isa divides (tests).
// Each binding updates param and its state buffers in place. They must be
// float32, C-contiguous, writeable ndarrays of param's size that share no memory;
// grad may be any real numeric array of that size (converted once). Optional
// state buffers are None when the option that needs them is off.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "checks.h"
#include "gil.h"
#include "fastnn/optim.h"
#include "optim_group.h"

namespace fastnn::bind {

namespace {

// A named buffer the kernel writes in place; data() is null for an unused optional one.
struct Buffer {
  const char* name;
  FloatArray array;
  bool used;
  float* data() { return used ? array.mutable_data() : nullptr; }
};

// Validates the in-place buffers and grad of one optimizer step. `required` tells,
// for each optional buffer, whether the caller's options need it.
class StepArgs {
 public:
  StepArgs(const char* func, const py::handle& param, const py::handle& grad) : func_(func) {
    param_ = add(param, "param");
    grad_ = float_input(grad, func, "grad");
    // array_t::ensure returns a null array when NumPy refuses the conversion.
    if (!grad_)
      throw py::type_error(std::string(func) + "(): argument 'grad' could not be converted to " +
                           "float32 (pass a float32 array)");
    require_size(grad_, "grad");
  }

  Buffer add(const py::handle& obj, const char* name) {
    Buffer b{name, float_output(obj, func_, name), true};
    if (!outputs_.empty()) require_size(b.array, name);
    for (const Buffer& other : outputs_) require_no_overlap(b.array, other.array, func_, name, other.name);
    outputs_.push_back(b);
    return b;
  }

  // An optional buffer: must be an array when `needed`, and is ignored otherwise.
  Buffer add_optional(const py::handle& obj, const char* name, bool needed, const char* why) {
    if (!needed) return Buffer{name, FloatArray(), false};
    if (obj.is_none())
      throw py::value_error(std::string(func_) + "(): argument '" + name + "' is required when " +
                            why + ", got None");
    return add(obj, name);
  }

  // Checked last, so that grad is compared against every output.
  void finish() {
    for (const Buffer& out : outputs_) require_no_overlap(out.array, grad_, func_, out.name, "grad");
  }

  float* param() { return param_.data(); }
  const float* grad() const { return grad_.data(); }
  index_t n() const { return static_cast<index_t>(param_.array.size()); }

 private:
  void require_size(const py::array& a, const char* name) const {
    if (a.size() != param_.array.size())
      throw py::value_error(std::string(func_) + "(): argument '" + name + "' must have " +
                            std::to_string(param_.array.size()) + " elements like 'param', got " +
                            std::to_string(a.size()) + " with shape " + shape_str(a));
  }

  const char* func_;
  Buffer param_{"param", FloatArray(), false};
  FloatArray grad_;
  std::vector<Buffer> outputs_;
};

OptimIsa parse_isa(const std::string& isa) {
  OptimIsa out = OptimIsa::best;
  if (isa == "scalar")
    out = OptimIsa::scalar;
  else if (isa == "avx2")
    out = OptimIsa::avx2;
  else if (isa == "avx512emu")
    out = OptimIsa::avx512emu;
  else if (isa == "avx512")
    out = OptimIsa::avx512;
  else if (isa != "best")
    throw py::value_error("optimizer_step(): argument 'isa' must be 'best', 'scalar', 'avx2', "
                          "'avx512emu' or 'avx512', got '" + isa + "'");
  if (!optim_isa_supported(out))
    throw py::value_error("optimizer_step(): isa '" + isa + "' is not supported by this CPU");
  return out;
}

}  // namespace

void bind_optim(py::module_& m) {
  py::enum_<OptimKind>(m, "OptimKind")
      .value("sgd", OptimKind::sgd)
      .value("adam", OptimKind::adam)
      .value("rmsprop", OptimKind::rmsprop)
      .value("adagrad", OptimKind::adagrad);

  m.def(
      "optimizer_step",
      [](OptimKind kind, const py::dict& group, const py::list& tensors, const std::string& isa) {
        const OptimIsa chosen = parse_isa(isa);
        OptimGroup g;
        g.read(kind, group, tensors, "optimizer_step");
        ReleasedGil release;
        g.step(chosen);
      },
      py::arg("kind"), py::arg("group"), py::arg("tensors"), py::arg("isa") = "best",
      "One fused update of a parameter group: tensors = [(param, grad, state0, state1, state2, "
      "step), ...], hyper-parameters read from the group dict.");

  m.def(
      "_adam_bc2_division",
      [](py::handle a_obj, py::handle out_obj, double beta2, std::int64_t step,
         const std::string& isa) {
        constexpr const char* f = "_adam_bc2_division";
        const OptimIsa chosen = parse_isa(isa);
        FloatArray a = float_input(a_obj, f, "a");
        require_ndim(a, 1, f, "a");
        FloatArray out = float_output(out_obj, f, "out");
        require_shape(out, {a.shape(0)}, f, "out");
        require_no_overlap(out, a, f, "out", "a");
        ReleasedGil release;
        adam_bc2_division(a.data(), out.mutable_data(), a.shape(0), beta2, step, chosen);
      },
      py::arg("a"), py::arg("out"), py::arg("beta2"), py::arg("step"), py::arg("isa"),
      "out = a / sqrt(1 - beta2^step), divided as Adam's update on path isa divides (tests).");

  m.def(
      "sgd_step",
      [](py::handle param, py::handle momentum_buffer, py::handle grad, double lr, double momentum,
         double dampening, double weight_decay, bool nesterov, bool maximize, bool init_buffer) {
        StepArgs a("sgd_step", param, grad);
        Buffer buf = a.add_optional(momentum_buffer, "momentum_buffer", momentum != 0.0,
                                    "momentum != 0");
        a.finish();
        ReleasedGil release;
        sgd_step(a.param(), buf.data(), a.grad(), a.n(), lr, momentum, dampening, weight_decay,
                 nesterov, maximize, init_buffer);
      },
      py::arg("param"), py::arg("momentum_buffer"), py::arg("grad"), py::arg("lr"),
      py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
      py::arg("maximize"), py::arg("init_buffer"),
      "SGD step in place: updates param and momentum_buffer (None when momentum == 0).");

  m.def(
      "adam_step",
      [](py::handle param, py::handle exp_avg, py::handle exp_avg_sq, py::handle max_exp_avg_sq,
         py::handle grad, double lr, double beta1, double beta2, double eps, double weight_decay,
         bool amsgrad, bool maximize, bool decoupled_weight_decay, std::int64_t step) {
        if (step < 1)
          throw py::value_error("adam_step(): argument 'step' must be >= 1, got " +
                                std::to_string(step));
        StepArgs a("adam_step", param, grad);
        Buffer m1 = a.add(exp_avg, "exp_avg");
        Buffer m2 = a.add(exp_avg_sq, "exp_avg_sq");
        Buffer mx = a.add_optional(max_exp_avg_sq, "max_exp_avg_sq", amsgrad, "amsgrad");
        a.finish();
        ReleasedGil release;
        adam_step(a.param(), m1.data(), m2.data(), mx.data(), a.grad(), a.n(), lr, beta1, beta2,
                  eps, weight_decay, amsgrad, maximize, decoupled_weight_decay, step);
      },
      py::arg("param"), py::arg("exp_avg"), py::arg("exp_avg_sq"), py::arg("max_exp_avg_sq"),
      py::arg("grad"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
      py::arg("decoupled_weight_decay"), py::arg("step"),
      "Adam/AdamW step in place at step count `step` >= 1 (after incrementing).");

  m.def(
      "rmsprop_step",
      [](py::handle param, py::handle square_avg, py::handle grad_avg, py::handle momentum_buffer,
         py::handle grad, double lr, double alpha, double eps, double weight_decay,
         double momentum, bool centered, bool maximize) {
        StepArgs a("rmsprop_step", param, grad);
        Buffer sq = a.add(square_avg, "square_avg");
        Buffer ga = a.add_optional(grad_avg, "grad_avg", centered, "centered");
        Buffer buf = a.add_optional(momentum_buffer, "momentum_buffer", momentum > 0.0,
                                    "momentum > 0");
        a.finish();
        ReleasedGil release;
        rmsprop_step(a.param(), sq.data(), ga.data(), buf.data(), a.grad(), a.n(), lr, alpha, eps,
                     weight_decay, momentum, centered, maximize);
      },
      py::arg("param"), py::arg("square_avg"), py::arg("grad_avg"), py::arg("momentum_buffer"),
      py::arg("grad"), py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
      "RMSprop step in place (grad_avg None unless centered, momentum_buffer None unless "
      "momentum > 0).");

  m.def(
      "adagrad_step",
      [](py::handle param, py::handle sum, py::handle grad, double lr, double lr_decay,
         double weight_decay, double eps, bool maximize, std::int64_t step) {
        if (step < 1)
          throw py::value_error("adagrad_step(): argument 'step' must be >= 1, got " +
                                std::to_string(step));
        StepArgs a("adagrad_step", param, grad);
        Buffer s = a.add(sum, "sum");
        a.finish();
        ReleasedGil release;
        adagrad_step(a.param(), s.data(), a.grad(), a.n(), lr, lr_decay, weight_decay, eps,
                     maximize, step);
      },
      py::arg("param"), py::arg("sum"), py::arg("grad"), py::arg("lr"), py::arg("lr_decay"),
      py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), py::arg("step"),
      "Adagrad step in place at step count `step` >= 1 (after incrementing).");
}

}  // namespace fastnn::bind
