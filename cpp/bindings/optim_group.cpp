// optim_group.cpp: one Python parameter group to optimizer_step's arguments (optim_group.h).
#include "optim_group.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace fastnn::bind {

namespace {

double num(const py::handle& group, const char* key) { return group[key].cast<double>(); }
bool flag(const py::handle& group, const char* key) { return group[key].cast<bool>(); }

OptimOptions read_options(OptimKind kind, const py::handle& g) {
  OptimOptions o;
  o.kind = kind;
  o.lr = num(g, "lr");
  o.weight_decay = num(g, "weight_decay");
  o.maximize = flag(g, "maximize");
  switch (kind) {
    case OptimKind::sgd:
      o.momentum = num(g, "momentum");
      o.dampening = num(g, "dampening");
      o.nesterov = flag(g, "nesterov");
      break;
    case OptimKind::adam: {
      const py::tuple betas = g["betas"].cast<py::tuple>();
      o.beta1 = betas[0].cast<double>();
      o.beta2 = betas[1].cast<double>();
      o.eps = num(g, "eps");
      o.amsgrad = flag(g, "amsgrad");
      o.decoupled_weight_decay = flag(g, "decoupled_weight_decay");
      break;
    }
    case OptimKind::rmsprop:
      o.alpha = num(g, "alpha");
      o.eps = num(g, "eps");
      o.momentum = num(g, "momentum");
      o.centered = flag(g, "centered");
      break;
    case OptimKind::adagrad:
      o.lr_decay = num(g, "lr_decay");
      o.eps = num(g, "eps");
      break;
  }
  return o;
}

void require_size(const py::array& a, index_t n, const char* func, const char* arg) {
  if (static_cast<index_t>(a.size()) != n)
    throw py::value_error(std::string(func) + "(): argument '" + arg + "' must have " +
                          std::to_string(n) + " elements like its param, got " +
                          std::to_string(a.size()));
}

// Which state slots the options use, and their names (for messages).
struct Slots {
  bool used[3];
  const char* names[3];
};

Slots slots(const OptimOptions& o) {
  switch (o.kind) {
    case OptimKind::sgd:
      return {{o.momentum != 0.0, false, false}, {"momentum_buffer", "", ""}};
    case OptimKind::adam:
      return {{true, true, o.amsgrad}, {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};
    case OptimKind::rmsprop:
      return {{true, o.centered, o.momentum > 0.0},
              {"square_avg", "grad_avg", "momentum_buffer"}};
    case OptimKind::adagrad:
      break;
  }
  return {{true, false, false}, {"sum", "", ""}};
}

// "tensors[k].field", the name of an argument in messages, written into `text_` without an
// allocation (this runs for every tensor at every TrainStep step; std::string built them
// on the heap).
class TensorArg {
 public:
  TensorArg(index_t k, const char* field) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + k % 10);
      k /= 10;
    } while (k > 0 && n < 20);
    char* p = text_;
    for (const char* s = "tensors["; *s != '\0'; ++s) *p++ = *s;
    while (n > 0) *p++ = digits[--n];
    *p++ = ']';
    if (*field != '\0') *p++ = '.';
    for (const char* s = field; *s != '\0' && p < text_ + sizeof(text_) - 1; ++s) *p++ = *s;
    *p = '\0';
  }
  const char* c_str() const { return text_; }
  std::string str() const { return text_; }

 private:
  char text_[64];
};

}  // namespace

