// rng_simd.h: util/rng.h's counter-based random bits on SIMD lanes, for the
// vector types of util/simd_vec.h (include only from *_avx2.cpp / *_avx512.cpp).
//
// U24Stream<V>(key, first).next() returns, in lane l of a V::Int, the 24-bit
// integer u_j = rng::bits(key, j) >> 40 of counter j = first + l; each call moves
// on by V::kWidth counters. Only bits 40..63 of splitmix64's finaliser are used, and
// its last step z ^ (z >> 31) leaves them unchanged, so it is skipped. The hash is
// integer arithmetic mod 2^64: every form gives rng.h's exact values.
//
// 64-bit lanes: vector `ev` holds the counters j, j+2, j+4, ... and `od` the odd
// ones, so (top24(ev)) | (top24(od) << 32) lists the integers in element order in
// 32-bit lanes. AVX2 has no 64-bit multiply: z * c mod 2^64 = lo(z) lo(c) +
// ((hi(z) lo(c) + lo(z) hi(c)) << 32), three vpmuludq; AVX-512 DQ has vpmullq.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "util/rng.h"
#include "util/simd_vec.h"

namespace fastnn::rng::simd {
namespace {

constexpr std::uint64_t kMul1 = 0xBF58476D1CE4E5B9ULL;  // splitmix64's multipliers
constexpr std::uint64_t kMul2 = 0x94D049BB133111EBULL;

// key + (j + 1) kGolden, rng::bits' hash input for counter j.
inline long long counter(std::uint64_t key, std::uint64_t j) {
  return static_cast<long long>(key + (j + 1) * kGolden);
}

template <class V>
struct U24Stream;

#if FASTNN_VEC16_NATIVE

inline __m512i top24(__m512i z) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64(static_cast<long long>(kMul1)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                         _mm512_set1_epi64(static_cast<long long>(kMul2)));
  return _mm512_srli_epi64(z, 40);
}

template <>
struct U24Stream<simd_zmm::Vec16> {
  __m512i ev, od;
  U24Stream(std::uint64_t key, std::uint64_t first)
      : ev(_mm512_setr_epi64(counter(key, first), counter(key, first + 2), counter(key, first + 4),
                             counter(key, first + 6), counter(key, first + 8),
                             counter(key, first + 10), counter(key, first + 12),
                             counter(key, first + 14))),
        od(_mm512_add_epi64(ev, _mm512_set1_epi64(static_cast<long long>(kGolden)))) {}
  simd_zmm::Int16 next() {
    const __m512i u = _mm512_or_si512(top24(ev), _mm512_slli_epi64(top24(od), 32));
    const __m512i step = _mm512_set1_epi64(static_cast<long long>(16 * kGolden));
    ev = _mm512_add_epi64(ev, step);
    od = _mm512_add_epi64(od, step);
    return {u};
  }
};

#else

inline __m256i mul64(__m256i z, std::uint64_t c) {
  const __m256i c_lo = _mm256_set1_epi64x(static_cast<long long>(c & 0xFFFFFFFFu));
  const __m256i c_hi = _mm256_set1_epi64x(static_cast<long long>(c >> 32));
  const __m256i lo = _mm256_mul_epu32(z, c_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(z, 32), c_lo),
                                         _mm256_mul_epu32(z, c_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

inline __m256i top24(__m256i z) {
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), kMul1);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), kMul2);
  return _mm256_srli_epi64(z, 40);
}

// 8 counters first, first + 1, ... per call, then `stride` counters on.
struct U24Stream8 {
  __m256i ev, od, step;
  U24Stream8(std::uint64_t key, std::uint64_t first, std::uint64_t stride)
      : ev(_mm256_setr_epi64x(counter(key, first), counter(key, first + 2),
                              counter(key, first + 4), counter(key, first + 6))),
        od(_mm256_add_epi64(ev, _mm256_set1_epi64x(static_cast<long long>(kGolden)))),
        step(_mm256_set1_epi64x(static_cast<long long>(stride * kGolden))) {}
  simd_ymm2::Int8 next() {
    const __m256i u = _mm256_or_si256(top24(ev), _mm256_slli_epi64(top24(od), 32));
    ev = _mm256_add_epi64(ev, step);
    od = _mm256_add_epi64(od, step);
    return {u};
  }
};

template <>
struct U24Stream<simd_ymm2::Vec8> : U24Stream8 {
  U24Stream(std::uint64_t key, std::uint64_t first) : U24Stream8(key, first, 8) {}
};

// Lanes 0-7 and 8-15 as two 8-lane streams, each 16 counters on per call.
template <>
struct U24Stream<simd_ymm2::Vec16> {
  U24Stream8 lo, hi;
  U24Stream(std::uint64_t key, std::uint64_t first) : lo(key, first, 16), hi(key, first + 8, 16) {}
  simd_ymm2::Int16 next() { return {lo.next(), hi.next()}; }
};

#endif

}  // namespace
}  // namespace fastnn::rng::simd
