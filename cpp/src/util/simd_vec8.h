// simd_vec8.h: Vec8, 8 float lanes in one __m256 (AVX2 + FMA), and its lane masks
// and int32 lanes. Part of util/simd_vec.h (include that, from *_avx2.cpp only).
//
// The building block of both 8-lane kernels (the avx2 path) and the ymm-pair form
// of Vec16 (util/simd_vec16_ymm2.h), which applies these same operations to each
// half, so the two give the same bits lane by lane.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace fastnn::simd_ymm2 {
namespace {

struct Mask8;
struct Int8;
struct Sum8d;
struct Vec8ViaF64;

struct Vec8 {
  static constexpr int kWidth = 8;
  using Mask = Mask8;
  using Int = Int8;
  using Sum = Sum8d;
  using ViaF64 = Vec8ViaF64;  // the same lanes computed in double (util/simd_via_f64.h)
  __m256 v;

  static Vec8 zero() { return {_mm256_setzero_ps()}; }
  static Vec8 splat(float x) { return {_mm256_set1_ps(x)}; }
  static Vec8 bcast(const float* p) { return {_mm256_broadcast_ss(p)}; }
  static Vec8 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  // Lanes outside m are not read and come back 0.
  static inline Vec8 load(const float* p, Mask8 m);
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  // Lanes outside m are not written.
  inline void store(float* p, Mask8 m) const;
};

// A lane predicate: all ones (true) or all zeros (false) per 32-bit lane, the form
// vmaskmovps and vblendvps read.
struct Mask8 {
  __m256i m;
  // Lanes [0, n), n in [0, 8] (larger n: all lanes).
  static Mask8 first_n(std::int64_t n) {
    const __m256i vn = _mm256_set1_epi32(static_cast<int>(n > 8 ? 8 : n));
    return {_mm256_cmpgt_epi32(vn, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))};
  }
};
inline Mask8 operator|(Mask8 a, Mask8 b) { return {_mm256_or_si256(a.m, b.m)}; }
inline Mask8 operator&(Mask8 a, Mask8 b) { return {_mm256_and_si256(a.m, b.m)}; }
inline bool any(Mask8 a) { return !_mm256_testz_si256(a.m, a.m); }

struct Int8 {
  __m256i v;
  static Int8 splat(std::int32_t x) { return {_mm256_set1_epi32(x)}; }
};

inline Vec8 Vec8::load(const float* p, Mask8 m) { return {_mm256_maskload_ps(p, m.m)}; }
inline void Vec8::store(float* p, Mask8 m) const { _mm256_maskstore_ps(p, m.m, v); }

// Arithmetic: each correctly rounded (no contraction: CMakeLists.txt).
inline Vec8 operator+(Vec8 a, Vec8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Vec8 operator-(Vec8 a, Vec8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Vec8 operator*(Vec8 a, Vec8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Vec8 operator/(Vec8 a, Vec8 b) { return {_mm256_div_ps(a.v, b.v)}; }
// a b + c and c - a b, rounded once.
inline Vec8 fmadd(Vec8 a, Vec8 b, Vec8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec8 fnmadd(Vec8 a, Vec8 b, Vec8 c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
inline Vec8 sqrt(Vec8 a) { return {_mm256_sqrt_ps(a.v)}; }
// x86 min/max: a < b ? a : b and a > b ? a : b, so b when either is NaN.
inline Vec8 min(Vec8 a, Vec8 b) { return {_mm256_min_ps(a.v, b.v)}; }
inline Vec8 max(Vec8 a, Vec8 b) { return {_mm256_max_ps(a.v, b.v)}; }
// To the nearest integer, ties to even.
inline Vec8 round_nearest(Vec8 a) {
  return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}

// Bitwise, on the float encodings; bit_andnot(a, b) = ~a & b.
inline Vec8 bit_and(Vec8 a, Vec8 b) { return {_mm256_and_ps(a.v, b.v)}; }
inline Vec8 bit_andnot(Vec8 a, Vec8 b) { return {_mm256_andnot_ps(a.v, b.v)}; }
inline Vec8 bit_or(Vec8 a, Vec8 b) { return {_mm256_or_ps(a.v, b.v)}; }
inline Vec8 bit_xor(Vec8 a, Vec8 b) { return {_mm256_xor_ps(a.v, b.v)}; }
inline Vec8 operator-(Vec8 a) { return bit_xor(a, Vec8::splat(-0.0f)); }

// Ordered compares (false on NaN) and their complements (true on NaN).
inline Mask8 mask_of(__m256 c) { return {_mm256_castps_si256(c)}; }
inline Mask8 lt(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)); }
inline Mask8 le(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)); }
inline Mask8 gt(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)); }
inline Mask8 eq(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)); }
inline Mask8 not_lt(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_NLT_UQ)); }
inline Mask8 unordered(Vec8 a, Vec8 b) { return mask_of(_mm256_cmp_ps(a.v, b.v, _CMP_UNORD_Q)); }
// m ? a : b, lane by lane.
inline Vec8 select(Mask8 m, Vec8 a, Vec8 b) {
  return {_mm256_blendv_ps(b.v, a.v, _mm256_castsi256_ps(m.m))};
}

