// train.h: a whole forward/loss/backward pass of a layer stack in one call.
//
// A TrainPlan is built once from the stack's layer specs and loss spec; each call
// runs, for a batch of N rows x[N, in]:
//   forward   a_0 = x, a_{i+1} = layer_i(a_i)                  (kernels of linear.h,
//             activations.h, dropout.h: the same calls, shapes and order as the
//             layer-by-layer Python modules, hence the same bits)
//   loss      value = loss(a_L, target), g = dloss/da_L         (losses.h)
//   backward  g = layer_i.backward(g) for i = L-1 .. first layer with parameters;
//             parameter gradients accumulate (+=), as in Module.backward
// An add layer (a residual connection) computes a_{i+1} = a_i + a_{src+1}, the output
// of an earlier layer src (src = -1: x); its backward passes g on and keeps a copy,
// which joins the gradient of a_{src+1} (one float add: the same bits in either order)
// before layer src's backward. A skip source is not fused with its neighbours.
// The activations and gradients live in workspaces owned by the plan, sized for the
// largest batch seen so far: a steady state (and a smaller last batch) allocates
// nothing. Parameters and their gradients are supplied per call (LinearBuffers),
// so the plan never holds stale pointers. The optimizer update and zeroing of
// gradients are separate (optim.h); bind_train.cpp sequences them.
//
// Kernel call sites are all in plan.cpp (forward_layer, backward_layer, loss_*),
// which also fuses Linear with a following ReLU / LeakyReLU (GEMM epilogue, both
// directions) and the cross-entropy forward and backward, bit-for-bit equal to the
// unfused calls.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fastnn/activations.h"
#include "fastnn/common.h"
#include "fastnn/losses.h"

namespace fastnn {

enum class LayerKind : int { linear = 0, activation = 1, dropout = 2, softmax = 3, add = 4 };

// One layer; width is its number of input (= output, except linear) features.
struct LayerSpec {
  LayerKind kind = LayerKind::linear;
  index_t in = 0, out = 0;  // linear: in_features, out_features; others: in == out
  bool bias = false;        // linear
  Activation act = Activation::identity;
  float param = 0.0f;       // activation: leaky_relu's negative slope
  index_t src = -1;         // add: the earlier layer whose output is added (-1: the input)
};

enum class LossKind : int { cross_entropy = 0, mse = 1, bce_with_logits = 2 };

struct LossSpec {
  LossKind kind = LossKind::cross_entropy;
  Reduction reduction = Reduction::mean;
  float label_smoothing = 0.0f;  // cross_entropy
};

// The buffers of one linear layer for one call: W (out, in), b (out,) or null,
// dW (out, in) and db (out,) or null, accumulated, or written when write_dW / write_db
// (the caller would have zeroed them first: linear.h, linear_backward).
struct LinearBuffers {
  const float* W;
  const float* b;
  float* dW;
  float* db;
  bool write_dW = false;
  bool write_db = false;
};

// One dropout layer for one call: active (training and p > 0) with p and seed,
// or the identity.
struct DropoutState {
  bool active;
  double p;
  std::uint64_t seed;
};

// One batch: x (N, in); target holds N int64 labels (cross_entropy) or N * out
// floats (mse, bce_with_logits); one LinearBuffers per linear layer and one
// DropoutState per dropout layer, in layer order.
struct TrainBatch {
  const float* x;
  index_t N;
  const std::int64_t* labels;
  const float* target;
  const LinearBuffers* linear;
  const DropoutState* dropout;
};

class TrainPlan {
 public:
  TrainPlan(std::vector<LayerSpec> layers, LossSpec loss);

  // Forward, loss and backward for one batch; returns the loss value.
  double forward_backward(const TrainBatch& batch, Reduction reduction, float label_smoothing);

  // The last forward's output a_L, (N, out_features()) row-major.
  const float* output() const { return out_; }
  index_t in_features() const { return layers_.front().in; }
  index_t out_features() const { return layers_.back().out; }
  index_t count(LayerKind kind) const;
  const LossSpec& loss() const { return loss_; }

 private:
  struct FloatDeleter {
    void operator()(float* p) const;
  };
  using Workspace = std::unique_ptr<float[], FloatDeleter>;

  void reserve(index_t rows);
  // Whether layer i is an activation fused with a neighbouring Linear (plan.cpp).
  bool fusable_activation(std::size_t i) const;
  // Whether Linear i computes activation i + 1 in its write-back (forward).
  bool fused_forward(std::size_t i) const;
  const float* forward_layer(std::size_t i, const float* x, index_t N, const TrainBatch& b,
                             index_t linear, index_t dropout);
  float* backward_layer(std::size_t i, float* g, float* spare, index_t N, const TrainBatch& b,
                        index_t linear, index_t dropout, bool need_dx);

  std::vector<LayerSpec> layers_;
  LossSpec loss_;
  std::size_t first_trainable_;          // backward stops here (nothing earlier has parameters)
  index_t max_width_ = 0;
  index_t capacity_ = 0;                 // rows the workspaces hold
  Workspace acts_;                       // layer outputs, layer i at act_offset_[i] * capacity_
  Workspace grads_;                      // two gradient buffers of capacity_ * max_width_
  std::vector<index_t> act_offset_;
  std::vector<const float*> inputs_;     // per layer, this call's input a_i
  std::vector<const float*> outputs_;    // per layer, this call's output a_{i+1}
  std::vector<bool> skip_source_;        // per layer: an add layer reads its output
  std::vector<index_t> skip_slot_;       // per layer: its skip gradient buffer, or -1
  Workspace skip_grads_;                 // one buffer of capacity_ * max_width_ per slot
  index_t skip_slots_ = 0;
  const float* out_ = nullptr;
};

}  // namespace fastnn
