// activations_scalar.cpp: portable activation bodies (activations_isa.h), libm maths.
//
// relu follows PyTorch on NaN: relu(NaN) = NaN and its gradient passes dy
// (the mask is x <= 0, false for NaN). All maths in float, as PyTorch does on CPU.
#include <algorithm>
#include <cmath>

#include "kernels/activations_isa.h"
#include "util/vecmath_scalar.h"

namespace fastnn::kernels::scalar {

namespace {

namespace vm = vecmath::scalar;

constexpr float kSqrt1_2 = 0.70710678118654752440f;      // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;   // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // sqrt(2 / pi)
constexpr float kGeluTanhCoeff = 0.044715f;
// |v| from which sigmoid(2u) of GELU(tanh) is exactly 0 or 1 in float (u = -301 at -20)
constexpr float kGeluTanhSaturated = 20.0f;

// Standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2.
inline float normal_cdf(float x) { return 0.5f * (1.0f + vm::erf(x * kSqrt1_2)); }

// (1 + tanh(u)) / 2 = sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3): the sigmoid
// form avoids the cancellation of 1 + tanh(u) near -1 for negative v, so the tail
// of GELU(tanh) and its derivative keep their relative accuracy.
inline float gelu_tanh_gate(float v) {
  return vm::sigmoid(2.0f * kSqrt2OverPi * (v + kGeluTanhCoeff * v * v * v));
}

template <class F>
void map(float* y, const float* x, index_t n, F f) {
  for (index_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class F>
void map2(float* dx, const float* dy, const float* a, index_t n, F f) {
  for (index_t i = 0; i < n; ++i) dx[i] = f(dy[i], a[i]);
}

// softplus(x) = log(1 + e^z) / beta, z = beta x, where z <= threshold, else x, in the
// stable form max(z, 0) + log1p(e^-|z|) (activations_simd.h).
inline float softplus(float v, float beta, float threshold) {
  const float z = beta * v;
  if (z > threshold) return v;
  return (std::max(z, 0.0f) + std::log1p(std::exp(-std::fabs(z)))) / beta;
}

}  // namespace

void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n) {
  switch (act) {
    case Activation::identity:
      return map(y, x, n, [](float v) { return v; });
    case Activation::relu:
      return map(y, x, n, [](float v) { return v < 0.0f ? 0.0f : v; });  // NaN, -0 kept (torch)
    case Activation::leaky_relu:
      return map(y, x, n, [param](float v) { return v > 0.0f ? v : v * param; });
    case Activation::sigmoid:
      return map(y, x, n, [](float v) { return vm::sigmoid(v); });
    case Activation::tanh:
      return map(y, x, n, [](float v) { return vm::tanh(v); });
    case Activation::gelu:
      return map(y, x, n, [](float v) { return v * normal_cdf(v); });
    case Activation::gelu_tanh:
      return map(y, x, n, [](float v) { return v * gelu_tanh_gate(v); });
    case Activation::silu:
      return map(y, x, n, [](float v) { return v * vm::sigmoid(v); });
    case Activation::elu:  // +-0 and NaN pass through, as torch
      return map(y, x, n, [param](float v) { return v < 0.0f ? param * std::expm1(v) : v; });
    case Activation::softplus:
      return map(y, x, n, [param, param2](float v) { return softplus(v, param, param2); });
  }
}

void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n) {
  switch (act) {
    case Activation::identity:
      return map(dx, dy, n, [](float g) { return g; });
    case Activation::relu:
      return map2(dx, dy, x, n, [](float g, float v) { return v <= 0.0f ? 0.0f : g; });
    case Activation::leaky_relu:
      return map2(dx, dy, x, n, [param](float g, float v) { return v > 0.0f ? g : g * param; });
    case Activation::sigmoid:
      return map2(dx, dy, y, n, [](float g, float s) { return g * s * (1.0f - s); });
    case Activation::tanh:
      return map2(dx, dy, y, n, [](float g, float t) { return g * (1.0f - t * t); });
    case Activation::gelu:
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      return map2(dx, dy, x, n, [](float g, float v) {
        const float pdf = kInvSqrt2Pi * vm::exp(-0.5f * v * v);
        return g * (normal_cdf(v) + v * pdf);
      });
    case Activation::gelu_tanh:
      // f = v s, s = sigmoid(2u):  f' = s + v * 2 s (1 - s) * du/dv
      // v clamped where s (1 - s) is 0, as activations_simd.h (2 v overflowed from 1.7e38)
      return map2(dx, dy, x, n, [](float g, float v) {
        const float s = gelu_tanh_gate(v);
        const float vc = std::min(std::max(v, -kGeluTanhSaturated), kGeluTanhSaturated);
        const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluTanhCoeff * vc * vc);
        return g * (s + (2.0f * vc * s * (1.0f - s) + (v - v)) * du);  // v - v: NaN at inf
      });
    case Activation::silu:
      return map2(dx, dy, x, n, [](float g, float v) {
        const float s = vm::sigmoid(v);
        return (g * s) * (1.0f + v * (1.0f - s));
      });
    case Activation::elu:  // dy passes at NaN, as torch's scalar path
      return map2(dx, dy, x, n,
                  [param](float g, float v) { return v <= 0.0f ? g * (param * std::exp(v)) : g; });
    case Activation::softplus:
      return map2(dx, dy, x, n, [param, param2](float g, float v) {
        const float z = param * v;
        return z > param2 ? g : g * vm::sigmoid(z);
      });
  }
}

}  // namespace fastnn::kernels::scalar
