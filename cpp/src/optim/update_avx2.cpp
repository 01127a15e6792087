// update_avx2.cpp: the optimizer update loops, 8 floats at a time with AVX2.
//
// Compiled with -mavx2 -mfma (CMakeLists.txt), but FMA contraction is switched off
// here: torch rounds the product and the sum separately, and so must every lane.
// _mm256_sqrt_ps and _mm256_div_ps are correctly rounded, like sqrtss and divss,
// so this file is bit-identical to update_scalar.cpp.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <immintrin.h>

#include "optim/update.h"

namespace fastnn::optim_detail {

namespace {

struct Vec8 {
  static constexpr index_t kWidth = 8;
  __m256 v;
  static Vec8 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec8 splat(float x) { return {_mm256_set1_ps(x)}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
};
inline Vec8 operator+(Vec8 a, Vec8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline Vec8 operator-(Vec8 a, Vec8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline Vec8 operator*(Vec8 a, Vec8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline Vec8 operator/(Vec8 a, Vec8 b) { return {_mm256_div_ps(a.v, b.v)}; }
inline Vec8 operator-(Vec8 a) { return {_mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f))}; }
inline Vec8 sqrt(Vec8 a) { return {_mm256_sqrt_ps(a.v)}; }
// (v > vmax || v != v) ? v : vmax, lane by lane (see Scalar's nan_max).
inline Vec8 nan_max(Vec8 v, Vec8 vmax) {
  const __m256 take_v = _mm256_or_ps(_mm256_cmp_ps(v.v, vmax.v, _CMP_GT_OQ),
                                     _mm256_cmp_ps(v.v, v.v, _CMP_UNORD_Q));
  return {_mm256_blendv_ps(vmax.v, v.v, take_v)};
}

}  // namespace

void update_range_avx2(OptimKind kind, const StepScalars& c, const OptimTensor& t, index_t begin,
                       index_t end) {
  update_range<Vec8>(kind, c, t, begin, end);
}

}  // namespace fastnn::optim_detail
