// dropout.cpp: inverted dropout with a counter-based mask (dropout.h).
//
// Element i is kept iff rng::uniform(key, i) >= p: the mask is a pure function of
// (seed, i), so it is the same at any thread count and on every SIMD path, and
// backward regenerates it instead of storing it. The bodies (dropout_isa.h) compare
// the 24-bit integer behind uniform() with ceil(p 2^24) instead, which is the same
// test; the scalar or a SIMD body is chosen once (util/isa.h: elementwise_isa()).
#include "fastnn/dropout.h"

#include <cmath>

#include "kernels/dropout_isa.h"
#include "kernels/parallel.h"
#include "util/isa.h"
#include "util/rng.h"

namespace fastnn {

namespace {

using Body = decltype(&kernels::scalar::dropout_apply);

Body active_body() {
  static const Body body = [] {
    switch (elementwise_isa()) {
#if FASTNN_X86_SIMD
      case EwIsa::avx512:
        return &kernels::avx512::dropout_apply;
      case EwIsa::avx512emu:
        return &kernels::avx512emu::dropout_apply;
      case EwIsa::avx2:
        return &kernels::avx2::dropout_apply;
#endif
      default:
        return &kernels::scalar::dropout_apply;
    }
  }();
  return body;
}

// out[i] = in[i] * keep_i / (1 - p): the one loop shared by forward and backward.
void apply_mask(float* out, const float* in, index_t n, double p, std::uint64_t seed) {
  const Body body = active_body();
  const std::uint64_t key = rng::key_for(seed);
  // p 2^24 is exact in double; p in [0, 1) gives a threshold in [0, 2^24].
  const auto threshold = static_cast<std::uint32_t>(std::ceil(p * 0x1.0p24));
  const float scale = 1.0f / static_cast<float>(1.0 - p);  // PyTorch's rounding
  detail::parallel_blocks(n, [&](index_t begin, index_t end) {
    body(out + begin, in + begin, end - begin, static_cast<std::uint64_t>(begin), key, threshold,
         scale);
  });
}

}  // namespace

void dropout_forward(float* y, const float* x, index_t n, double p, std::uint64_t seed) {
  apply_mask(y, x, n, p, seed);
}

void dropout_backward(float* dx, const float* dy, index_t n, double p, std::uint64_t seed) {
  apply_mask(dx, dy, n, p, seed);
}

}  // namespace fastnn
