// optim.h: fused optimizer updates over float32 buffers, one call per parameter group.
//
// Every update is element-wise: param[i] and state[i] depend only on grad[i] and
// their own previous values, so results are bit-identical at any thread count and
// whichever way the elements are split among threads or SIMD lanes. Hyper-parameters
// are doubles (as Python floats); buffers must not overlap (the bindings check).
//
// The arithmetic follows PyTorch 2.13's single-tensor CPU path operation by
// operation (torch/optim/*.py): scalars derived from hyper-parameters (1 - beta,
// bias corrections, step sizes) are computed in double, then rounded to float32,
// and each tensor operation rounds to float32 in the same order. The SIMD path
// (AVX2) uses the same operations without FMA contraction; sqrt and division are
// correctly rounded in both, so it is bit-identical to the scalar path. With g the
// gradient (negated when maximize) and t the step count after incrementing:
//
//   SGD      g += wd p;  if momentum: buf = g (first step) or momentum buf + (1-dampening) g;
//            g = nesterov ? g + momentum buf : buf;  p -= lr g
//   Adam     decoupled (AdamW): p *= 1 - lr wd;  else g += wd p
//            m = lerp(m, g, 1-b1);  v = b2 v + (1-b2) g^2;  vmax = max(vmax, v) (amsgrad)
//            p -= (lr / (1-b1^t)) m / (sqrt(v or vmax) / sqrt(1-b2^t) + eps)
//   RMSprop  g += wd p;  s = alpha s + (1-alpha) g^2
//            centered: ga = lerp(ga, g, 1-alpha), avg = sqrt(s - ga^2) + eps; else sqrt(s) + eps
//            momentum: buf = momentum buf + g / avg, p -= lr buf;  else p -= lr g / avg
//   Adagrad  g += wd p;  sum += g^2;  p -= (lr / (1 + (t-1) lr_decay)) g / (sqrt(sum) + eps)
//
// lerp(a, b, w) = a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w) (PyTorch's form).
//
// References: Adam, Kingma & Ba 2014 (https://arxiv.org/abs/1412.6980); AdamW,
// Loshchilov & Hutter 2017 (https://arxiv.org/abs/1711.05101); AMSGrad, Reddi et al.
// 2018 (https://openreview.net/forum?id=ryQu7f-RZ); RMSprop, Hinton, Lecture 6e of
// "Neural Networks for Machine Learning"; centered RMSprop, Graves 2013
// (https://arxiv.org/abs/1308.0850); Adagrad, Duchi et al. 2011
// (https://jmlr.org/papers/v12/duchi11a.html); Nesterov momentum as in Sutskever
// et al. 2013 (https://proceedings.mlr.press/v28/sutskever13.html).
#pragma once

#include <cstdint>

#include "fastnn/common.h"

namespace fastnn {

// Groups whose total element count is at most this are updated by the calling
// thread alone. Measured with Adam (AVX2, ~0.5 ns per element) on the shared
// 2-core Zen 3 with libgomp's passive waiting: 2 threads lost up to 262144
// elements (waking the team costs ~10-20 us) and won at 1M.
constexpr index_t kOptimParallelThreshold = 1 << 18;

enum class OptimKind : int { sgd = 0, adam = 1, rmsprop = 2, adagrad = 3 };

// The hyper-parameters of one parameter group; each kind reads its own fields.
struct OptimOptions {
  OptimKind kind = OptimKind::sgd;
  double lr = 0.0, weight_decay = 0.0, eps = 0.0;
  double momentum = 0.0, dampening = 0.0;  // sgd; rmsprop uses momentum too
  double beta1 = 0.0, beta2 = 0.0;         // adam
  double alpha = 0.0;                      // rmsprop
  double lr_decay = 0.0;                   // adagrad
  bool nesterov = false;                   // sgd
  bool amsgrad = false, decoupled_weight_decay = false;  // adam
  bool centered = false;                   // rmsprop
  bool maximize = false;
};

// One tensor of a group: param, grad and the state buffers its kind uses, n floats each.
//   sgd      state[0] momentum_buffer (momentum != 0)
//   adam     state[0] exp_avg, state[1] exp_avg_sq, state[2] max_exp_avg_sq (amsgrad)
//   rmsprop  state[0] square_avg, state[1] grad_avg (centered), state[2] momentum_buffer
//            (momentum > 0)
//   adagrad  state[0] sum
// Unused state pointers are null. step is t >= 1 after incrementing; SGD keeps no
// step count and passes 1 for the step that creates its momentum buffer (buf = g)
// and 2 afterwards.
struct OptimTensor {
  float* param;
  const float* grad;
  float* state[3];
  index_t n;
  std::int64_t step;
};

// The instruction set of the update loops: `best` is the path of the element-wise
// kernels (elementwise_arch(), activations.h; FASTNN_ARCH caps or forces it), the
// others force one path for tests. All are bit-identical.
enum class OptimIsa : int { best = 0, scalar = 1, avx2 = 2, avx512emu = 3, avx512 = 4 };

// Whether `isa` can run here (best and scalar always can).
bool optim_isa_supported(OptimIsa isa);

// Updates every tensor of one group in place: one pass over memory, split over
// threads by total element count when it exceeds kOptimParallelThreshold.
void optimizer_step(const OptimOptions& options, const OptimTensor* tensors, index_t count,
                    OptimIsa isa = OptimIsa::best);

// out[i] = a[i] / sqrt(1 - beta2^step) for i < n, rounded as Adam's update on path `isa`
// divides sqrt(v) by its bias correction (the vector paths without the divider; all
// paths give the division's bits). For the tests.
void adam_bc2_division(const float* a, float* out, index_t n, double beta2, std::int64_t step,
                       OptimIsa isa);

// Merges runs of tensors that lie back to back in every buffer (param, grad and
// each state) and share a step, in place; returns the new count. Parameters that
// are views into one flat buffer (Module.flatten_parameters) then update as one span.
index_t coalesce_tensors(OptimTensor* tensors, index_t count);

// Single-tensor forms (one OptimTensor each), kept for the per-tensor bindings.
// momentum_buffer: n floats, used only when momentum != 0 (may be null otherwise);
// init_buffer: the first step with momentum, which sets buf = g instead of reading it.
void sgd_step(float* param, float* momentum_buffer, const float* grad, index_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool maximize, bool init_buffer);

// max_exp_avg_sq: n floats when amsgrad, null otherwise. step: t >= 1.
// decoupled_weight_decay selects AdamW's decay.
void adam_step(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
               const float* grad, index_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay,
               std::int64_t step);

// grad_avg: n floats when centered, else null; momentum_buffer: n floats when
// momentum > 0, else null.
void rmsprop_step(float* param, float* square_avg, float* grad_avg, float* momentum_buffer,
                  const float* grad, index_t n, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize);

// step: t >= 1.
void adagrad_step(float* param, float* sum, const float* grad, index_t n, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize,
                  std::int64_t step);

}  // namespace fastnn
