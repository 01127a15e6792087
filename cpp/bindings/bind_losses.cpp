// bind_losses.cpp: Python bindings for the losses (losses.h).
//
//   Reduction                                         enum: mean, sum
//   {mse,bce,bce_with_logits}_forward(pred, target, reduction) -> float    1-D
//   {mse,bce,bce_with_logits}_backward(grad, pred, target, reduction)     grad written
//   cross_entropy_forward(logits, labels, label_smoothing, reduction) -> float
//   cross_entropy_backward(grad, logits, labels, label_smoothing, reduction)
//   cross_entropy_forward_backward(grad, logits, labels, label_smoothing, reduction) -> float
//                                                     both in one pass, grad written
// Element-wise losses take flat arrays (the Python layer checks the N-d shapes and
// passes reshape(-1) views). BCE probabilities or targets outside [0, 1] raise ValueError;
// class labels outside [0, C) raise IndexError, as in PyTorch.
#include <pybind11/pybind11.h>

#include <string>
#include <tuple>

#include "checks.h"
#include "gil.h"
#include "fastnn/losses.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

using Forward = double (*)(const float*, const float*, index_t, Reduction);
using Backward = void (*)(float*, const float*, const float*, index_t, Reduction);

// BCE takes probabilities and targets in [0, 1]: PyTorch rejects anything outside (NaN
// included) in either (a target of 2 gave a negative loss).
void require_probabilities(const FloatArray& p, const FloatArray& t, const char* f) {
  for (const auto& [a, arg, what] : {std::tuple{&p, "pred", "input"},
                                     std::tuple{&t, "target", "target"}}) {
    const float* d = a->data();
    for (py::ssize_t i = 0; i < a->shape(0); ++i) {
      if (!(d[i] >= 0.0f && d[i] <= 1.0f))
        throw py::value_error(std::string(f) + "(): argument '" + arg + "' must hold "
                              "probabilities: all elements of " + what + " should be between "
                              "0 and 1, got " + std::to_string(d[i]) + " at index " +
                              std::to_string(i));
    }
  }
}

// Binds name_forward / name_backward for an element-wise loss.
void bind_elementwise(py::module_& m, const std::string& name, Forward fwd, Backward bwd,
                      bool probabilities) {
  const std::string fname = name + "_forward", bname = name + "_backward";
  m.def(
      fname.c_str(),
      [fwd, probabilities, fname](const py::handle& pred_obj, const py::handle& target_obj,
                                  Reduction r) {
        const char* f = fname.c_str();
        FloatArray pred = float_input(pred_obj, f, "pred");
        require_ndim(pred, 1, f, "pred");
        FloatArray target = float_input(target_obj, f, "target");
        require_shape(target, {pred.shape(0)}, f, "target");
        if (probabilities) require_probabilities(pred, target, f);
        ReleasedGil release;
        return fwd(pred.data(), target.data(), pred.shape(0), r);
      },
      py::arg("pred"), py::arg("target"), py::arg("reduction"),
      ("The " + name + " loss of flat pred and target, reduced.").c_str());
  m.def(
      bname.c_str(),
      [bwd, probabilities, bname](const py::handle& grad_obj, const py::handle& pred_obj,
                                  const py::handle& target_obj, Reduction r) {
        const char* f = bname.c_str();
        FloatArray pred = float_input(pred_obj, f, "pred");
        require_ndim(pred, 1, f, "pred");
        FloatArray target = float_input(target_obj, f, "target");
        require_shape(target, {pred.shape(0)}, f, "target");
        FloatArray grad = float_output(grad_obj, f, "grad");
        require_shape(grad, {pred.shape(0)}, f, "grad");
        require_no_overlap(grad, pred, f, "grad", "pred");
        require_no_overlap(grad, target, f, "grad", "target");
        if (probabilities) require_probabilities(pred, target, f);
        ReleasedGil release;
        bwd(grad.mutable_data(), pred.data(), target.data(), pred.shape(0), r);
      },
      py::arg("grad"), py::arg("pred"), py::arg("target"), py::arg("reduction"),
      ("grad = d(" + name + " loss)/d(pred), written.").c_str());
}

// Validated cross-entropy arguments: logits (N, C), labels (N,) in [0, C).
struct CrossEntropyArgs {
  FloatArray logits;
  LabelArray labels;
};

