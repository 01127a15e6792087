// dropout_avx2.cpp: the AVX2 dropout body (dropout_isa.h): splitmix64 on 4 x 64-bit
// lanes, two vectors per 8 floats.
//
// AVX2 has no 64-bit multiply: z * c mod 2^64 = lo(z) lo(c) + ((hi(z) lo(c) +
// lo(z) hi(c)) << 32), three 32 x 32 -> 64 multiplies (vpmuludq). Only bits 40..63
// of the hash are used, and the finaliser's last step z ^ (z >> 31) leaves them
// unchanged, so it is skipped. Vector `ev` holds the even elements j, j+2, j+4, j+6
// and `od` the odd ones, so (ev >> 40) | ((od >> 40) << 32) lists the 8 integers
// in element order. Compiled with -mavx2; intrinsics only.
#include <immintrin.h>

#include "kernels/dropout_isa.h"

namespace fastnn::kernels::avx2 {

namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;  // util/rng.h's increment
constexpr std::uint64_t kMul1 = 0xBF58476D1CE4E5B9ULL;    // splitmix64's multipliers
constexpr std::uint64_t kMul2 = 0x94D049BB133111EBULL;

inline __m256i mul64(__m256i z, std::uint64_t c) {
  const __m256i c_lo = _mm256_set1_epi64x(static_cast<long long>(c & 0xFFFFFFFFu));
  const __m256i c_hi = _mm256_set1_epi64x(static_cast<long long>(c >> 32));
  const __m256i lo = _mm256_mul_epu32(z, c_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(z, 32), c_lo),
                                         _mm256_mul_epu32(z, c_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

// The top 24 bits of splitmix64's finaliser of z, in bits 0..23 of each 64-bit lane.
inline __m256i top24(__m256i z) {
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), kMul1);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), kMul2);
  return _mm256_srli_epi64(z, 40);
}

// key + (j + 1) kGolden, rng::bits' hash input for counter j.
inline long long counter(std::uint64_t key, std::uint64_t j) {
  return static_cast<long long>(key + (j + 1) * kGolden);
}

}  // namespace

void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  __m256i ev = _mm256_setr_epi64x(counter(key, first), counter(key, first + 2),
                                  counter(key, first + 4), counter(key, first + 6));
  __m256i od = _mm256_setr_epi64x(counter(key, first + 1), counter(key, first + 3),
                                  counter(key, first + 5), counter(key, first + 7));
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(8 * kGolden));
  // u >= threshold <=> u > threshold - 1 (u < 2^24, so signed 32-bit compares are exact)
  const __m256i limit = _mm256_set1_epi32(static_cast<int>(threshold) - 1);
  const __m256 vscale = _mm256_set1_ps(scale);
  const auto factor = [&]() {
    const __m256i u = _mm256_or_si256(top24(ev), _mm256_slli_epi64(top24(od), 32));
    ev = _mm256_add_epi64(ev, step);
    od = _mm256_add_epi64(od, step);
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(u, limit)), vscale);
  };
  index_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(in + i), factor()));
  if (i < n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(out + i, m, _mm256_mul_ps(_mm256_maskload_ps(in + i, m), factor()));
  }
}

}  // namespace fastnn::kernels::avx2
