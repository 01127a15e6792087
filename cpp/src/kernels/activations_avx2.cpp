// activations_avx2.cpp: AVX2 + FMA activation bodies (activations_isa.h).
//
// The formulas of activations_scalar.cpp on 8 lanes, with the maths of
// util/vecmath_avx2.h (a few ulp) instead of libm. relu keeps PyTorch's NaN
// behaviour: relu(NaN) = NaN, its gradient passes dy. Compiled with -mavx2 -mfma;
// intrinsics and file-local code only (see util/vecmath_avx2.h).
#include "kernels/activations_isa.h"
#include "util/vecmath_avx2.h"

namespace fastnn::kernels::avx2 {

namespace {

namespace vm = vecmath::avx2;

inline __m256 splat(float v) { return _mm256_set1_ps(v); }

inline __m256 le_zero(__m256 v) { return _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LE_OQ); }
inline __m256 gt_zero(__m256 v) { return _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ); }

// Phi(v) = (1 + erf(v / sqrt 2)) / 2
inline __m256 normal_cdf(__m256 v) {
  const __m256 e = vm::erf(_mm256_mul_ps(v, splat(0.70710678118654752440f)));
  return _mm256_mul_ps(splat(0.5f), _mm256_add_ps(splat(1.0f), e));
}

// sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3)
inline __m256 gelu_tanh_gate(__m256 v) {
  const __m256 c = _mm256_mul_ps(splat(0.044715f), _mm256_mul_ps(v, v));
  const __m256 inner = _mm256_fmadd_ps(c, v, v);
  return vm::sigmoid(_mm256_mul_ps(splat(2.0f * 0.79788456080286535588f), inner));
}

}  // namespace

void activation_forward(Activation act, float param, float* y, const float* x, index_t n) {
  const __m256 slope = splat(param);
  switch (act) {
    case Activation::identity:
      return vm::map(y, x, n, [](__m256 v) { return v; });
    case Activation::relu:
      return vm::map(y, x, n, [](__m256 v) { return _mm256_andnot_ps(le_zero(v), v); });
    case Activation::leaky_relu:
      return vm::map(y, x, n, [slope](__m256 v) {
        return _mm256_blendv_ps(_mm256_mul_ps(v, slope), v, gt_zero(v));
      });
    case Activation::sigmoid:
      return vm::map(y, x, n, [](__m256 v) { return vm::sigmoid(v); });
    case Activation::tanh:
      return vm::map(y, x, n, [](__m256 v) { return vm::tanh(v); });
    case Activation::gelu:
      return vm::map(y, x, n, [](__m256 v) { return _mm256_mul_ps(v, normal_cdf(v)); });
    case Activation::gelu_tanh:
      return vm::map(y, x, n, [](__m256 v) { return _mm256_mul_ps(v, gelu_tanh_gate(v)); });
  }
}

void activation_backward(Activation act, float param, float* dx, const float* dy, const float* x,
                         const float* y, index_t n) {
  const __m256 slope = splat(param);
  const __m256 one = splat(1.0f);
  switch (act) {
    case Activation::identity:
      return vm::map(dx, dy, n, [](__m256 g) { return g; });
    case Activation::relu:
      return vm::map2(dx, dy, x, n, [](__m256 g, __m256 v) { return _mm256_andnot_ps(le_zero(v), g); });
    case Activation::leaky_relu:
      return vm::map2(dx, dy, x, n, [slope](__m256 g, __m256 v) {
        return _mm256_blendv_ps(_mm256_mul_ps(g, slope), g, gt_zero(v));
      });
    case Activation::sigmoid:
      return vm::map2(dx, dy, y, n, [one](__m256 g, __m256 s) {
        return _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_sub_ps(one, s));
      });
    case Activation::tanh:
      return vm::map2(dx, dy, y, n, [one](__m256 g, __m256 t) {
        return _mm256_mul_ps(g, _mm256_fnmadd_ps(t, t, one));
      });
    case Activation::gelu:
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      return vm::map2(dx, dy, x, n, [](__m256 g, __m256 v) {
        const __m256 h = _mm256_mul_ps(splat(-0.5f), _mm256_mul_ps(v, v));
        const __m256 pdf = _mm256_mul_ps(splat(0.39894228040143267794f), vm::exp(h));
        return _mm256_mul_ps(g, _mm256_fmadd_ps(v, pdf, normal_cdf(v)));
      });
    case Activation::gelu_tanh:
      // f = v s, s = sigmoid(2u):  f' = s + v * 2 s (1 - s) * du/dv
      return vm::map2(dx, dy, x, n, [one](__m256 g, __m256 v) {
        const __m256 s = gelu_tanh_gate(v);
        const __m256 du = _mm256_mul_ps(
            splat(0.79788456080286535588f),
            _mm256_fmadd_ps(splat(3.0f * 0.044715f), _mm256_mul_ps(v, v), one));
        const __m256 ds = _mm256_mul_ps(_mm256_mul_ps(splat(2.0f), v),
                                        _mm256_mul_ps(s, _mm256_sub_ps(one, s)));
        return _mm256_mul_ps(g, _mm256_fmadd_ps(ds, du, s));
      });
  }
}

}  // namespace fastnn::kernels::avx2
