// adagrad.cpp: fused Adagrad step with learning-rate decay (see optim.h).
#include <cmath>

#include "fastnn/optim.h"

namespace fastnn {

void adagrad_step(float* param, float* sum, const float* grad, index_t n, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize,
                  std::int64_t step) {
  // clr = lr / (1 + (t - 1) lr_decay), in double as torch computes it in Python.
  const double clr = lr / (1.0 + static_cast<double>(step - 1) * lr_decay);
  const float neg_clr = static_cast<float>(-clr);
  const float epsf = static_cast<float>(eps);
  const float wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0.0;

#pragma omp parallel for if (n > kOptimParallelThreshold) schedule(static)
  for (index_t i = 0; i < n; ++i) {
    float g = maximize ? -grad[i] : grad[i];
    if (decay) g = g + wd * param[i];
    const float s = sum[i] + g * g;
    sum[i] = s;
    param[i] = param[i] + neg_clr * g / (std::sqrt(s) + epsf);
  }
}

}  // namespace fastnn
