// rmsprop.cpp: fused RMSprop step, optionally centered and with momentum (see optim.h).
#include <cmath>

#include "fastnn/optim.h"
#include "optim/lerp.h"

namespace fastnn {

namespace {

// Scalars of one step, rounded to float32 as torch passes them to its float kernels.
struct RmspropScalars {
  float neg_lr, alpha, one_minus_alpha, eps, wd, momentum;
  optim_detail::Lerp lerp;  // weight 1 - alpha
  bool decay, maximize;
};

// centered and momentum are template arguments so that each loop body is
// branch-free on stores and vectorizes.
template <bool kCentered, bool kMomentum>
void rmsprop_loop(float* param, float* square_avg, float* grad_avg, float* momentum_buffer,
                  const float* grad, index_t n, const RmspropScalars& c) {
#pragma omp parallel for if (n > kOptimParallelThreshold) schedule(static)
  for (index_t i = 0; i < n; ++i) {
    float g = c.maximize ? -grad[i] : grad[i];
    if (c.decay) g = g + c.wd * param[i];
    const float s = square_avg[i] * c.alpha + c.one_minus_alpha * g * g;
    square_avg[i] = s;
    float avg;
    if constexpr (kCentered) {
      const float ga = c.lerp(grad_avg[i], g);
      grad_avg[i] = ga;
      avg = std::sqrt(s + -1.0f * ga * ga);
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + c.eps;
    if constexpr (kMomentum) {
      const float buf = momentum_buffer[i] * c.momentum + g / avg;
      momentum_buffer[i] = buf;
      param[i] = param[i] + c.neg_lr * buf;
    } else {
      param[i] = param[i] + c.neg_lr * g / avg;
    }
  }
}

}  // namespace

void rmsprop_step(float* param, float* square_avg, float* grad_avg, float* momentum_buffer,
                  const float* grad, index_t n, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize) {
  const float one_minus_alpha = static_cast<float>(1.0 - alpha);
  const RmspropScalars c{static_cast<float>(-lr),
                         static_cast<float>(alpha),
                         one_minus_alpha,
                         static_cast<float>(eps),
                         static_cast<float>(weight_decay),
                         static_cast<float>(momentum),
                         optim_detail::Lerp(one_minus_alpha),
                         weight_decay != 0.0,
                         maximize};
  const bool use_momentum = momentum > 0.0;
  if (centered && use_momentum)
    rmsprop_loop<true, true>(param, square_avg, grad_avg, momentum_buffer, grad, n, c);
  else if (centered)
    rmsprop_loop<true, false>(param, square_avg, grad_avg, nullptr, grad, n, c);
  else if (use_momentum)
    rmsprop_loop<false, true>(param, square_avg, nullptr, momentum_buffer, grad, n, c);
  else
    rmsprop_loop<false, false>(param, square_avg, nullptr, nullptr, grad, n, c);
}

}  // namespace fastnn
