// optim.h: fused optimizer updates over flat float32 buffers.
//
// Every kernel updates one parameter buffer and its state buffers in a single
// element-wise pass: param[i] and state[i] depend only on grad[i] and their own
// previous values, so results are bit-identical at any thread count. Arguments:
// param, state buffers, grad, n, hyper-parameters (double, as Python floats),
// then the step count where the maths needs it. Buffers hold n elements and must
// not overlap (the bindings check).
//
// The arithmetic follows PyTorch 2.13's single-tensor CPU path operation by
// operation (torch/optim/*.py): scalars derived from hyper-parameters (1 - beta,
// bias corrections, step sizes) are computed in double, then rounded to float32,
// and each tensor operation rounds to float32 in the same order. With g the
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

#include "fastnn/common.h"

namespace fastnn {

// Buffers shorter than this are updated by the calling thread alone.
constexpr index_t kOptimParallelThreshold = 1 << 15;

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
