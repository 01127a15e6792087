// vecmath_simd.h: float32 exp, log, tanh, sigmoid and erf on SIMD lanes, written
// once over the vector type V of util/simd_vec.h: Vec8 (the avx2 path), Vec16 on
// ymm pairs (avx512emu) or Vec16 on zmm (avx512). Every step is a lane-wise IEEE
// operation with no contraction (CMakeLists.txt), so all three give the same bits.
//
// Include only from *_avx2.cpp / *_avx512.cpp files (after util/simd_vec.h).
// Everything here is in an unnamed namespace, so each including file gets private
// copies and the linker can never hand an AVX-512 instantiation to AVX2 code.
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
// and, for ELU and Softplus (tests/test_activations.py checks them through those):
//   expm1_nonpositive  0.81 ulp  (x <= 0)
//   log1p_unit         log's error plus a rounding (0 <= u <= 1)
// where an ulp is the float32 spacing at the float64 result (subnormal spacing below
// FLT_MIN). The erf polynomials are weighted least-squares (Lawson) fits made for
// this file, relative error 3e-10 (P) and 2e-9 (Q) before float32 rounding.
#pragma once

#include "fastnn/common.h"
#include "util/vecmath.h"

namespace fastnn::vecmath::simd {

namespace {

template <class V>
inline V inf() { return from_bits(V::Int::splat(0x7f800000)); }
template <class V>
inline V nan() { return from_bits(V::Int::splat(0x7fc00000)); }

template <class V>
inline V abs(V x) { return bit_andnot(V::splat(-0.0f), x); }

// The sign bit of x alone.
template <class V>
inline V sign_bit(V x) { return bit_and(V::splat(-0.0f), x); }

// 2^n for integer lanes n in [-126, 127].
template <class I>
inline auto pow2i(I n) { return from_bits(shl(n + I::splat(127), 23)); }

// n = round(x / ln2) into *n, and e^r - 1 for r = x - n ln2 (two-part ln2, so r is
// exact to float precision), |r| <= ln2/2, by Cephes' expf expansion r + r^2 P(r):
// relative to e^r - 1 its error stays within that of e^r (the r^2 term is small).
template <class V>
inline V expm1_reduced(V x, V* n) {
  *n = round_nearest(x * V::splat(1.44269504088896341f));
  V r = fnmadd(*n, V::splat(0.693359375f), x);
  r = fnmadd(*n, V::splat(-2.12194440e-4f), r);
  V p = V::splat(1.9875691500e-4f);
  p = fmadd(p, r, V::splat(1.3981999507e-3f));
  p = fmadd(p, r, V::splat(8.3334519073e-3f));
  p = fmadd(p, r, V::splat(4.1665795894e-2f));
  p = fmadd(p, r, V::splat(1.6666665459e-1f));
  p = fmadd(p, r, V::splat(5.0000001201e-1f));
  return fmadd(p, r * r, r);
}

// exp's first part, shared with exp_below88: n as expm1_reduced, and e^r.
template <class V>
inline V exp_mantissa(V x, V* n) {
  return expm1_reduced(x, n) + V::splat(1.0f);
}

// exp(x) = 2^n e^r (exp_mantissa). x is clamped to [-104, 88.8] first (beyond:
// exactly 0 / inf anyway), so n is in [-150, 128]; 2^n is applied as 2^(n/2)
// 2^(n - n/2), both normal, so subnormal results are rounded once and 2^128
// overflows to inf as it should.
template <class V>
inline V exp(V x) {
  using I = typename V::Int;
  // max/min return their second operand when either is NaN: NaN passes through.
  x = min(V::splat(88.8f), max(V::splat(-104.0f), x));
  V n;
  const V p = exp_mantissa(x, &n);
  const I ni = to_int(n);  // NaN -> INT_MIN, but p is NaN then
  const I n1 = shr_arith(ni, 1);
  const I n2 = ni - n1;
  return (p * pow2i(n1)) * pow2i(n2);
}

// exp(x) for 0 <= x <= 88 (or NaN), bit for bit: n <= 127 there and the result is
// normal, so one exact scaling by 2^n does what exp's two do, without its clamps.
template <class V>
inline V exp_below88(V x) {
  V n;
  const V p = exp_mantissa(x, &n);
  return p * pow2i(to_int(n));
}

// e^x - 1 for x <= 0 (or NaN) without exp(x) - 1's cancellation near 0: with x = n ln2
// + r, e^x - 1 = 2^n (e^r - 1) + (2^n - 1), rounded once by the fma (2^n - 1 is exact
// for n >= -24; below, the result is -1 in float anyway). x is clamped to -20 first
// (e^-20 - 1 rounds to -1 in float), so n >= -29. Max error 0.81 ulp (measured).
template <class V>
inline V expm1_nonpositive(V x) {
  V n;
  const V q = expm1_reduced(max(V::splat(-20.0f), x), &n);  // NaN passes through max
  const V scale = pow2i(to_int(n));
  return fmadd(scale, q, scale - V::splat(1.0f));
}

// log(x) = e ln2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(1 + f)
// = f - f^2/2 + f^3 P(f) (Cephes logf), ln2 in two parts. Subnormal x is scaled by
// 2^23 first.
template <class V>
inline V log(V x) {
  using I = typename V::Int;
  const V zero = V::zero();
  const auto tiny = lt(x, V::splat(1.17549435e-38f));
  const I b = bits(select(tiny, x * V::splat(8388608.0f), x));
  V e = to_float(shr_logical(b, 23) - I::splat(126));
  e = e - select(tiny, V::splat(23.0f), zero);
  // m in [0.5, 1); below sqrt(1/2) use 2m and e - 1
  const V m = from_bits((b & I::splat(0x007fffff)) | I::splat(0x3f000000));
  const auto lo = lt(m, V::splat(0.707106781186547524f));
  e = e - select(lo, V::splat(1.0f), zero);
  const V f = (m - V::splat(1.0f)) + select(lo, m, zero);
  const V z = f * f;
  V p = V::splat(7.0376836292e-2f);
  p = fmadd(p, f, V::splat(-1.1514610310e-1f));
  p = fmadd(p, f, V::splat(1.1676998740e-1f));
  p = fmadd(p, f, V::splat(-1.2420140846e-1f));
  p = fmadd(p, f, V::splat(1.4249322787e-1f));
  p = fmadd(p, f, V::splat(-1.6668057665e-1f));
  p = fmadd(p, f, V::splat(2.0000714765e-1f));
  p = fmadd(p, f, V::splat(-2.4999993993e-1f));
  p = fmadd(p, f, V::splat(3.3333331174e-1f));
  V y = (p * f) * z;
  y = fmadd(e, V::splat(-2.12194440e-4f), y);
  y = fmadd(z, V::splat(-0.5f), y);
  V r = fmadd(e, V::splat(0.693359375f), f + y);
  // log(+-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, log(NaN) = NaN
  r = select(eq(x, zero), -inf<V>(), r);
  r = select(lt(x, zero), nan<V>(), r);
  return select(not_lt(x, inf<V>()), x, r);
}

// log(1 + u) for 0 <= u <= 1: w = 1 + u rounded, then log(w) corrected by the rounding
// error of w, (u - (w - 1)) / w (w - 1 is exact), so tiny u gives u, not 0.
template <class V>
inline V log1p_unit(V u) {
  const V one = V::splat(1.0f);
  const V w = one + u;
  return log(w) + (u - (w - one)) / w;
}

// tanh(x) = sign(x) tanh|x|: |x| < 0.625: a + a^3 P(a^2) (Cephes tanhf), a = |x|;
// otherwise 1 - 2 / (exp(2a) + 1), with 2a clamped to 88: from a = 44 on, that is 1
// in float whatever exp gives (the clamp lets exp_below88 skip exp's range work,
// 1.2x faster, same bits).
template <class V>
inline V tanh(V x) {
  const V a = abs(x);
  const V z = x * x;
  V p = V::splat(-5.70498872745e-3f);
  p = fmadd(p, z, V::splat(2.06390887954e-2f));
  p = fmadd(p, z, V::splat(-5.37397155531e-2f));
  p = fmadd(p, z, V::splat(1.33314422036e-1f));
  p = fmadd(p, z, V::splat(-3.33332819422e-1f));
  const V small = fmadd(p * z, a, a);
  const V e = exp_below88(min(V::splat(88.0f), a + a));  // NaN passes through min
  const V large = V::splat(1.0f) - V::splat(2.0f) / (e + V::splat(1.0f));
  // both branches compute tanh|x|; x's sign is or-ed in (so tanh(-0) = -0)
  return bit_or(select(lt(a, V::splat(0.625f)), small, large), sign_bit(x));
}

// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, e = exp(-|x|): exp
// never overflows and very negative x gives the subnormal result, not 0.
template <class V>
inline V sigmoid(V x) {
  const V e = exp(bit_or(abs(x), V::splat(-0.0f)));
  const V num = select(lt(x, V::zero()), e, V::splat(1.0f));
  return num / (V::splat(1.0f) + e);
}

// erf(x) = sign(x) erf|x|: |x| < 0.875: |x| P(x^2); otherwise 1 - erfc|x| with
// erfc(a) = exp(-a^2) Q(t - 0.5144927536), t = 1 / (1 + a/2), a clamped to 4
// (erfc(4) = 1.5e-8 already rounds 1 - erfc to 1).
template <class V>
inline V erf(V x) {
  const V a = abs(x);
  const V z = x * x;
  V p = V::splat(8.64308813e-05f);
  p = fmadd(p, z, V::splat(-0.000820320814f));
  p = fmadd(p, z, V::splat(0.00520601038f));
  p = fmadd(p, z, V::splat(-0.0268612584f));
  p = fmadd(p, z, V::splat(0.112837261f));
  p = fmadd(p, z, V::splat(-0.376126355f));
  // |x| (c0 + z P1): c0 = 2/sqrt(pi) in two parts, so its float32 rounding (0.4 ulp)
  // does not reach the result; the fma rounds once.
  p = fmadd(p, z, V::splat(-5.86353834e-8f));
  const V small = fmadd(a, V::splat(1.12837922573f), a * p);
  const V ac = min(V::splat(4.0f), a);  // NaN stays NaN (second operand)
  const V t = V::splat(1.0f) / fmadd(ac, V::splat(0.5f), V::splat(1.0f)) -
              V::splat(0.5144927536231884f);
  V q = V::splat(0.119111815f);
  q = fmadd(q, t, V::splat(-0.041462971f));
  q = fmadd(q, t, V::splat(-0.227875692f));
  q = fmadd(q, t, V::splat(0.0433458097f));
  q = fmadd(q, t, V::splat(0.634815595f));
  q = fmadd(q, t, V::splat(0.994171971f));
  q = fmadd(q, t, V::splat(0.882788847f));
  q = fmadd(q, t, V::splat(0.267982832f));
  // 1 - erfc = 1 - exp(-a^2) Q, rounded once
  const V large = fnmadd(exp((V::zero() - ac) * ac), q, V::splat(1.0f));
  // both branches compute erf|x|; x's sign is or-ed in (so erf(-0) = -0)
  return bit_or(select(lt(a, V::splat(0.875f)), small, large), sign_bit(x));
}

// y[i] = f(x[i]) for i < n, V::kWidth lanes at a time; the tail runs the same f on
// a masked load, so every element gets the same result wherever it falls.
template <class V, class F>
inline void map(float* y, const float* x, index_t n, F f) {
  index_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) f(V::load(x + i)).store(y + i);
  if (i < n) {
    const auto m = V::Mask::first_n(n - i);
    f(V::load(x + i, m)).store(y + i, m);
  }
}

// out[i] = f(a[i], b[i]) for i < n, as map.
template <class V, class F>
inline void map2(float* out, const float* a, const float* b, index_t n, F f) {
  index_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) f(V::load(a + i), V::load(b + i)).store(out + i);
  if (i < n) {
    const auto m = V::Mask::first_n(n - i);
    f(V::load(a + i, m), V::load(b + i, m)).store(out + i, m);
  }
}

// The array entry points of vecmath.h for one vector type.
template <class V>
void exp_array(float* y, const float* x, index_t n) {
  map<V>(y, x, n, [](V v) { return exp(v); });
}
template <class V>
void log_array(float* y, const float* x, index_t n) {
  map<V>(y, x, n, [](V v) { return log(v); });
}
template <class V>
void tanh_array(float* y, const float* x, index_t n) {
  map<V>(y, x, n, [](V v) { return tanh(v); });
}
template <class V>
void sigmoid_array(float* y, const float* x, index_t n) {
  map<V>(y, x, n, [](V v) { return sigmoid(v); });
}
template <class V>
void erf_array(float* y, const float* x, index_t n) {
  map<V>(y, x, n, [](V v) { return erf(v); });
}
template <class V>
constexpr ArraySet array_set() {
  return {&exp_array<V>, &log_array<V>, &tanh_array<V>, &sigmoid_array<V>, &erf_array<V>};
}

}  // namespace

}  // namespace fastnn::vecmath::simd