CrossEntropyArgs cross_entropy_args(const py::handle& logits_obj, const py::handle& labels_obj,
                                    float label_smoothing, const char* f) {
  CrossEntropyArgs a{float_input(logits_obj, f, "logits"), label_input(labels_obj, f, "labels")};
  require_ndim(a.logits, 2, f, "logits");
  require_shape(a.labels, {a.logits.shape(0)}, f, "labels");
  if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
    throw py::value_error(std::string(f) + "(): argument 'label_smoothing' must be in [0, 1], got " +
                          std::to_string(label_smoothing));
  const std::int64_t C = a.logits.shape(1);
  const std::int64_t* y = a.labels.data();
  for (py::ssize_t i = 0; i < a.labels.shape(0); ++i) {
    if (y[i] < 0 || y[i] >= C)
      throw py::index_error(std::string(f) + "(): Target " + std::to_string(y[i]) +
                            " is out of bounds: labels must be in [0, " + std::to_string(C) +
                            ") for " + std::to_string(C) + " classes (at index " +
                            std::to_string(i) + ")");
  }
  return a;
}

// The gradient output of a cross-entropy kernel: (N, C) like the logits, separate.
FloatArray cross_entropy_grad(const py::handle& grad_obj, const CrossEntropyArgs& a, const char* f) {
  FloatArray grad = float_output(grad_obj, f, "grad");
  require_shape(grad, {a.logits.shape(0), a.logits.shape(1)}, f, "grad");
  require_no_overlap(grad, a.logits, f, "grad", "logits");
  return grad;
}

}  // namespace

void bind_losses(py::module_& m) {
  py::enum_<Reduction>(m, "Reduction")
      .value("mean", Reduction::mean)
      .value("sum", Reduction::sum);
  bind_elementwise(m, "mse", &mse_forward, &mse_backward, false);
  bind_elementwise(m, "bce", &bce_forward, &bce_backward, true);
  bind_elementwise(m, "bce_with_logits", &bce_with_logits_forward, &bce_with_logits_backward,
                   false);
  m.def(
      "cross_entropy_forward",
      [](const py::handle& logits_obj, const py::handle& labels_obj, float label_smoothing,
         Reduction r) {
        constexpr const char* f = "cross_entropy_forward";
        CrossEntropyArgs a = cross_entropy_args(logits_obj, labels_obj, label_smoothing, f);
        ReleasedGil release;
        return cross_entropy_forward(a.logits.data(), a.labels.data(), a.logits.shape(0),
                                     a.logits.shape(1), label_smoothing, r);
      },
      py::arg("logits"), py::arg("labels"), py::arg("label_smoothing"), py::arg("reduction"),
      "Softmax cross-entropy of logits (N, C) against integer labels (N,), reduced.");
  m.def(
      "cross_entropy_backward",
      [](const py::handle& grad_obj, const py::handle& logits_obj, const py::handle& labels_obj,
         float label_smoothing, Reduction r) {
        constexpr const char* f = "cross_entropy_backward";
        CrossEntropyArgs a = cross_entropy_args(logits_obj, labels_obj, label_smoothing, f);
        FloatArray grad = cross_entropy_grad(grad_obj, a, f);
        ReleasedGil release;
        cross_entropy_backward(grad.mutable_data(), a.logits.data(), a.labels.data(),
                               a.logits.shape(0), a.logits.shape(1), label_smoothing, r);
      },
      py::arg("grad"), py::arg("logits"), py::arg("labels"), py::arg("label_smoothing"),
      py::arg("reduction"), "grad = d(cross-entropy)/d(logits) = (softmax - q) / divisor, written.");
  m.def(
      "cross_entropy_forward_backward",
      [](const py::handle& grad_obj, const py::handle& logits_obj, const py::handle& labels_obj,
         float label_smoothing, Reduction r) {
        constexpr const char* f = "cross_entropy_forward_backward";
        CrossEntropyArgs a = cross_entropy_args(logits_obj, labels_obj, label_smoothing, f);
        FloatArray grad = cross_entropy_grad(grad_obj, a, f);
        ReleasedGil release;
        return cross_entropy_forward_backward(grad.mutable_data(), a.logits.data(),
                                              a.labels.data(), a.logits.shape(0),
                                              a.logits.shape(1), label_smoothing, r);
      },
      py::arg("grad"), py::arg("logits"), py::arg("labels"), py::arg("label_smoothing"),
      py::arg("reduction"),
      "The value of cross_entropy_forward, writing the gradient of cross_entropy_backward into "
      "grad, in one pass over the logits.");
}

}  // namespace fastnn::bind
