// gemv_tile.h: the matrix-vector product of a GEMM with one column, written once over
// the 16-lane vector (util/simd_vec.h: Vec16 on zmm, or on ymm pairs) and compiled in
// ukernel_avx512.cpp and ukernel16_avx2.cpp. Include only from those files.
//
//   y[m * incy] = alpha * dot(A[m, 0:K], x) (+ beta * y[m * incy])   for m < M
//
// A row-major (row m at A + m * lda, contiguous along k), x contiguous. The blocked
// GEMM spends its vector lanes along the columns of C: with one column, 15 of 16 lanes
// (and 47 of every 48 packed B floats) were padding, 2.5-6x NumPy's time for
// x @ w.T with w of shape (1, K) (a Linear(K, 1) layer: a perceptron, a regression or
// binary-classification head). Here the lanes run along k instead.
//
// Fixed arithmetic, whatever M, the thread split and the vector form: lane l of row m
// accumulates A[m, k] * x[k] for k = l, l + 16, ... in ascending order (FMA; the tail
// lanes past K read zeros), then the 16 lanes fold in one tree: l + (l + 8), then + 4,
// + 2, + 1; the write-back rounds as the GEMM's, fl(fl(alpha * s) + fl(beta * y)).
// Rows are computed 4 at a time (sharing the loads of x) or one at a time, the same
// operations either way; so a row's result depends only on its own values: the same
// for any batch it is in, any thread count, zmm or ymm pairs.
#pragma once

#include "gemm/ukernel.h"
#include "util/simd_vec.h"

#if FASTNN_VEC16_NATIVE
namespace fastnn::gemm_detail::gemv_zmm {
using namespace fastnn::simd_zmm;
#else
namespace fastnn::gemm_detail::gemv_ymm2 {
using namespace fastnn::simd_ymm2;
#endif
namespace {

// The 16 lanes of s folded in the fixed tree of the file comment, then written back.
inline void finish_row(Vec16 s, float alpha, float beta, float* y) {
  alignas(64) float l[16];
  s.store(l);
  for (int i = 0; i < 8; ++i) l[i] += l[i + 8];
  for (int i = 0; i < 4; ++i) l[i] += l[i + 4];
  for (int i = 0; i < 2; ++i) l[i] += l[i + 2];
  const float dot = l[0] + l[1];
  const float v = alpha * dot;
  *y = beta == 0.0f ? v : v + beta * *y;
}

// NR rows from a (row r at a + r * lda).
template <int NR>
inline void rows(index_t K, const float* a, index_t lda, const float* x, float alpha,
                 float beta, float* y, index_t incy) {
  constexpr index_t W = 16;
  const index_t full = K / W * W;
  Vec16 s[NR];
  for (int r = 0; r < NR; ++r) s[r] = Vec16::zero();
  for (index_t k = 0; k < full; k += W) {
    const Vec16 xv = Vec16::load(x + k);
    for (int r = 0; r < NR; ++r) s[r] = fmadd(Vec16::load(a + r * lda + k), xv, s[r]);
  }
  if (full < K) {
    const Mask16 tail = Mask16::first_n(K - full);
    const Vec16 xv = Vec16::load(x + full, tail);
    for (int r = 0; r < NR; ++r) s[r] = fmadd(Vec16::load(a + r * lda + full, tail), xv, s[r]);
  }
  for (int r = 0; r < NR; ++r) finish_row(s[r], alpha, beta, y + r * incy);
}

}  // namespace

inline void gemv(index_t M, index_t K, const float* A, index_t lda, const float* x, float alpha,
                 float beta, float* y, index_t incy) {
  index_t m = 0;
  for (; m + 4 <= M; m += 4) rows<4>(K, A + m * lda, lda, x, alpha, beta, y + m * incy, incy);
  for (; m < M; ++m) rows<1>(K, A + m * lda, lda, x, alpha, beta, y + m * incy, incy);
}

}  // namespace fastnn::gemm_detail::gemv_zmm / gemv_ymm2

// The gemv namespace of this compilation (gemv_zmm or gemv_ymm2), for the macro below.
namespace fastnn::gemm_detail {
#if FASTNN_VEC16_NATIVE
namespace gemv_here = gemv_zmm;
#else
namespace gemv_here = gemv_ymm2;
#endif
}  // namespace fastnn::gemm_detail

// Defines ns::gemv (ukernel.h) as this compilation's gemv.
#define FASTNN_DEFINE_GEMV(ns)                                                              \
  void fastnn::gemm_detail::ns::gemv(index_t M, index_t K, const float* A, index_t lda,     \
                                     const float* x, float alpha, float beta, float* y,    \
                                     index_t incy) {                                       \
    gemv_here::gemv(M, K, A, lda, x, alpha, beta, y, incy);                                \
  }
