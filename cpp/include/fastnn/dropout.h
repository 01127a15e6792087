// dropout.h: inverted dropout with a counter-based random mask.
//
// Element i is kept iff uniform(seed, i) >= p, where uniform is a stateless
// hash of (seed, i) (util/rng.h): the mask depends only on the seed and the
// element index, never on the thread count, and backward regenerates it from
// the same seed instead of storing it.
//   forward:  y = x * keep / (1 - p)
//   backward: dx = dy * keep / (1 - p)
// p in [0, 1); p == 1 would zero everything and is rejected by the binding. p is a double,
// as PyTorch's: the scale is 1 / float(1 - p) (float(1) / float(1 - float(p)) was 1.7e-4
// off torch's at p = 0.9999).
#pragma once

#include <cstdint>

#include "fastnn/common.h"

namespace fastnn {

void dropout_forward(float* y, const float* x, index_t n, double p, std::uint64_t seed);
void dropout_backward(float* dx, const float* dy, index_t n, double p, std::uint64_t seed);

}  // namespace fastnn
