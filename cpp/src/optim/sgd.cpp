// sgd.cpp: fused SGD step with momentum, dampening, Nesterov and weight decay (see optim.h).
#include "fastnn/optim.h"

namespace fastnn {

void sgd_step(float* param, float* momentum_buffer, const float* grad, index_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool maximize, bool init_buffer) {
  // Scalars rounded to float32 once, as torch passes them to its float kernels.
  const float neg_lr = static_cast<float>(-lr);
  const float wd = static_cast<float>(weight_decay);
  const float mom = static_cast<float>(momentum);
  const float keep = static_cast<float>(1.0 - dampening);
  const bool decay = weight_decay != 0.0;
  const bool use_momentum = momentum != 0.0;

#pragma omp parallel for if (n > kOptimParallelThreshold) schedule(static)
  for (index_t i = 0; i < n; ++i) {
    float g = maximize ? -grad[i] : grad[i];
    if (decay) g = g + wd * param[i];
    if (use_momentum) {
      const float buf = init_buffer ? g : momentum_buffer[i] * mom + keep * g;
      momentum_buffer[i] = buf;
      g = nesterov ? g + mom * buf : buf;
    }
    param[i] = param[i] + neg_lr * g;
  }
}

}  // namespace fastnn
