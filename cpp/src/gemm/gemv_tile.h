// gemv_tile.h: the matrix-vector products of a GEMM with one to four columns, written
// once over the 16-lane vector (util/simd_vec.h: Vec16 on zmm, or on ymm pairs) and
// compiled in ukernel_avx512.cpp and ukernel16_avx2.cpp. Include only from those files.
//
//   y[m * incy + c] = alpha * dot(A[m, 0:K], x_c) (+ beta * y[m * incy + c])
//   for m < M, c < N <= 4, x_c at x + c * ldx
//
// A row-major (row m at A + m * lda, contiguous along k), each x_c contiguous. The
// blocked GEMM spends its vector lanes along the columns of C: with one column, 15 of
// 16 lanes (and 47 of every 48 packed B floats) were padding, 2.5-6x NumPy's time for
// x @ w.T with w of shape (1, K) (a Linear(K, 1) layer: a perceptron, a regression or
// binary-classification head); two to four columns (Linear(K, 2), a three-class head)
// wasted 12 to 14 of 16. Here the lanes run along k instead.
//
// Fixed arithmetic, whatever M, the thread split and the vector form: lane l of element
// (m, c) accumulates A[m, k] * x_c[k] for k = l, l + 16, ... in ascending order (FMA;
// the tail lanes past K read zeros), then the 16 lanes fold in one tree: l + (l + 8),
// then + 4, + 2, + 1; the write-back rounds as the GEMM's, fl(fl(alpha * s) +
// fl(beta * y)). Rows are computed in groups (sharing the loads of the x_c) or one at a
// time, the same operations either way; so a row's result depends only on its own
// values (and N): the same for any batch it is in, any thread count, zmm or ymm pairs.
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

// NR rows from a (row r at a + r * lda) times NC vectors (vector c at x + c * ldx):
// y[r * incy + c].
template <int NR, int NC>
inline void rows(index_t K, const float* a, index_t lda, const float* x, index_t ldx,
                 float alpha, float beta, float* y, index_t incy) {
  constexpr index_t W = 16;
  const index_t full = K / W * W;
  Vec16 s[NR][NC];
  for (int r = 0; r < NR; ++r)
    for (int c = 0; c < NC; ++c) s[r][c] = Vec16::zero();
  for (index_t k = 0; k < full; k += W) {
    Vec16 xv[NC];
    for (int c = 0; c < NC; ++c) xv[c] = Vec16::load(x + c * ldx + k);
    for (int r = 0; r < NR; ++r) {
      const Vec16 av = Vec16::load(a + r * lda + k);
      for (int c = 0; c < NC; ++c) s[r][c] = fmadd(av, xv[c], s[r][c]);
    }
  }
  if (full < K) {
    const Mask16 tail = Mask16::first_n(K - full);
    Vec16 xv[NC];
    for (int c = 0; c < NC; ++c) xv[c] = Vec16::load(x + c * ldx + full, tail);
    for (int r = 0; r < NR; ++r) {
      const Vec16 av = Vec16::load(a + r * lda + full, tail);
      for (int c = 0; c < NC; ++c) s[r][c] = fmadd(av, xv[c], s[r][c]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int c = 0; c < NC; ++c) finish_row(s[r][c], alpha, beta, y + r * incy + c);
}

// Rows in groups of G (at most 8 accumulators: 16 ymm on the ymm-pair form), then one
// at a time: the same operations per row either way.
template <int NC, int G>
inline void gemv_columns(index_t M, index_t K, const float* A, index_t lda, const float* x,
                         index_t ldx, float alpha, float beta, float* y, index_t incy) {
  index_t m = 0;
  for (; m + G <= M; m += G)
    rows<G, NC>(K, A + m * lda, lda, x, ldx, alpha, beta, y + m * incy, incy);
  for (; m < M; ++m) rows<1, NC>(K, A + m * lda, lda, x, ldx, alpha, beta, y + m * incy, incy);
}

}  // namespace

inline void gemv(index_t M, index_t N, index_t K, const float* A, index_t lda, const float* x,
                 index_t ldx, float alpha, float beta, float* y, index_t incy) {
  switch (N) {
    case 1: return gemv_columns<1, 4>(M, K, A, lda, x, ldx, alpha, beta, y, incy);
    case 2: return gemv_columns<2, 4>(M, K, A, lda, x, ldx, alpha, beta, y, incy);
    case 3: return gemv_columns<3, 2>(M, K, A, lda, x, ldx, alpha, beta, y, incy);
    default: return gemv_columns<4, 2>(M, K, A, lda, x, ldx, alpha, beta, y, incy);
  }
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
  void fastnn::gemm_detail::ns::gemv(index_t M, index_t N, index_t K, const float* A,       \
                                     index_t lda, const float* x, index_t ldx, float alpha, \
                                     float beta, float* y, index_t incy) {                 \
    gemv_here::gemv(M, N, K, A, lda, x, ldx, alpha, beta, y, incy);                        \
  }
