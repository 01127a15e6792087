// bind_train.cpp: the one-call training step behind fastnn.nn.TrainStep (train.h).
//
//   TrainPlan(layers, loss_kind, optim_kind)
//       layers: one (kind, in, out, bias, activation, param, module[, src]) tuple per
//       layer (LayerSpec; module is the Linear whose weight/bias are read on every
//       call, else None; src: an add layer's skip source, -1 for the input).
//   plan.step(x, y, dropout, reduction, label_smoothing, prepare) -> float
//       x (N, in) float32 (other real dtypes converted once); y int64 labels (N,)
//       for cross-entropy, else float targets (N, out); dropout: per dropout layer
//       None (identity) or (p, seed); prepare(): the optimizer's
//       [(group, tensors), ...] (optim_group.h), called after every argument is
//       checked, so a bad batch changes nothing. Then, with the GIL released:
//       zero the optimizer's gradients, forward, loss, backward, optimizer update
//       (the Linear gradients the backward writes whole are not zeroed first:
//       choose_written).
//   plan.output() -> a copy of the last step's output (N, out).
// A plan runs one step at a time; a concurrent call raises RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "checks.h"
#include "gil.h"
#include "fastnn/threads.h"
#include "fastnn/train.h"
#include "optim_group.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

constexpr const char* kFunc = "TrainStep";

// One call of a TrainStep at a time: a second caller (another thread) gets an error
// rather than waiting, which would hold the GIL that the running step needs back. The
// owner is the fork generation (threads.h) of the process whose thread holds it, so a
// child made by fork() while a parent's thread was inside the step finds it free (a
// std::mutex stayed locked there forever: every call in the child raised).
class StepFlag {
 public:
  bool try_take() {
    const unsigned here = fork_generation();
    unsigned owner = owner_.load();
    while (owner != here) {  // free (0), or taken in a process this one was forked from
      if (owner_.compare_exchange_weak(owner, here)) return true;
    }
    return false;
  }
  void give_back() { owner_.store(0); }

 private:
  std::atomic<unsigned> owner_{0};
};

// Takes the flag for a scope (raises when another thread holds it).
class StepScope {
 public:
  explicit StepScope(StepFlag& flag) : flag_(flag) {
    if (!flag_.try_take())
      throw std::runtime_error("TrainStep: another thread is using this step (a step, or "
                               "reading its output); use one TrainStep (and one model) per "
                               "thread");
  }
  ~StepScope() { flag_.give_back(); }
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

 private:
  StepFlag& flag_;
};

class PyTrainPlan {
 public:
  PyTrainPlan(const py::list& layers, LossKind loss_kind, OptimKind optim_kind)
      : plan_(specs(layers), LossSpec{loss_kind, Reduction::mean, 0.0f}), optim_kind_(optim_kind) {
    for (const py::handle item : layers) {
      const auto t = py::reinterpret_borrow<py::tuple>(item);
      if (t[0].cast<LayerKind>() == LayerKind::linear) {
        linear_modules_.push_back(t[6]);
        linear_shapes_.push_back({t[1].cast<index_t>(), t[2].cast<index_t>(), t[3].cast<bool>()});
      }
    }
    linear_.resize(linear_modules_.size());
    dropout_.resize(static_cast<std::size_t>(plan_.count(LayerKind::dropout)));
  }

