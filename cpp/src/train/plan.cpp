// plan.cpp: TrainPlan, one forward/loss/backward pass over a layer stack (train.h).
//
// Every kernel call below computes what the Python module of that layer computes,
// element for element, so a TrainPlan step and a layer-by-layer step give the same
// bits. Three fusions save passes over memory without changing a bit:
//   Linear -> ReLU / LeakyReLU (slope >= 0): the activation runs in the GEMM
//     write-back (linear_forward with act); the pre-activation is not stored. The
//     activation's backward then reads its output instead of its input: for these
//     activations y <= 0 exactly when x <= 0 (NaN stays NaN), so the mask is the same.
//   ReLU / LeakyReLU -> Linear, backward: the activation's derivative is applied in
//     the write-back of the Linear's dx (linear_backward with act).
//   Cross-entropy: value and gradient in one pass over the logits.
#include "fastnn/train.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "fastnn/dropout.h"
#include "fastnn/linear.h"

namespace fastnn {

namespace {

constexpr std::size_t kAlign = 64;

float* allocate(index_t n) {
  return static_cast<float*>(::operator new(static_cast<std::size_t>(n) * sizeof(float),
                                            std::align_val_t(kAlign)));
}

// value = loss(pred, target); grad = dloss/dpred, written. pred is (N, C).
double loss_forward_backward(LossKind kind, Reduction r, float label_smoothing, float* grad,
                             const float* pred, const TrainBatch& b, index_t C) {
  const index_t n = b.N * C;
  double value = 0.0;
  switch (kind) {
    case LossKind::cross_entropy:
      value = cross_entropy_forward_backward(grad, pred, b.labels, b.N, C, label_smoothing, r);
      break;
    case LossKind::mse:
      value = mse_forward(pred, b.target, n, r);
      mse_backward(grad, pred, b.target, n, r);
      break;
    case LossKind::bce_with_logits:
      value = bce_with_logits_forward(pred, b.target, n, r);
      bce_with_logits_backward(grad, pred, b.target, n, r);
      break;
  }
  return value;
}

}  // namespace

// A skip source's output must be stored as computed (forward) and receive the skip
// gradient before its derivative is applied (backward): it is never fused.
bool TrainPlan::fusable_activation(std::size_t i) const {
  if (i >= layers_.size() || layers_[i].kind != LayerKind::activation || skip_source_[i])
    return false;
  const LayerSpec& l = layers_[i];
  return l.act == Activation::relu || (l.act == Activation::leaky_relu && l.param >= 0.0f);
}

bool TrainPlan::fused_forward(std::size_t i) const {
  return layers_[i].kind == LayerKind::linear && !skip_source_[i] && fusable_activation(i + 1);
}

void TrainPlan::FloatDeleter::operator()(float* p) const {
  ::operator delete(p, std::align_val_t(kAlign));
}

TrainPlan::TrainPlan(std::vector<LayerSpec> layers, LossSpec loss)
    : layers_(std::move(layers)), loss_(loss), first_trainable_(layers_.size()) {
  if (layers_.empty()) throw std::invalid_argument("TrainPlan: no layers");
  skip_source_.assign(layers_.size(), false);
  skip_slot_.assign(layers_.size(), -1);
  index_t offset = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    LayerSpec& l = layers_[i];
    if (l.kind != LayerKind::linear) l.out = l.in;
    if (l.kind == LayerKind::add) {
      const index_t src = l.src;
      const index_t width = src < 0 ? layers_.front().in : layers_[src].out;
      if (src < -1 || src + 1 >= static_cast<index_t>(i) || width != l.in)
        throw std::invalid_argument("TrainPlan: add layer " + std::to_string(i) +
                                    " reads layer " + std::to_string(src) + ", which is not "
                                    "an earlier layer (before the one it follows) of its width");
      if (src >= 0) {
        if (skip_source_[src])
          throw std::invalid_argument("TrainPlan: two add layers read layer " +
                                      std::to_string(src));
        skip_source_[src] = true;
      }
    }
    if (i > 0 && l.in != layers_[i - 1].out)
      throw std::invalid_argument("TrainPlan: layer " + std::to_string(i) + " takes " +
                                  std::to_string(l.in) + " features, the layer before gives " +
                                  std::to_string(layers_[i - 1].out));
    if (l.kind == LayerKind::linear && first_trainable_ == layers_.size()) first_trainable_ = i;
    act_offset_.push_back(offset);
    offset += l.out;
    max_width_ = std::max({max_width_, l.in, l.out});
  }
  inputs_.resize(layers_.size());
  outputs_.resize(layers_.size());
  for (std::size_t i = first_trainable_; i < layers_.size(); ++i)
    if (skip_source_[i]) skip_slot_[i] = skip_slots_++;  // its gradient is needed
}

index_t TrainPlan::count(LayerKind kind) const {
  index_t n = 0;
  for (const LayerSpec& l : layers_) n += l.kind == kind;
  return n;
}

void TrainPlan::reserve(index_t rows) {
  if (rows <= capacity_) return;
  const index_t act_floats = act_offset_.back() + layers_.back().out;
  acts_ = Workspace(allocate(act_floats * rows));
  grads_ = Workspace(allocate(2 * max_width_ * rows));
  if (skip_slots_ > 0) skip_grads_ = Workspace(allocate(skip_slots_ * max_width_ * rows));
  capacity_ = rows;
}