void OptimGroup::read(OptimKind kind, const py::handle& group, const py::handle& tensor_list,
                      const char* func, bool writable_grads) {
  options = read_options(kind, group);
  const Slots used = slots(options);
  const auto list = py::reinterpret_borrow<py::list>(tensor_list);
  tensors.clear();
  keep.clear();
  std::vector<Span>& spans = spans_;
  spans.clear();
  for (index_t k = 0; k < static_cast<index_t>(list.size()); ++k) {
    const TensorArg param_arg(k, "param"), grad_arg(k, "grad");
    const auto item = py::reinterpret_borrow<py::tuple>(list[k]);
    if (item.size() != 6)
      throw py::value_error(std::string(func) + "(): argument '" + TensorArg(k, "").str() +
                            "' must be (param, grad, state0, state1, state2, step)");
    OptimTensor t{};
    FloatArray param = float_output(item[0], func, param_arg.c_str());
    t.param = param.mutable_data();
    t.n = static_cast<index_t>(param.size());
    FloatArray grad = writable_grads ? float_output(item[1], func, grad_arg.c_str())
                                     : float_input(item[1], func, grad_arg.c_str());
    require_size(grad, t.n, func, grad_arg.c_str());
    t.grad = grad.data();
    spans.push_back({reinterpret_cast<const char*>(t.param),
                     reinterpret_cast<const char*>(t.param + t.n), k, "param"});
    spans.push_back({reinterpret_cast<const char*>(t.grad),
                     reinterpret_cast<const char*>(t.grad + t.n), k, "grad"});
    keep.push_back(std::move(param));
    keep.push_back(std::move(grad));
    for (int s = 0; s < 3; ++s) {
      t.state[s] = nullptr;
      if (!used.used[s]) continue;
      const TensorArg arg(k, used.names[s]);
      if (item[2 + s].is_none())
        throw py::value_error(std::string(func) + "(): argument '" + arg.str() +
                              "' is required by these options, got None");
      FloatArray buf = float_output(item[2 + s], func, arg.c_str());
      require_size(buf, t.n, func, arg.c_str());
      t.state[s] = buf.mutable_data();
      spans.push_back({reinterpret_cast<const char*>(t.state[s]),
                       reinterpret_cast<const char*>(t.state[s] + t.n), k, used.names[s]});
      keep.push_back(std::move(buf));
    }
    t.step = item[5].cast<std::int64_t>();
    if (t.step < 1)
      throw py::value_error(std::string(func) + "(): argument '" + TensorArg(k, "step").str() +
                            "' must be >= 1, got " + std::to_string(t.step));
    tensors.push_back(t);
  }
  // No two buffers may share memory, except gradients that are only read: PyTorch code
  // may give two parameters one gradient (p2.grad = p1.grad), and both step on it. Sorted
  // by start, each span is checked against the earlier one reaching furthest: of any
  // kind, and, unless it is a read-only gradient itself, of the read-only gradients.
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Span& s) { return s.lo == s.hi; }),
              spans.end());
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  const Span* reach = nullptr;       // written buffers (and gradients when writable)
  const Span* reach_grad = nullptr;  // read-only gradients
  for (const Span& b : spans) {
    const bool read_only_grad = !writable_grads && std::strcmp(b.name, "grad") == 0;
    const Span* a = reach != nullptr && b.lo < reach->hi ? reach : nullptr;
    if (a == nullptr && !read_only_grad && reach_grad != nullptr && b.lo < reach_grad->hi)
      a = reach_grad;
    if (a != nullptr)
      throw py::value_error(std::string(func) + "(): arguments 'tensors[" +
                            std::to_string(a->tensor) + "]." + a->name + "' and 'tensors[" +
                            std::to_string(b.tensor) + "]." + b.name + "' must not share memory");
    const Span*& r = read_only_grad ? reach_grad : reach;
    if (r == nullptr || b.hi > r->hi) r = &b;
  }
}

void OptimGroup::zero_grads(const std::vector<FloatRange>& keep) {
  for (const OptimTensor& t : tensors) {
    float* const lo = const_cast<float*>(t.grad);
    float* const hi = lo + t.n;
    inside_.clear();
    for (const FloatRange& r : keep)
      if (lo <= r.lo && r.hi <= hi) inside_.push_back(r);
    std::sort(inside_.begin(), inside_.end(),
              [](const FloatRange& a, const FloatRange& b) { return a.lo < b.lo; });
    float* p = lo;
    for (const FloatRange& r : inside_) {
      if (p < r.lo) std::fill(p, const_cast<float*>(r.lo), 0.0f);
      if (p < r.hi) p = const_cast<float*>(r.hi);
    }
    std::fill(p, hi, 0.0f);
  }
}

bool OptimGroup::holds_grad(const FloatRange& r) const {
  for (const OptimTensor& t : tensors)
    if (t.grad <= r.lo && r.hi <= t.grad + t.n) return true;
  return false;
}

void OptimGroup::step(OptimIsa isa) {
  const index_t count = coalesce_tensors(tensors.data(), static_cast<index_t>(tensors.size()));
  optimizer_step(options, tensors.data(), count, isa);
}

}  // namespace fastnn::bind
