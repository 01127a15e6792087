// vecmath_avx2.h: float32 exp, log, tanh, sigmoid and erf on 8 lanes (AVX2 + FMA).
//
// Include only from *_avx2.cpp files (compiled with -mavx2 -mfma). Everything here
// is in an unnamed namespace, so each including file gets private copies and the
// linker can never hand an AVX2 instantiation to portable code.
//
// Special values follow IEEE/libm: NaN in gives NaN out, +-inf and huge |x| give the
// limits (exp(+inf) = inf, exp(-inf) = 0, tanh/erf(+-inf) = +-1, sigmoid 0/1,
// log(0) = -inf, log(x < 0) = NaN), subnormal inputs and results are handled.
//
// Measured max error against float64 over every 2^9-th float32 of both signs (2^-14
// relative steps over the whole range, subnormals included) and the special points;
// tests/test_vecmath.py sweeps every 2^11-th float32 and a fine grid over [-110, 110]
// and asserts these bounds with a margin (1.5 ulp; 2.5 for tanh and sigmoid):
//   exp      0.98 ulp  (Cephes expf polynomial on |r| <= ln2/2, 2^n in two steps)
//   log      0.76 ulp  (Cephes logf polynomial on [sqrt(1/2), sqrt(2)))
//   tanh     1.22 ulp  (odd polynomial for |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1))
//   sigmoid  2.18 ulp  (1 / (1 + e) or e / (1 + e), e = exp(-|x|); libm's expf gives the same)
//   erf      1.08 ulp  (x P(x^2) for |x| < 0.875, else 1 - exp(-x^2) Q(1 / (1 + |x|/2)))
// where an ulp is the float32 spacing at the float64 result (subnormal spacing below
// FLT_MIN). The erf polynomials are weighted least-squares (Lawson) fits made for
// this file, relative error 3e-10 (P) and 2e-9 (Q) before float32 rounding.
#pragma once

#include <immintrin.h>

#include "fastnn/common.h"

namespace fastnn::vecmath::avx2 {

namespace {

inline __m256 splat(float v) { return _mm256_set1_ps(v); }

inline __m256 inf() { return _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)); }
inline __m256 nan() { return _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)); }

inline __m256 abs(__m256 x) { return _mm256_andnot_ps(splat(-0.0f), x); }

// The sign bit of x alone.
inline __m256 sign_bit(__m256 x) { return _mm256_and_ps(splat(-0.0f), x); }