const float* TrainPlan::forward_layer(std::size_t i, const float* x, index_t N,
                                      const TrainBatch& b, index_t linear, index_t dropout) {
  const LayerSpec& l = layers_[i];
  float* y = acts_.get() + act_offset_[i] * capacity_;
  switch (l.kind) {
    case LayerKind::linear: {
      const LinearBuffers& p = b.linear[linear];
      linear_forward(y, x, p.W, p.b, N, l.in, l.out);
      return y;
    }
    case LayerKind::activation:
      if (i > 0 && fused_forward(i - 1)) {
        // Linear i - 1 wrote act(z) straight into this layer's output.
        const LinearBuffers& p = b.linear[linear - 1];
        linear_forward(y, inputs_[i - 1], p.W, p.b, N, layers_[i - 1].in, l.in, l.act, l.param);
        inputs_[i] = y;  // the mask reads y in place of z (see the file comment)
        return y;
      }
      activation_forward(l.act, l.param, y, x, N * l.in);
      return y;
    case LayerKind::softmax:
      softmax_forward(y, x, N, l.in);
      return y;
    case LayerKind::dropout: {
      const DropoutState& d = b.dropout[dropout];
      if (!d.active) return x;
      dropout_forward(y, x, N * l.in, d.p, d.seed);
      return y;
    }
    case LayerKind::add: {
      const float* s = l.src < 0 ? b.x : outputs_[static_cast<std::size_t>(l.src)];
      const index_t n = N * l.in;
      for (index_t k = 0; k < n; ++k) y[k] = x[k] + s[k];  // NumPy's float32 add, exactly
      return y;
    }
  }
  return y;
}

float* TrainPlan::backward_layer(std::size_t i, float* g, float* spare, index_t N,
                                 const TrainBatch& b, index_t linear, index_t dropout,
                                 bool need_dx) {
  const LayerSpec& l = layers_[i];
  const float* y = acts_.get() + act_offset_[i] * capacity_;
  switch (l.kind) {
    case LayerKind::linear: {
      const LinearBuffers& p = b.linear[linear];
      if (need_dx && fusable_activation(i - 1)) {
        // dx = (g @ W) * act'(.) for activation i - 1, which backward then skips.
        const LayerSpec& a = layers_[i - 1];
        linear_backward(spare, p.dW, p.db, g, inputs_[i], p.W, N, l.in, l.out, a.act, a.param,
                        inputs_[i - 1], nullptr, !p.write_dW, !p.write_db);
        return spare;
      }
      linear_backward(need_dx ? spare : nullptr, p.dW, p.db, g, inputs_[i], p.W, N, l.in, l.out,
                      Activation::identity, 0.0f, nullptr, nullptr, !p.write_dW, !p.write_db);
      return spare;
    }
    case LayerKind::activation:
      activation_backward(l.act, l.param, spare, g, inputs_[i], y, N * l.in);
      return spare;
    case LayerKind::softmax:
      softmax_backward(spare, g, y, N, l.in);
      return spare;
    case LayerKind::dropout: {
      const DropoutState& d = b.dropout[dropout];
      if (!d.active) return g;
      dropout_backward(spare, g, N * l.in, d.p, d.seed);
      return spare;
    }
    case LayerKind::add: {  // g reaches both operands: the layer before, and (kept) src
      const index_t slot = l.src < 0 ? -1 : skip_slot_[static_cast<std::size_t>(l.src)];
      if (slot >= 0)
        std::memcpy(skip_grads_.get() + slot * max_width_ * capacity_, g,
                    static_cast<std::size_t>(N * l.in) * sizeof(float));
      return g;
    }
  }
  return g;
}

double TrainPlan::forward_backward(const TrainBatch& b, Reduction reduction,
                                   float label_smoothing) {
  reserve(b.N);
  const float* a = b.x;
  index_t linear = 0, dropout = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    inputs_[i] = a;
    if (!fused_forward(i)) a = forward_layer(i, a, b.N, b, linear, dropout);
    outputs_[i] = a;
    linear += layers_[i].kind == LayerKind::linear;
    dropout += layers_[i].kind == LayerKind::dropout;
  }
  out_ = a;

  float* g = grads_.get();
  float* spare = g + capacity_ * max_width_;
  const double value =
      loss_forward_backward(loss_.kind, reduction, label_smoothing, g, out_, b, out_features());
  bool folded = false;  // the activation's derivative went into the Linear after it
  for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
    linear -= layers_[i].kind == LayerKind::linear;
    dropout -= layers_[i].kind == LayerKind::dropout;
    if (folded) {
      folded = false;
      continue;
    }
    if (skip_slot_[i] >= 0) {  // the kept gradient of an add layer joins g (see train.h)
      const float* s = skip_grads_.get() + skip_slot_[i] * max_width_ * capacity_;
      const index_t n = b.N * layers_[i].out;
      for (index_t k = 0; k < n; ++k) g[k] = s[k] + g[k];
    }
    const bool need_dx = i > first_trainable_;
    float* next = backward_layer(i, g, spare, b.N, b, linear, dropout, need_dx);
    folded = layers_[i].kind == LayerKind::linear && need_dx && fusable_activation(i - 1);
    if (next == spare) std::swap(g, spare);
  }
  return value;
}

}  // namespace fastnn
