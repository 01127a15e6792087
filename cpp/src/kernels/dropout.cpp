// dropout.cpp: inverted dropout with a counter-based mask (dropout.h).
//
// Element i is kept iff rng::uniform(key, i) >= p: the mask is a pure function of
// (seed, i), so it is the same at any thread count and backward regenerates it
// instead of storing it.
#include "fastnn/dropout.h"

#include "kernels/parallel.h"
#include "util/rng.h"

namespace fastnn {

namespace {

// out[i] = in[i] * keep_i / (1 - p): the one loop shared by forward and backward.
// A multiply, not a select, so NaN/inf in dropped units propagate as in PyTorch.
void apply_mask(float* out, const float* in, index_t n, float p, std::uint64_t seed) {
  const std::uint64_t key = rng::key_for(seed);
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > detail::kParallelThreshold)
  for (index_t i = 0; i < n; ++i) {
    const bool keep = rng::uniform(key, static_cast<std::uint64_t>(i)) >= p;
    out[i] = in[i] * (keep ? scale : 0.0f);
  }
}

}  // namespace

void dropout_forward(float* y, const float* x, index_t n, float p, std::uint64_t seed) {
  apply_mask(y, x, n, p, seed);
}

void dropout_backward(float* dx, const float* dy, index_t n, float p, std::uint64_t seed) {
  apply_mask(dx, dy, n, p, seed);
}

}  // namespace fastnn
