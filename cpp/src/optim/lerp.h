// lerp.h: PyTorch's linear interpolation, shared by the optimizer kernels.
//
// torch.lerp(a, b, w) = a + w (b - a)        for |w| < 0.5
//                     = b - (b - a) (1 - w)  otherwise
// (ATen/native/Lerp.h; the two forms keep the result exact at w = 0 and w = 1).
// Both are written as base + k (b - a), with base = a, k = w or base = b,
// k = -(1 - w): the same float32 roundings, and a loop-invariant choice of base
// that compiles to a select, so loops using it still vectorize.
#pragma once

#include <cmath>

namespace fastnn::optim_detail {

struct Lerp {
  bool from_end;  // |w| >= 0.5: interpolate back from b
  float k;

  explicit Lerp(float w) : from_end(!(std::fabs(w) < 0.5f)), k(from_end ? -(1.0f - w) : w) {}

  float operator()(float a, float b) const { return (from_end ? b : a) + k * (b - a); }
};

}  // namespace fastnn::optim_detail
