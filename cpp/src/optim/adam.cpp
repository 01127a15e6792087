// adam.cpp: fused Adam / AdamW step, optionally AMSGrad (see optim.h).
#include <cmath>

#include "fastnn/optim.h"
#include "optim/lerp.h"

namespace fastnn {

namespace {

// Scalars of one step, rounded to float32 as torch passes them to its float kernels.
struct AdamScalars {
  float neg_step_size, bc2_sqrt, eps, b2, one_minus_b2, wd;
  float shrink;  // 1 - lr wd for AdamW, else 1 (p * 1 == p exactly)
  optim_detail::Lerp lerp1;  // weight 1 - b1
  bool coupled, maximize;
};

// AMSGrad is a template argument so that each loop body is branch-free on stores
// and vectorizes.
template <bool kAmsgrad>
void adam_loop(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
               const float* grad, index_t n, const AdamScalars& c) {
#pragma omp parallel for if (n > kOptimParallelThreshold) schedule(static)
  for (index_t i = 0; i < n; ++i) {
    float g = c.maximize ? -grad[i] : grad[i];
    const float p = param[i] * c.shrink;
    if (c.coupled) g = g + c.wd * p;
    const float m = c.lerp1(exp_avg[i], g);
    const float v = exp_avg_sq[i] * c.b2 + c.one_minus_b2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    float vhat = v;
    if constexpr (kAmsgrad) {
      // torch.maximum propagates NaN from either side.
      const float vmax = max_exp_avg_sq[i];
      vhat = (v > vmax || v != v) ? v : vmax;
      max_exp_avg_sq[i] = vhat;
    }
    const float denom = std::sqrt(vhat) / c.bc2_sqrt + c.eps;
    param[i] = p + c.neg_step_size * m / denom;
  }
}

}  // namespace

void adam_step(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
               const float* grad, index_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay,
               std::int64_t step) {
  // Bias corrections in double, as torch computes them in Python:
  //   step_size = lr / (1 - b1^t),  denom = sqrt(v) / sqrt(1 - b2^t) + eps.
  const double t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(beta1, t);
  const double bias_correction2 = 1.0 - std::pow(beta2, t);
  const bool decay = weight_decay != 0.0;
  const AdamScalars c{
      static_cast<float>(-(lr / bias_correction1)),
      static_cast<float>(std::sqrt(bias_correction2)),
      static_cast<float>(eps),
      static_cast<float>(beta2),
      static_cast<float>(1.0 - beta2),
      static_cast<float>(weight_decay),
      decay && decoupled_weight_decay ? static_cast<float>(1.0 - lr * weight_decay) : 1.0f,
      optim_detail::Lerp(static_cast<float>(1.0 - beta1)),
      decay && !decoupled_weight_decay,
      maximize};
  if (amsgrad)
    adam_loop<true>(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, n, c);
  else
    adam_loop<false>(param, exp_avg, exp_avg_sq, nullptr, grad, n, c);
}

}  // namespace fastnn
