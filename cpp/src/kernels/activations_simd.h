// activations_simd.h: the SIMD activation bodies (activations_isa.h), written once
// over the vector type V of util/simd_vec.h and compiled per path: Vec8
// (activations_avx2.cpp), Vec16 on ymm pairs (activations16_avx2.cpp) and on zmm
// (activations_avx512.cpp). All give the same bits.
//
// The formulas of activations_scalar.cpp, with the maths of util/vecmath_simd.h
// (a few ulp) instead of libm. relu keeps PyTorch's NaN behaviour: relu(NaN) = NaN,
// its gradient passes dy. Include only from those files (after util/simd_vec.h).
#pragma once

#include "kernels/activations_isa.h"
#include "util/vecmath_simd.h"

namespace fastnn::kernels::simd {

namespace {

namespace vm = vecmath::simd;

constexpr float kSqrt1_2 = 0.70710678118654752440f;      // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;   // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // sqrt(2 / pi)
constexpr float kGeluTanhCoeff = 0.044715f;
// |v| from which sigmoid(2u) of GELU(tanh) is exactly 0 or 1 in float (u = -301 at -20)
constexpr float kGeluTanhSaturated = 20.0f;

// Phi(v) = (1 + erf(v / sqrt 2)) / 2
template <class V>
inline V normal_cdf(V v) {
  return V::splat(0.5f) * (V::splat(1.0f) + vm::erf(v * V::splat(kSqrt1_2)));
}

// sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3)
template <class V>
inline V gelu_tanh_gate(V v) {
  const V inner = fmadd(V::splat(kGeluTanhCoeff) * (v * v), v, v);
  return vm::sigmoid(V::splat(2.0f * kSqrt2OverPi) * inner);
}

// softplus(x) = log(1 + e^z) / beta, z = beta x, where z <= threshold, else x: log(1 +
// e^z) = max(z, 0) + log1p(e^-|z|), which neither overflows nor loses e^z when it is
// tiny.
template <class V>
inline V softplus(V v, V beta, V threshold) {
  const V z = beta * v;
  const V soft = (max(z, V::zero()) + vm::log1p_unit(vm::exp(V::zero() - vm::abs(z)))) / beta;
  return select(gt(z, threshold), v, soft);
}

template <class V>
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n) {
  const V slope = V::splat(param), zero = V::zero();
  switch (act) {
    case Activation::identity:
      return vm::map<V>(y, x, n, [](V v) { return v; });
    case Activation::relu:
      // x < 0: 0; NaN and -0 pass through, as torch.relu
      return vm::map<V>(y, x, n, [zero](V v) { return select(lt(v, zero), zero, v); });
    case Activation::leaky_relu:
      return vm::map<V>(y, x, n, [slope, zero](V v) { return select(gt(v, zero), v, v * slope); });
    case Activation::sigmoid:
      return vm::map<V>(y, x, n, [](V v) { return vm::sigmoid(v); });
    case Activation::tanh:
      return vm::map<V>(y, x, n, [](V v) { return vm::tanh(v); });
    case Activation::gelu:
      return vm::map<V>(y, x, n, [](V v) { return v * normal_cdf(v); });
    case Activation::gelu_tanh:
      return vm::map<V>(y, x, n, [](V v) { return v * gelu_tanh_gate(v); });
    case Activation::silu:
      return vm::map<V>(y, x, n, [](V v) { return v * vm::sigmoid(v); });
    case Activation::elu:
      // x < 0: alpha (e^x - 1); +-0 and NaN pass through, as torch
      return vm::map<V>(y, x, n, [slope, zero](V v) {
        return select(lt(v, zero), slope * vm::expm1_nonpositive(v), v);
      });
    case Activation::softplus: {
      const V threshold = V::splat(param2);
      return vm::map<V>(y, x, n, [slope, threshold](V v) { return softplus(v, slope, threshold); });
    }
  }
}

template <class V>
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n) {
  const V slope = V::splat(param), zero = V::zero(), one = V::splat(1.0f);
  switch (act) {
    case Activation::identity:
      return vm::map<V>(dx, dy, n, [](V g) { return g; });
    case Activation::relu:
      return vm::map2<V>(dx, dy, x, n, [zero](V g, V v) { return select(le(v, zero), zero, g); });
    case Activation::leaky_relu:
      return vm::map2<V>(dx, dy, x, n,
                         [slope, zero](V g, V v) { return select(gt(v, zero), g, g * slope); });
    case Activation::sigmoid:
      return vm::map2<V>(dx, dy, y, n, [one](V g, V s) { return (g * s) * (one - s); });
    case Activation::tanh:
      return vm::map2<V>(dx, dy, y, n, [one](V g, V t) { return g * fnmadd(t, t, one); });
    case Activation::gelu:
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      return vm::map2<V>(dx, dy, x, n, [](V g, V v) {
        const V pdf = V::splat(kInvSqrt2Pi) * vm::exp(V::splat(-0.5f) * (v * v));
        return g * fmadd(v, pdf, normal_cdf(v));
      });
    case Activation::gelu_tanh:
      // f = v s, s = sigmoid(2u):  f' = s + v * 2 s (1 - s) * du/dv. Where |v| > 20,
      // s (1 - s) is 0: v is clamped there, so that v * v (from 1.8e19) and 2 v no longer
      // overflow into inf * 0 = NaN, and f' is s (1 or 0) for every finite v, as on the
      // scalar path; v - v keeps PyTorch's NaN at v = +-inf.
      return vm::map2<V>(dx, dy, x, n, [one](V g, V v) {
        const V s = gelu_tanh_gate(v);
        const V vc = min(max(v, V::splat(-kGeluTanhSaturated)), V::splat(kGeluTanhSaturated));
        const V du = V::splat(kSqrt2OverPi) * fmadd(V::splat(3.0f * kGeluTanhCoeff), vc * vc, one);
        const V ds = (V::splat(2.0f) * vc) * (s * (one - s)) + (v - v);
        return g * fmadd(ds, du, s);
      });
    case Activation::silu:
      // f' = s (1 + x (1 - s)), s = sigmoid(x)
      return vm::map2<V>(dx, dy, x, n, [one](V g, V v) {
        const V s = vm::sigmoid(v);
        return (g * s) * fmadd(v, one - s, one);
      });
    case Activation::elu:
      // x <= 0: alpha e^x; elsewhere (NaN too, as torch's scalar path) 1
      return vm::map2<V>(dx, dy, x, n, [slope, zero](V g, V v) {
        return select(le(v, zero), g * (slope * vm::exp(min(v, zero))), g);
      });
    case Activation::softplus: {
      // f' = sigmoid(beta x) where beta x <= threshold, else 1
      const V threshold = V::splat(param2);
      return vm::map2<V>(dx, dy, x, n, [slope, threshold](V g, V v) {
        const V z = slope * v;
        return select(gt(z, threshold), g, g * vm::sigmoid(z));
      });
    }
  }
}

}  // namespace

}  // namespace fastnn::kernels::simd
