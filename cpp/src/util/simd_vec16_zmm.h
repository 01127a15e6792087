// simd_vec16_zmm.h: Vec16 as one native __m512, lane masks as __mmask16, for
// *_avx512.cpp files (AVX-512 F/DQ). Part of util/simd_vec.h (include that).
//
// Each operation is the zmm form of the instruction that util/simd_vec8.h uses
// on a ymm register (vminps, vcvtps2dq, vroundps/vrndscaleps, ...), with the same
// rounding, NaN and signed-zero rules, so every lane matches the ymm-pair form
// (util/simd_vec16_ymm2.h) bit for bit.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace fastnn::simd_zmm {
namespace {

struct Mask16;
struct Int16;
struct Sum8d;
struct Vec16ViaF64;

struct Vec16 {
  static constexpr int kWidth = 16;
  using Mask = Mask16;
  using Int = Int16;
  using Sum = Sum8d;
  using ViaF64 = Vec16ViaF64;  // the same lanes computed in double (util/simd_via_f64.h)
  __m512 v;

  static Vec16 zero() { return {_mm512_setzero_ps()}; }
  static Vec16 splat(float x) { return {_mm512_set1_ps(x)}; }
  static Vec16 bcast(const float* p) { return {_mm512_set1_ps(*p)}; }
  static Vec16 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  // Lanes outside m are not read and come back 0.
  static inline Vec16 load(const float* p, Mask16 m);
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  // Lanes outside m are not written.
  inline void store(float* p, Mask16 m) const;
};

// A lane predicate, one bit per lane.
struct Mask16 {
  __mmask16 m;
  // Lanes [0, n), n in [0, 16] (larger n: all lanes).
  static Mask16 first_n(std::int64_t n) {
    return {static_cast<__mmask16>(n >= 16 ? 0xFFFFu : n <= 0 ? 0u : (1u << n) - 1u)};
  }
};
inline Mask16 operator|(Mask16 a, Mask16 b) { return {static_cast<__mmask16>(a.m | b.m)}; }
inline Mask16 operator&(Mask16 a, Mask16 b) { return {static_cast<__mmask16>(a.m & b.m)}; }
inline bool any(Mask16 a) { return a.m != 0; }

struct Int16 {
  __m512i v;
  static Int16 splat(std::int32_t x) { return {_mm512_set1_epi32(x)}; }
};

inline Vec16 Vec16::load(const float* p, Mask16 m) { return {_mm512_maskz_loadu_ps(m.m, p)}; }
inline void Vec16::store(float* p, Mask16 m) const { _mm512_mask_storeu_ps(p, m.m, v); }

inline Vec16 operator+(Vec16 a, Vec16 b) { return {_mm512_add_ps(a.v, b.v)}; }
inline Vec16 operator-(Vec16 a, Vec16 b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline Vec16 operator*(Vec16 a, Vec16 b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline Vec16 operator/(Vec16 a, Vec16 b) { return {_mm512_div_ps(a.v, b.v)}; }
inline Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec16 fnmadd(Vec16 a, Vec16 b, Vec16 c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }
inline Vec16 sqrt(Vec16 a) { return {_mm512_sqrt_ps(a.v)}; }
inline Vec16 min(Vec16 a, Vec16 b) { return {_mm512_min_ps(a.v, b.v)}; }
inline Vec16 max(Vec16 a, Vec16 b) { return {_mm512_max_ps(a.v, b.v)}; }
inline Vec16 round_nearest(Vec16 a) {
  return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}

inline Vec16 bit_and(Vec16 a, Vec16 b) { return {_mm512_and_ps(a.v, b.v)}; }
inline Vec16 bit_andnot(Vec16 a, Vec16 b) { return {_mm512_andnot_ps(a.v, b.v)}; }
inline Vec16 bit_or(Vec16 a, Vec16 b) { return {_mm512_or_ps(a.v, b.v)}; }
inline Vec16 bit_xor(Vec16 a, Vec16 b) { return {_mm512_xor_ps(a.v, b.v)}; }
inline Vec16 operator-(Vec16 a) { return bit_xor(a, Vec16::splat(-0.0f)); }

inline Mask16 lt(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask16 le(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline Mask16 gt(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask16 eq(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline Mask16 not_lt(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_NLT_UQ)}; }
inline Mask16 unordered(Vec16 a, Vec16 b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_UNORD_Q)}; }
// m ? a : b (vblendmps takes b where the mask bit is clear).
inline Vec16 select(Mask16 m, Vec16 a, Vec16 b) { return {_mm512_mask_blend_ps(m.m, b.v, a.v)}; }

inline Int16 to_int(Vec16 a) { return {_mm512_cvtps_epi32(a.v)}; }
inline Vec16 to_float(Int16 a) { return {_mm512_cvtepi32_ps(a.v)}; }
inline Int16 bits(Vec16 a) { return {_mm512_castps_si512(a.v)}; }
inline Vec16 from_bits(Int16 a) { return {_mm512_castsi512_ps(a.v)}; }

inline Int16 operator+(Int16 a, Int16 b) { return {_mm512_add_epi32(a.v, b.v)}; }
inline Int16 operator-(Int16 a, Int16 b) { return {_mm512_sub_epi32(a.v, b.v)}; }
inline Int16 operator&(Int16 a, Int16 b) { return {_mm512_and_si512(a.v, b.v)}; }
inline Int16 operator|(Int16 a, Int16 b) { return {_mm512_or_si512(a.v, b.v)}; }
inline Int16 shl(Int16 a, int k) { return {_mm512_slli_epi32(a.v, k)}; }
inline Int16 shr_logical(Int16 a, int k) { return {_mm512_srli_epi32(a.v, k)}; }
inline Int16 shr_arith(Int16 a, int k) { return {_mm512_srai_epi32(a.v, k)}; }
inline Mask16 gt(Int16 a, Int16 b) { return {_mm512_cmpgt_epi32_mask(a.v, b.v)}; }

// max over the lanes: lanes 0-7 against 8-15, then the 8-lane fold of simd_vec8.h.
inline float hmax(Vec16 a) {
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a.v), _mm512_extractf32x8_ps(a.v, 1));
  __m128 r = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  r = _mm_max_ps(r, _mm_movehl_ps(r, r));
  r = _mm_max_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Eight double accumulators s[0..7] in one zmm (see simd_vec8.h's Sum8d).
struct Sum8d {
  __m512d s = _mm512_setzero_pd();
};
// Lanes 0-7 into s[0..7], then lanes 8-15 into s[0..7] (the 8-lane order).
inline void accumulate(Sum8d& s, Vec16 a) {
  s.s = _mm512_add_pd(s.s, _mm512_cvtps_pd(_mm512_castps512_ps256(a.v)));
  s.s = _mm512_add_pd(s.s, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a.v, 1)));
}
inline void accumulate_product(Sum8d& s, Vec16 a, Vec16 b) {
  s.s = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a.v)),
                        _mm512_cvtps_pd(_mm512_castps512_ps256(b.v)), s.s);
  s.s = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(a.v, 1)),
                        _mm512_cvtps_pd(_mm512_extractf32x8_ps(b.v, 1)), s.s);
}
// ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), as simd_vec8.h.
inline double total(const Sum8d& s) {
  const __m256d a = _mm256_add_pd(_mm512_castpd512_pd256(s.s), _mm512_extractf64x4_pd(s.s, 1));
  const __m128d t = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

}  // namespace
}  // namespace fastnn::simd_zmm
