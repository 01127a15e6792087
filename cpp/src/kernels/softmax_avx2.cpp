// softmax_avx2.cpp: AVX2 + FMA row primitives (softmax_isa.h).
//
// 8 lanes at a time; a row's tail (n % 8) runs the same vector code on a masked
// load, with the unused lanes neutralised (-inf for max, 0 for sums). Double sums
// keep two 4-lane accumulators (low and high halves of each 8-float vector), added
// in a fixed order at the end. exp is util/vecmath_avx2.h's (1 ulp).
#include "kernels/softmax_isa.h"
#include "util/vecmath_avx2.h"

namespace fastnn::kernels::avx2 {

namespace {

namespace vm = vecmath::avx2;

// Accumulates the 8 floats of v into (lo, hi) in double.
inline void add_pd(__m256d& lo, __m256d& hi, __m256 v) {
  lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

// ((l0 + h0) + (l2 + h2)) + ((l1 + h1) + (l3 + h3)): a fixed order.
inline double hsum(__m256d lo, __m256d hi) {
  const __m256d s = _mm256_add_pd(lo, hi);
  const __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

// Calls f(v, mask) for each 8-float slice v of x; mask is all-ones except in the
// tail, where the masked-off lanes of v are 0.
template <class F>
inline void for_slices(const float* x, index_t n, F f) {
  const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  index_t c = 0;
  for (; c + 8 <= n; c += 8) f(_mm256_loadu_ps(x + c), all);
  if (c < n) {
    const __m256i m = vm::tail_mask(n - c);
    f(_mm256_maskload_ps(x + c, m), _mm256_castsi256_ps(m));
  }
}

float row_max(const float* x, index_t n) {
  const __m256 neg_inf = _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0xff800000u)));
  __m256 acc = neg_inf;
  for_slices(x, n, [&](__m256 v, __m256 m) {
    acc = _mm256_max_ps(acc, _mm256_blendv_ps(neg_inf, v, m));
  });
  __m128 r = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  r = _mm_max_ps(r, _mm_movehl_ps(r, r));
  r = _mm_max_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

double exp_sum(float* y, const float* x, index_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  index_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256 e = vm::exp(_mm256_sub_ps(_mm256_loadu_ps(x + c), s));
    if (y != nullptr) _mm256_storeu_ps(y + c, e);
    add_pd(lo, hi, e);
  }
  if (c < n) {
    const __m256i m = vm::tail_mask(n - c);
    const __m256 e = _mm256_and_ps(vm::exp(_mm256_sub_ps(_mm256_maskload_ps(x + c, m), s)),
                                   _mm256_castsi256_ps(m));
    if (y != nullptr) _mm256_maskstore_ps(y + c, m, e);
    add_pd(lo, hi, e);
  }
  return hsum(lo, hi);
}

void affine(float* y, index_t n, float a, float b) {
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  vm::map(y, y, n, [&](__m256 v) { return _mm256_fmadd_ps(va, v, vb); });
}

double sum(const float* x, index_t n) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  for_slices(x, n, [&](__m256 v, __m256) { add_pd(lo, hi, v); });
  return hsum(lo, hi);
}

// lo/hi += a * b in double (the float products are exact in double).
inline void fma_pd(__m256d& lo, __m256d& hi, __m256 a, __m256 b) {
  lo = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)),
                       _mm256_cvtps_pd(_mm256_castps256_ps128(b)), lo);
  hi = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)),
                       _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)), hi);
}

double dot(const float* a, const float* b, index_t n) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  index_t c = 0;
  for (; c + 8 <= n; c += 8) fma_pd(lo, hi, _mm256_loadu_ps(a + c), _mm256_loadu_ps(b + c));
  if (c < n) {
    const __m256i m = vm::tail_mask(n - c);
    fma_pd(lo, hi, _mm256_maskload_ps(a + c, m), _mm256_maskload_ps(b + c, m));
  }
  return hsum(lo, hi);
}

void softmax_grad(float* dx, const float* dy, const float* y, index_t n, float d) {
  const __m256 vd = _mm256_set1_ps(d);
  vm::map2(dx, dy, y, n,
           [&](__m256 g, __m256 v) { return _mm256_mul_ps(v, _mm256_sub_ps(g, vd)); });
}

}  // namespace

const RowKernels row_kernels = {&row_max, &exp_sum, &affine, &sum, &dot, &softmax_grad};

}  // namespace fastnn::kernels::avx2
