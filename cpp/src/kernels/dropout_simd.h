// dropout_simd.h: the SIMD dropout body (dropout_isa.h), written once over the
// vector type V of util/simd_vec.h and compiled per path: Vec8 (dropout_avx2.cpp),
// Vec16 on ymm pairs (dropout16_avx2.cpp) and on zmm (dropout_avx512.cpp).
//
// The keep test is dropout_isa.h's integer one on the 24-bit uniforms of
// util/rng_simd.h, so every path produces the scalar path's mask bit for bit.
// Include only from those files (after util/simd_vec.h).
#pragma once

#include "kernels/dropout_isa.h"
#include "util/rng_simd.h"

namespace fastnn::kernels::simd {

namespace {

template <class V>
void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  rng::simd::U24Stream<V> stream(key, first);
  // u >= threshold <=> u > threshold - 1 (u < 2^24, so signed 32-bit compares are exact)
  const auto limit = V::Int::splat(static_cast<std::int32_t>(threshold) - 1);
  const V vscale = V::splat(scale), zero = V::zero();
  const auto factor = [&] { return select(gt(stream.next(), limit), vscale, zero); };
  index_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) (V::load(in + i) * factor()).store(out + i);
  if (i < n) {
    const auto m = V::Mask::first_n(n - i);
    (V::load(in + i, m) * factor()).store(out + i, m);
  }
}

}  // namespace

}  // namespace fastnn::kernels::simd
