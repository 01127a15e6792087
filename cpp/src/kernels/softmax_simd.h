// softmax_simd.h: the SIMD row primitives (softmax_isa.h), written once over the
// vector type V of util/simd_vec.h and compiled per path: Vec8 (softmax_avx2.cpp),
// Vec16 on ymm pairs (softmax16_avx2.cpp) and on zmm (softmax_avx512.cpp).
//
// V::kWidth lanes at a time; a row's tail runs the same vector code on a masked
// load, with the unused lanes neutralised (-inf for max, 0 for sums). Double sums
// keep eight accumulators (V::Sum): float c of the row goes to accumulator c mod 8,
// in index order, whatever the width, and the eight are added in one fixed order
// at the end, so every path returns the same double. exp is util/vecmath_simd.h's
// (1 ulp). Include only from those files (after util/simd_vec.h).
#pragma once

#include "kernels/softmax_isa.h"
#include "util/vecmath_simd.h"

namespace fastnn::kernels::simd {

namespace {

namespace vm = vecmath::simd;

template <class V>
float row_max(const float* x, index_t n) {
  const V neg_inf = -vm::inf<V>();
  V acc = neg_inf;
  index_t c = 0;
  for (; c + V::kWidth <= n; c += V::kWidth) acc = max(acc, V::load(x + c));
  if (c < n) {
    const auto m = V::Mask::first_n(n - c);
    acc = max(acc, select(m, V::load(x + c, m), neg_inf));
  }
  return hmax(acc);
}

template <class V>
double exp_sum(float* y, const float* x, index_t n, float shift) {
  const V s = V::splat(shift);
  typename V::Sum acc;
  index_t c = 0;
  for (; c + V::kWidth <= n; c += V::kWidth) {
    const V e = vm::exp(V::load(x + c) - s);
    if (y != nullptr) e.store(y + c);
    accumulate(acc, e);
  }
  if (c < n) {
    const auto m = V::Mask::first_n(n - c);
    const V e = select(m, vm::exp(V::load(x + c, m) - s), V::zero());
    if (y != nullptr) e.store(y + c, m);
    accumulate(acc, e);
  }
  return total(acc);
}

template <class V>
void affine(float* y, index_t n, float a, float b) {
  const V va = V::splat(a), vb = V::splat(b);
  vm::map<V>(y, y, n, [va, vb](V v) { return fmadd(va, v, vb); });
}

template <class V>
double sum(const float* x, index_t n) {
  typename V::Sum acc;
  index_t c = 0;
  for (; c + V::kWidth <= n; c += V::kWidth) accumulate(acc, V::load(x + c));
  if (c < n) accumulate(acc, V::load(x + c, V::Mask::first_n(n - c)));
  return total(acc);
}

// The float products are exact in double: one rounding per accumulation.
template <class V>
double dot(const float* a, const float* b, index_t n) {
  typename V::Sum acc;
  index_t c = 0;
  for (; c + V::kWidth <= n; c += V::kWidth)
    accumulate_product(acc, V::load(a + c), V::load(b + c));
  if (c < n) {
    const auto m = V::Mask::first_n(n - c);
    accumulate_product(acc, V::load(a + c, m), V::load(b + c, m));
  }
  return total(acc);
}

template <class V>
void softmax_grad(float* dx, const float* dy, const float* y, index_t n, float d) {
  const V vd = V::splat(d);
  vm::map2<V>(dx, dy, y, n, [vd](V g, V v) { return v * (g - vd); });
}

template <class V>
void subtract_twice(float* y, const float* x, index_t n, float a, float b) {
  const V va = V::splat(a), vb = V::splat(b);
  vm::map<V>(y, x, n, [va, vb](V v) { return (v - va) - vb; });
}

template <class V>
void log_softmax_grad(float* dx, const float* dy, const float* y, index_t n, float s) {
  const V vs = V::splat(s);
  vm::map2<V>(dx, dy, y, n, [vs](V g, V v) { return fnmadd(vm::exp(v), vs, g); });
}

template <class V>
constexpr RowKernels row_set() {
  return {&row_max<V>, &exp_sum<V>,        &affine<V>,          &sum<V>,
          &dot<V>,     &softmax_grad<V>,   &subtract_twice<V>,  &log_softmax_grad<V>};
}

}  // namespace

}  // namespace fastnn::kernels::simd