// float <-> int32: to_int rounds to nearest (NaN and out of range: INT32_MIN);
// bits / from_bits reinterpret the encoding.
inline Int8 to_int(Vec8 a) { return {_mm256_cvtps_epi32(a.v)}; }
inline Vec8 to_float(Int8 a) { return {_mm256_cvtepi32_ps(a.v)}; }
inline Int8 bits(Vec8 a) { return {_mm256_castps_si256(a.v)}; }
inline Vec8 from_bits(Int8 a) { return {_mm256_castsi256_ps(a.v)}; }

inline Int8 operator+(Int8 a, Int8 b) { return {_mm256_add_epi32(a.v, b.v)}; }
inline Int8 operator-(Int8 a, Int8 b) { return {_mm256_sub_epi32(a.v, b.v)}; }
inline Int8 operator&(Int8 a, Int8 b) { return {_mm256_and_si256(a.v, b.v)}; }
inline Int8 operator|(Int8 a, Int8 b) { return {_mm256_or_si256(a.v, b.v)}; }
inline Int8 shl(Int8 a, int k) { return {_mm256_slli_epi32(a.v, k)}; }
inline Int8 shr_logical(Int8 a, int k) { return {_mm256_srli_epi32(a.v, k)}; }
inline Int8 shr_arith(Int8 a, int k) { return {_mm256_srai_epi32(a.v, k)}; }
inline Mask8 gt(Int8 a, Int8 b) { return {_mm256_cmpgt_epi32(a.v, b.v)}; }

// max over the lanes: max(lo 4, hi 4), then pairs, then the last two.
inline float hmax(Vec8 a) {
  __m128 r = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  r = _mm_max_ps(r, _mm_movehl_ps(r, r));
  r = _mm_max_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Eight double accumulators s[0..7]; a float vector's lane j is added to s[j].
struct Sum8d {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();  // s[0..3], s[4..7]
};
// s[j] += a[j] (the float converts to double exactly).
inline void accumulate(Sum8d& s, Vec8 a) {
  s.lo = _mm256_add_pd(s.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(a.v)));
  s.hi = _mm256_add_pd(s.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(a.v, 1)));
}
// s[j] += a[j] b[j], the product exact in double, one rounding.
inline void accumulate_product(Sum8d& s, Vec8 a, Vec8 b) {
  s.lo = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a.v)),
                         _mm256_cvtps_pd(_mm256_castps256_ps128(b.v)), s.lo);
  s.hi = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a.v, 1)),
                         _mm256_cvtps_pd(_mm256_extractf128_ps(b.v, 1)), s.hi);
}
// ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)): a fixed order.
inline double total(const Sum8d& s) {
  const __m256d a = _mm256_add_pd(s.lo, s.hi);
  const __m128d t = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

}  // namespace
}  // namespace fastnn::simd_ymm2