// lanes r..7 off: the mask of a tail of r (1..7) elements for maskload/maskstore.
inline __m256i tail_mask(index_t r) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(r)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 2^n for integer lanes n in [-126, 127].
inline __m256 pow2i(__m256i n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

// exp(x) = 2^n e^r, n = round(x / ln2), r = x - n ln2 (two-part ln2, so r is exact
// to float precision), e^r by Cephes' degree-7 expansion. x is clamped to
// [-104, 88.8] first (beyond: exactly 0 / inf anyway), so n is in [-150, 128];
// 2^n is applied as 2^(n/2) 2^(n - n/2), both normal, so subnormal results are
// rounded once and 2^128 overflows to inf as it should.
inline __m256 exp(__m256 x) {
  // max/min return their second operand when either is NaN: NaN passes through.
  x = _mm256_min_ps(splat(88.8f), _mm256_max_ps(splat(-104.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, splat(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, splat(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, splat(-2.12194440e-4f), r);
  __m256 p = splat(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, splat(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, splat(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, splat(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, splat(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, splat(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, splat(1.0f));
  const __m256i ni = _mm256_cvtps_epi32(n);  // NaN -> INT_MIN, but p is NaN then
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(n2));
}

// log(x) = e ln2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(1 + f)
// = f - f^2/2 + f^3 P(f) (Cephes logf), ln2 in two parts. Subnormal x is scaled by
// 2^23 first.
inline __m256 log(__m256 x) {
  const __m256 tiny = _mm256_cmp_ps(x, splat(1.17549435e-38f), _CMP_LT_OQ);
  const __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, splat(8388608.0f)), tiny);
  const __m256i bits = _mm256_castps_si256(xs);
  __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  e = _mm256_sub_ps(e, _mm256_and_ps(tiny, splat(23.0f)));
  // m in [0.5, 1); below sqrt(1/2) use 2m and e - 1
  const __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  const __m256 lo = _mm256_cmp_ps(m, splat(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(lo, splat(1.0f)));
  const __m256 f = _mm256_add_ps(_mm256_sub_ps(m, splat(1.0f)), _mm256_and_ps(lo, m));
  const __m256 z = _mm256_mul_ps(f, f);
  __m256 p = splat(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, f, splat(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, f, splat(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, f, splat(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, f, splat(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, f, splat(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, f, splat(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, f, splat(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, f, splat(3.3333331174e-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), z);
  y = _mm256_fmadd_ps(e, splat(-2.12194440e-4f), y);
  y = _mm256_fmadd_ps(z, splat(-0.5f), y);
  __m256 r = _mm256_fmadd_ps(e, splat(0.693359375f), _mm256_add_ps(f, y));
  // log(+-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, log(NaN) = NaN
  r = _mm256_blendv_ps(r, _mm256_or_ps(inf(), splat(-0.0f)), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
  r = _mm256_blendv_ps(r, nan(), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, inf(), _CMP_NLT_UQ));
}

// tanh(x) = sign(x) tanh|x|: |x| < 0.625: a + a^3 P(a^2) (Cephes tanhf), a = |x|;
// otherwise 1 - 2 / (exp(2a) + 1), which is exactly 1 once exp overflows.
inline __m256 tanh(__m256 x) {
  const __m256 a = abs(x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = splat(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, splat(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, splat(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, splat(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, splat(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), a, a);
  const __m256 e = exp(_mm256_add_ps(a, a));
  const __m256 large = _mm256_sub_ps(splat(1.0f), _mm256_div_ps(splat(2.0f), _mm256_add_ps(e, splat(1.0f))));
  // both branches compute tanh|x|; x's sign is or-ed in (so tanh(-0) = -0)
  const __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, splat(0.625f), _CMP_LT_OQ));
  return _mm256_or_ps(r, sign_bit(x));
}

// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, e = exp(-|x|): exp
// never overflows and very negative x gives the subnormal result, not 0.
inline __m256 sigmoid(__m256 x) {
  const __m256 e = exp(_mm256_or_ps(abs(x), splat(-0.0f)));
  const __m256 num = _mm256_blendv_ps(splat(1.0f), e, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  return _mm256_div_ps(num, _mm256_add_ps(splat(1.0f), e));
}

// erf(x) = sign(x) erf|x|: |x| < 0.875: |x| P(x^2); otherwise 1 - erfc|x| with
// erfc(a) = exp(-a^2) Q(t - 0.5144927536), t = 1 / (1 + a/2), a clamped to 4
// (erfc(4) = 1.5e-8 already rounds 1 - erfc to 1).
inline __m256 erf(__m256 x) {
  const __m256 a = abs(x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = splat(8.64308813e-05f);
  p = _mm256_fmadd_ps(p, z, splat(-0.000820320814f));
  p = _mm256_fmadd_ps(p, z, splat(0.00520601038f));
  p = _mm256_fmadd_ps(p, z, splat(-0.0268612584f));
  p = _mm256_fmadd_ps(p, z, splat(0.112837261f));
  p = _mm256_fmadd_ps(p, z, splat(-0.376126355f));
  // |x| (c0 + z P1): c0 = 2/sqrt(pi) in two parts, so its float32 rounding (0.4 ulp)
  // does not reach the result; the fma rounds once.
  p = _mm256_fmadd_ps(p, z, splat(-5.86353834e-8f));
  const __m256 small = _mm256_fmadd_ps(a, splat(1.12837922573f), _mm256_mul_ps(a, p));
  const __m256 ac = _mm256_min_ps(splat(4.0f), a);  // NaN stays NaN (second operand)
  const __m256 t = _mm256_sub_ps(
      _mm256_div_ps(splat(1.0f), _mm256_fmadd_ps(ac, splat(0.5f), splat(1.0f))),
      splat(0.5144927536231884f));
  __m256 q = splat(0.119111815f);
  q = _mm256_fmadd_ps(q, t, splat(-0.041462971f));
  q = _mm256_fmadd_ps(q, t, splat(-0.227875692f));
  q = _mm256_fmadd_ps(q, t, splat(0.0433458097f));
  q = _mm256_fmadd_ps(q, t, splat(0.634815595f));
  q = _mm256_fmadd_ps(q, t, splat(0.994171971f));
  q = _mm256_fmadd_ps(q, t, splat(0.882788847f));
  q = _mm256_fmadd_ps(q, t, splat(0.267982832f));
  const __m256 erfc = _mm256_mul_ps(exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), ac), ac)), q);
  const __m256 large = _mm256_sub_ps(splat(1.0f), erfc);
  // both branches compute erf|x|; x's sign is or-ed in (so erf(-0) = -0)
  const __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, splat(0.875f), _CMP_LT_OQ));
  return _mm256_or_ps(r, sign_bit(x));
}

// y[i] = f(x[i]) for i < n, 8 lanes at a time; the tail runs the same f on a masked
// load, so every element gets the same result wherever it falls in the array.
template <class F>
inline void map(float* y, const float* x, index_t n, F f) {
  index_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

// out[i] = f(a[i], b[i]) for i < n, as map.
template <class F>
inline void map2(float* out, const float* a, const float* b, index_t n, F f) {
  index_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(out + i, m, f(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m)));
  }
}

}  // namespace

}  // namespace fastnn::vecmath::avx2