  double step(const py::handle& x_obj, const py::handle& y_obj, const py::list& dropout,
              Reduction reduction, float label_smoothing, const py::function& prepare) {
    const StepScope running(running_);
    keep_.clear();
    TrainBatch b = batch(x_obj, y_obj);
    read_linear();
    read_dropout(dropout);
    b.linear = linear_.data();
    b.dropout = dropout_.data();
    if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
      throw py::value_error("TrainStep: label_smoothing must be in [0, 1], got " +
                            std::to_string(label_smoothing));

    const py::list groups = python_call(prepare);  // Python code (gil.h)
    if (groups_.size() < groups.size()) groups_.resize(groups.size());
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const auto gt = py::reinterpret_borrow<py::tuple>(groups[k]);
      groups_[k].read(optim_kind_, gt[0], gt[1], "TrainStep.optimizer_step", true);
    }
    choose_written(groups.size());
    double value = 0.0;
    {
      ReleasedGil release;
      for (std::size_t k = 0; k < groups.size(); ++k) groups_[k].zero_grads(written_);
      value = plan_.forward_backward(b, reduction, label_smoothing);
      for (std::size_t k = 0; k < groups.size(); ++k) groups_[k].step();
    }
    last_rows_ = b.N;
    for (std::size_t k = 0; k < groups.size(); ++k) groups_[k].keep.clear();
    keep_.clear();
    return value;
  }

  py::array_t<float> output() const {
    const StepScope running(running_);
    py::array_t<float> out({last_rows_, plan_.out_features()});
    if (last_rows_ > 0)
      std::memcpy(out.mutable_data(), plan_.output(),
                  sizeof(float) * static_cast<std::size_t>(last_rows_ * plan_.out_features()));
    return out;
  }

 private:
  static std::vector<LayerSpec> specs(const py::list& layers) {
    std::vector<LayerSpec> out;
    for (const py::handle item : layers) {
      const auto t = py::reinterpret_borrow<py::tuple>(item);
      LayerSpec s;
      s.kind = t[0].cast<LayerKind>();
      s.in = t[1].cast<index_t>();
      s.out = t[2].cast<index_t>();
      s.bias = t[3].cast<bool>();
      s.act = t[4].cast<Activation>();
      require_one_param_activation(s.act, "TrainPlan");
      s.param = t[5].cast<float>();
      if (t.size() > 7) s.src = t[7].cast<index_t>();
      out.push_back(s);
    }
    return out;
  }

  TrainBatch batch(const py::handle& x_obj, const py::handle& y_obj) {
    TrainBatch b{};
    FloatArray x = float_input(x_obj, kFunc, "x");
    require_shape(x, {-1, plan_.in_features()}, kFunc, "x");
    b.N = x.shape(0);
    if (b.N == 0) throw py::value_error("TrainStep: empty batch: 'x' has shape " + shape_str(x));
    b.x = x.data();
    keep_.push_back(std::move(x));
    const index_t C = plan_.out_features();
    if (plan_.loss().kind == LossKind::cross_entropy) {
      LabelArray y = label_input(y_obj, kFunc, "y");
      require_shape(y, {b.N}, kFunc, "y");
      const std::int64_t* labels = y.data();
      for (index_t i = 0; i < b.N; ++i)
        if (labels[i] < 0 || labels[i] >= C)
          throw py::index_error("TrainStep: Target " + std::to_string(labels[i]) +
                                " is out of bounds: labels must be in [0, " + std::to_string(C) +
                                ") (at index " + std::to_string(i) + ")");
      b.labels = labels;
      labels_ = std::move(y);
    } else {
      FloatArray y = float_input(y_obj, kFunc, "y");
      require_shape(y, {b.N, C}, kFunc, "y");
      b.target = y.data();
      keep_.push_back(std::move(y));
    }
    return b;
  }

  // Which Linear gradients the backward writes instead of accumulating into the zeros
  // that zero_grads would put there (linear_backward: the same values, without the
  // zeroing pass and the read of the zeros in the dW product and the bias sums): a
  // dW or db that lies inside a gradient of the step's optimizer, the first time the
  // backward (last layer first) reaches it. A buffer that two layers share is written
  // by the later and accumulated into by the earlier; one outside the optimizer keeps
  // accumulating across steps, as zero_grads leaves it alone. Sets the layers' flags
  // and written_ (zero_grads skips those ranges).
  void choose_written(std::size_t n_groups) {
    written_.clear();
    met_.clear();
    auto claim = [&](const float* p, index_t n) {
      const FloatRange r{p, p + n};
      bool fresh = true;
      for (const FloatRange& q : met_) fresh = fresh && !(r.lo < q.hi && q.lo < r.hi);
      met_.push_back(r);
      if (!fresh || n == 0) return false;
      for (std::size_t g = 0; g < n_groups; ++g)
        if (groups_[g].holds_grad(r)) {
          written_.push_back(r);
          return true;
        }
      return false;
    };
    for (std::size_t k = linear_.size(); k-- > 0;) {
      LinearBuffers& l = linear_[k];
      const LinearShape& s = linear_shapes_[k];
      l.write_dW = claim(l.dW, s.out * s.in);
      l.write_db = l.db != nullptr && claim(l.db, s.out);
    }
  }

  // The current weight / bias of every Linear (a module may have been given new ones),
  // checked against the shapes the plan was built for: a layer resized or given or
  // stripped of its bias since then would make the kernels read and write out of bounds.
  void read_linear() {
    for (std::size_t k = 0; k < linear_modules_.size(); ++k) {
      const py::handle m = linear_modules_[k];
      // Module attributes and _grad_sink() run Python code (gil.h)
      const py::object weight = python_attr(m, "weight");
      const py::object bias = python_attr(m, "bias");
      const LinearShape& shape = linear_shapes_[k];
      const index_t out = shape.out, in = shape.in;
      if (bias.is_none() == shape.bias)
        throw py::value_error(std::string("TrainStep: a Linear layer ") +
                              (shape.bias ? "lost its bias" : "was given a bias") +
                              " after the step was built; build a new TrainStep");
      LinearBuffers& l = linear_[k];
      FloatArray W = float_output(weight.attr("_data"), kFunc, "weight");
      FloatArray dW = float_output(python_method_call(weight, "_grad_sink"), kFunc,
                                   "weight.grad");
      if (W.ndim() != 2 || W.shape(0) != out || W.shape(1) != in)
        throw py::value_error("TrainStep: a Linear layer's weight has shape " + shape_str(W) +
                              ", the step was built for (" + std::to_string(out) + ", " +
                              std::to_string(in) + "); build a new TrainStep after resizing "
                              "a layer");
      require_shape(dW, {out, in}, kFunc, "weight.grad");
      l.W = W.data();
      l.dW = dW.mutable_data();
      keep_.push_back(std::move(W));
      keep_.push_back(std::move(dW));
      l.b = nullptr;
      l.db = nullptr;
      if (!bias.is_none()) {
        FloatArray b = float_output(bias.attr("_data"), kFunc, "bias");
        FloatArray db = float_output(python_method_call(bias, "_grad_sink"), kFunc,
                                     "bias.grad");
        require_shape(b, {out}, kFunc, "bias");
        require_shape(db, {out}, kFunc, "bias.grad");
        l.b = b.data();
        l.db = db.mutable_data();
        keep_.push_back(std::move(b));
        keep_.push_back(std::move(db));
      }
    }
  }

  void read_dropout(const py::list& dropout) {
    if (dropout.size() != dropout_.size())
      throw py::value_error("TrainStep: expected " + std::to_string(dropout_.size()) +
                            " dropout states, got " + std::to_string(dropout.size()));
    for (std::size_t k = 0; k < dropout_.size(); ++k) {
      const py::handle d = dropout[k];
      dropout_[k] = DropoutState{false, 0.0, 0};
      if (d.is_none()) continue;
      const auto t = py::reinterpret_borrow<py::tuple>(d);
      const double p = t[0].cast<double>();
      if (!(p >= 0.0 && p < 1.0))
        throw py::value_error("TrainStep: dropout p must be in [0, 1), got " + std::to_string(p));
      dropout_[k] = DropoutState{true, p, t[1].cast<std::uint64_t>()};
    }
  }

  TrainPlan plan_;
  OptimKind optim_kind_;
  struct LinearShape {
    index_t in, out;
    bool bias;
  };
  std::vector<py::object> linear_modules_;
  std::vector<LinearShape> linear_shapes_;  // as built: (in, out, has bias) per Linear
  std::vector<LinearBuffers> linear_;
  std::vector<FloatRange> written_, met_;  // choose_written
  std::vector<DropoutState> dropout_;
  std::vector<OptimGroup> groups_;
  std::vector<FloatArray> keep_;  // this call's input arrays, alive until it returns
  LabelArray labels_;
  index_t last_rows_ = 0;
  mutable StepFlag running_;
};

}  // namespace

void bind_train(py::module_& m) {
  py::enum_<LayerKind>(m, "LayerKind")
      .value("linear", LayerKind::linear)
      .value("activation", LayerKind::activation)
      .value("dropout", LayerKind::dropout)
      .value("softmax", LayerKind::softmax)
      .value("add", LayerKind::add);
  py::enum_<LossKind>(m, "LossKind")
      .value("cross_entropy", LossKind::cross_entropy)
      .value("mse", LossKind::mse)
      .value("bce_with_logits", LossKind::bce_with_logits);
  py::class_<PyTrainPlan>(m, "TrainPlan")
      .def(py::init([](const py::list& layers, LossKind loss, OptimKind optim) {
             try {
               return new PyTrainPlan(layers, loss, optim);
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("layers"), py::arg("loss_kind"), py::arg("optim_kind"))
      .def("step", &PyTrainPlan::step, py::arg("x"), py::arg("y"), py::arg("dropout"),
           py::arg("reduction"), py::arg("label_smoothing"), py::arg("prepare"),
           "Zero grads, forward, loss, backward and optimizer step in one call; returns the loss.")
      .def("output", &PyTrainPlan::output, "A copy of the last step's output (N, out).");
}

}  // namespace fastnn::bind
