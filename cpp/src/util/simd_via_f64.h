// simd_via_f64.h: float lanes computed in double precision, one float rounding per
// operation: Vec8ViaF64 (AVX2: two __m256d) and Vec16ViaF64 (ymm pairs of those, or
// two __m512d on AVX-512). Part of util/simd_vec.h (include that); V::ViaF64 names
// the type for a float vector V.
//
// Why: x86 multiplies, divides and FMAs take a microcode assist, about 110 cycles
// on a Xeon, whenever an operand or the result is subnormal (tens of times the
// operation itself); adds, subtracts, compares and float <-> double conversions do
// not. Converted to double, every float (subnormals included) and every product or
// quotient of two floats is a normal double, so these types compute without
// assists. Each operation rounds its double result back to float (vcvtpd2ps, then
// exact widening), and the result is the float operation's own: double has 53 bits
// >= 2 * 24 + 2, so rounding the double-rounded +, -, *, / or sqrt of floats to
// float gives the correctly rounded float result (double rounding is innocuous at
// that width), subnormal results included. optim/update.h runs an update through
// these types for the vectors whose operands are subnormal or close to it.
//
// Operations: kWidth, load, store, splat, + - * /, unary -, sqrt, gt, unordered,
// mask |, select. Compiled with -mavx512f: Vec16ViaF64 only (zmm); otherwise both.
// A signalling NaN comes back quiet (the widening conversion).
#pragma once

#include <immintrin.h>

#if FASTNN_VEC16_NATIVE
namespace fastnn::simd_zmm {
namespace {

struct Mask16ViaF64 {
  __mmask8 lo, hi;
};
inline Mask16ViaF64 operator|(Mask16ViaF64 a, Mask16ViaF64 b) {
  return {static_cast<__mmask8>(a.lo | b.lo), static_cast<__mmask8>(a.hi | b.hi)};
}

struct Vec16ViaF64 {
  static constexpr int kWidth = 16;
  static constexpr bool kViaF64 = true;
  using Mask = Mask16ViaF64;
  __m512d lo, hi;  // float lanes 0-7 and 8-15

  static Vec16ViaF64 splat(float x) { return {_mm512_set1_pd(x), _mm512_set1_pd(x)}; }
  static Vec16ViaF64 load(const float* p) {
    return {_mm512_cvtps_pd(_mm256_loadu_ps(p)), _mm512_cvtps_pd(_mm256_loadu_ps(p + 8))};
  }
  void store(float* p) const {
    _mm256_storeu_ps(p, _mm512_cvtpd_ps(lo));
    _mm256_storeu_ps(p + 8, _mm512_cvtpd_ps(hi));
  }
};

inline __m512d to_float_precision(__m512d x) { return _mm512_cvtps_pd(_mm512_cvtpd_ps(x)); }

inline Vec16ViaF64 operator+(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {to_float_precision(_mm512_add_pd(a.lo, b.lo)),
          to_float_precision(_mm512_add_pd(a.hi, b.hi))};
}
inline Vec16ViaF64 operator-(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {to_float_precision(_mm512_sub_pd(a.lo, b.lo)),
          to_float_precision(_mm512_sub_pd(a.hi, b.hi))};
}
inline Vec16ViaF64 operator*(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {to_float_precision(_mm512_mul_pd(a.lo, b.lo)),
          to_float_precision(_mm512_mul_pd(a.hi, b.hi))};
}
inline Vec16ViaF64 operator/(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {to_float_precision(_mm512_div_pd(a.lo, b.lo)),
          to_float_precision(_mm512_div_pd(a.hi, b.hi))};
}
inline Vec16ViaF64 operator-(Vec16ViaF64 a) {
  const __m512d sign = _mm512_set1_pd(-0.0);
  return {_mm512_xor_pd(a.lo, sign), _mm512_xor_pd(a.hi, sign)};
}
inline Vec16ViaF64 sqrt(Vec16ViaF64 a) {
  return {to_float_precision(_mm512_sqrt_pd(a.lo)), to_float_precision(_mm512_sqrt_pd(a.hi))};
}
inline Mask16ViaF64 gt(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {_mm512_cmp_pd_mask(a.lo, b.lo, _CMP_GT_OQ), _mm512_cmp_pd_mask(a.hi, b.hi, _CMP_GT_OQ)};
}
inline Mask16ViaF64 unordered(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {_mm512_cmp_pd_mask(a.lo, b.lo, _CMP_UNORD_Q),
          _mm512_cmp_pd_mask(a.hi, b.hi, _CMP_UNORD_Q)};
}
inline Vec16ViaF64 select(Mask16ViaF64 m, Vec16ViaF64 a, Vec16ViaF64 b) {
  return {_mm512_mask_blend_pd(m.lo, b.lo, a.lo), _mm512_mask_blend_pd(m.hi, b.hi, a.hi)};
}

}  // namespace
}  // namespace fastnn::simd_zmm
#else
namespace fastnn::simd_ymm2 {
namespace {

// One 64-bit lane predicate per float lane: all ones or all zeros.
struct Mask8ViaF64 {
  __m256d lo, hi;
};
inline Mask8ViaF64 operator|(Mask8ViaF64 a, Mask8ViaF64 b) {
  return {_mm256_or_pd(a.lo, b.lo), _mm256_or_pd(a.hi, b.hi)};
}

struct Vec8ViaF64 {
  static constexpr int kWidth = 8;
  static constexpr bool kViaF64 = true;
  using Mask = Mask8ViaF64;
  __m256d lo, hi;  // float lanes 0-3 and 4-7

  static Vec8ViaF64 splat(float x) { return {_mm256_set1_pd(x), _mm256_set1_pd(x)}; }
  static Vec8ViaF64 load(const float* p) {
    return {_mm256_cvtps_pd(_mm_loadu_ps(p)), _mm256_cvtps_pd(_mm_loadu_ps(p + 4))};
  }
  void store(float* p) const {
    _mm_storeu_ps(p, _mm256_cvtpd_ps(lo));
    _mm_storeu_ps(p + 4, _mm256_cvtpd_ps(hi));
  }
};

// The double x rounded to float, as a double (exact).
inline __m256d to_float_precision(__m256d x) { return _mm256_cvtps_pd(_mm256_cvtpd_ps(x)); }

inline Vec8ViaF64 operator+(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {to_float_precision(_mm256_add_pd(a.lo, b.lo)),
          to_float_precision(_mm256_add_pd(a.hi, b.hi))};
}
inline Vec8ViaF64 operator-(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {to_float_precision(_mm256_sub_pd(a.lo, b.lo)),
          to_float_precision(_mm256_sub_pd(a.hi, b.hi))};
}
inline Vec8ViaF64 operator*(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {to_float_precision(_mm256_mul_pd(a.lo, b.lo)),
          to_float_precision(_mm256_mul_pd(a.hi, b.hi))};
}
inline Vec8ViaF64 operator/(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {to_float_precision(_mm256_div_pd(a.lo, b.lo)),
          to_float_precision(_mm256_div_pd(a.hi, b.hi))};
}
inline Vec8ViaF64 operator-(Vec8ViaF64 a) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  return {_mm256_xor_pd(a.lo, sign), _mm256_xor_pd(a.hi, sign)};
}
inline Vec8ViaF64 sqrt(Vec8ViaF64 a) {
  return {to_float_precision(_mm256_sqrt_pd(a.lo)), to_float_precision(_mm256_sqrt_pd(a.hi))};
}
inline Mask8ViaF64 gt(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_GT_OQ), _mm256_cmp_pd(a.hi, b.hi, _CMP_GT_OQ)};
}
inline Mask8ViaF64 unordered(Vec8ViaF64 a, Vec8ViaF64 b) {
  return {_mm256_cmp_pd(a.lo, b.lo, _CMP_UNORD_Q), _mm256_cmp_pd(a.hi, b.hi, _CMP_UNORD_Q)};
}
inline Vec8ViaF64 select(Mask8ViaF64 m, Vec8ViaF64 a, Vec8ViaF64 b) {
  return {_mm256_blendv_pd(b.lo, a.lo, m.lo), _mm256_blendv_pd(b.hi, a.hi, m.hi)};
}

// Vec16 on ymm pairs: two Vec8ViaF64 (lanes 0-7, 8-15), as Vec16 is two Vec8.
struct Mask16ViaF64 {
  Mask8ViaF64 lo, hi;
};
inline Mask16ViaF64 operator|(Mask16ViaF64 a, Mask16ViaF64 b) { return {a.lo | b.lo, a.hi | b.hi}; }

struct Vec16ViaF64 {
  static constexpr int kWidth = 16;
  static constexpr bool kViaF64 = true;
  using Mask = Mask16ViaF64;
  Vec8ViaF64 lo, hi;

  static Vec16ViaF64 splat(float x) { return {Vec8ViaF64::splat(x), Vec8ViaF64::splat(x)}; }
  static Vec16ViaF64 load(const float* p) { return {Vec8ViaF64::load(p), Vec8ViaF64::load(p + 8)}; }
  void store(float* p) const {
    lo.store(p);
    hi.store(p + 8);
  }
};

inline Vec16ViaF64 operator+(Vec16ViaF64 a, Vec16ViaF64 b) { return {a.lo + b.lo, a.hi + b.hi}; }
inline Vec16ViaF64 operator-(Vec16ViaF64 a, Vec16ViaF64 b) { return {a.lo - b.lo, a.hi - b.hi}; }
inline Vec16ViaF64 operator*(Vec16ViaF64 a, Vec16ViaF64 b) { return {a.lo * b.lo, a.hi * b.hi}; }
inline Vec16ViaF64 operator/(Vec16ViaF64 a, Vec16ViaF64 b) { return {a.lo / b.lo, a.hi / b.hi}; }
inline Vec16ViaF64 operator-(Vec16ViaF64 a) { return {-a.lo, -a.hi}; }
inline Vec16ViaF64 sqrt(Vec16ViaF64 a) { return {sqrt(a.lo), sqrt(a.hi)}; }
inline Mask16ViaF64 gt(Vec16ViaF64 a, Vec16ViaF64 b) { return {gt(a.lo, b.lo), gt(a.hi, b.hi)}; }
inline Mask16ViaF64 unordered(Vec16ViaF64 a, Vec16ViaF64 b) {
  return {unordered(a.lo, b.lo), unordered(a.hi, b.hi)};
}
inline Vec16ViaF64 select(Mask16ViaF64 m, Vec16ViaF64 a, Vec16ViaF64 b) {
  return {select(m.lo, a.lo, b.lo), select(m.hi, a.hi, b.hi)};
}

}  // namespace
}  // namespace fastnn::simd_ymm2
#endif
