// stream_rows_tile.h: a few rows of A times a row-major B, B streamed row after row;
// written once over a vector type V (util/simd_vec.h) and compiled in
// ukernel_avx512.cpp (Vec16 on zmm), ukernel16_avx2.cpp (Vec16 on ymm pairs) and
// ukernel_avx2.cpp (Vec8). Include only from those files.
//
//   C[m, n0:n1] = alpha * A[m, :] B[:, n0:n1] + beta * C[m, n0:n1],  m < M <= kStreamRows
//   A[m, k] at A[m * rsa + k * csa], B row k at B + k * ldb (contiguous along n)
//
// x @ W on one to four samples (a Linear layer's input gradient, or any product with a
// row-major B, at batch 1-4). The blocked path's tiles read B 48 columns at a time: one
// row of C took three cache lines from each row of B per k step on three FMA chains, and
// a B wider than a page put every row on a page of its own, out of the prefetchers'
// reach (1 x 1024 @ 1024 x 1024: 140 us, NumPy 54). Here the accumulators live in a
// 16 KiB buffer on the stack (kStreamAcc floats: M rows of a column chunk) and B is read
// four rows at a time along its rows: for each vector of columns, four B loads, then per
// row of A one accumulator load, four FMAs (k ascending) and a store.
//
// The bits are the blocked path's (ukernel_tile.h): each element accumulates A[m, k] *
// B[k, n] by one FMA per k, k ascending, from zero within each K block (the caller's kc),
// and is written back after each block as fl(fl(alpha * acc) + fl(beta_k * C)), beta_k
// the caller's beta for the first block and 1 after; a row's result does not depend on
// M, the column split over threads or the vector form.
#pragma once

#include "gemm/ukernel.h"
#include "util/simd_vec.h"

#if FASTNN_VEC16_NATIVE
namespace fastnn::gemm_detail::stream_zmm {
using namespace fastnn::simd_zmm;
#else
namespace fastnn::gemm_detail::stream_ymm {
using namespace fastnn::simd_ymm2;
#endif
namespace {

// Accumulator floats on the stack: 16 KiB (half of a 32 KiB L1d) and a pad of 128 bytes
// per row, so that rows of the buffer never lie a multiple of 4 KiB apart (a load
// whose address matches an earlier store's low 12 bits waits for it).
constexpr index_t kStreamAcc = 4096;
constexpr index_t kStreamPad = 32;

// U k steps (k .. k + U - 1) over columns [0, cw) of the chunk at column c0 of B.
template <class V, int MR, int U>
inline void k_steps(index_t cw, const float* a, index_t rsa, index_t csa, const float* b,
                    index_t ldb, float* acc, index_t acc_ld) {
  constexpr index_t W = V::kWidth;
  V av[MR][U];
  for (int m = 0; m < MR; ++m)
    for (int u = 0; u < U; ++u) av[m][u] = V::bcast(a + m * rsa + u * csa);
  const index_t full = cw / W * W;
  V s[MR];
  for (index_t j = 0; j < full; j += W) {
    for (int m = 0; m < MR; ++m) s[m] = V::load(acc + m * acc_ld + j);
    for (int u = 0; u < U; ++u) {  // each B vector loaded once, used by every row
      const V bu = V::load(b + u * ldb + j);
      for (int m = 0; m < MR; ++m) s[m] = fmadd(av[m][u], bu, s[m]);
    }
    for (int m = 0; m < MR; ++m) s[m].store(acc + m * acc_ld + j);
  }
  if (full < cw) {  // the last columns: B through a mask (its row ends there), zeros past it
    const typename V::Mask tail = V::Mask::first_n(cw - full);
    for (int m = 0; m < MR; ++m) s[m] = V::load(acc + m * acc_ld + full);
    for (int u = 0; u < U; ++u) {
      const V bu = V::load(b + u * ldb + full, tail);
      for (int m = 0; m < MR; ++m) s[m] = fmadd(av[m][u], bu, s[m]);
    }
    for (int m = 0; m < MR; ++m) s[m].store(acc + m * acc_ld + full);
  }
}

template <class V, int MR>
void stream_rows(index_t n0, index_t n1, index_t K, index_t kc, float alpha, const float* A,
                 index_t rsa, index_t csa, const float* B, index_t ldb, float beta, float* C,
                 index_t ldc) {
  constexpr index_t W = V::kWidth;
  constexpr index_t CW = kStreamAcc / MR / W * W;  // columns per chunk
  constexpr index_t LD = CW + kStreamPad;          // floats per accumulator row
  alignas(64) float acc[MR * LD];
  for (index_t c0 = n0; c0 < n1; c0 += CW) {
    const index_t cw = n1 - c0 < CW ? n1 - c0 : CW;
    const index_t vecs = (cw + W - 1) / W;
    const typename V::Mask tail = V::Mask::first_n(cw - (vecs - 1) * W);
    for (index_t pc = 0; pc < K; pc += kc) {
      const index_t end = pc + kc < K ? pc + kc : K;
      for (int m = 0; m < MR; ++m)
        for (index_t v = 0; v < vecs; ++v) V::zero().store(acc + m * LD + v * W);
      index_t k = pc;
      for (; k + 4 <= end; k += 4)
        k_steps<V, MR, 4>(cw, A + k * csa, rsa, csa, B + k * ldb + c0, ldb, acc, LD);
      for (; k < end; ++k)
        k_steps<V, MR, 1>(cw, A + k * csa, rsa, csa, B + k * ldb + c0, ldb, acc, LD);
      const float beta_k = pc == 0 ? beta : 1.0f;  // write-back as ukernel_tile.h's
      const V va = V::splat(alpha), vb = V::splat(beta_k);
      for (int m = 0; m < MR; ++m) {
        float* c = C + m * ldc + c0;
        for (index_t v = 0; v < vecs; ++v) {
          V r = va * V::load(acc + m * LD + v * W);
          if (v + 1 < vecs) {
            if (beta_k != 0.0f) r = r + vb * V::load(c + v * W);
            r.store(c + v * W);
          } else {
            if (beta_k != 0.0f) r = r + vb * V::load(c + v * W, tail);
            r.store(c + v * W, tail);
          }
        }
      }
    }
  }
}

}  // namespace

// M <= kStreamRows rows (ukernel.h).
template <class V>
inline void stream_rows_nn(index_t M, index_t n0, index_t n1, index_t K, index_t kc,
                           float alpha, const float* A, index_t rsa, index_t csa,
                           const float* B, index_t ldb, float beta, float* C, index_t ldc) {
  switch (M) {
    case 1: return stream_rows<V, 1>(n0, n1, K, kc, alpha, A, rsa, csa, B, ldb, beta, C, ldc);
    case 2: return stream_rows<V, 2>(n0, n1, K, kc, alpha, A, rsa, csa, B, ldb, beta, C, ldc);
    case 3: return stream_rows<V, 3>(n0, n1, K, kc, alpha, A, rsa, csa, B, ldb, beta, C, ldc);
    default: return stream_rows<V, 4>(n0, n1, K, kc, alpha, A, rsa, csa, B, ldb, beta, C, ldc);
  }
}

}  // namespace fastnn::gemm_detail::stream_zmm / stream_ymm

// The namespace of this compilation (stream_zmm or stream_ymm), for the macro below.
namespace fastnn::gemm_detail {
#if FASTNN_VEC16_NATIVE
namespace stream_here = stream_zmm;
#else
namespace stream_here = stream_ymm;
#endif
}  // namespace fastnn::gemm_detail

// Defines ns::stream_rows (ukernel.h) as stream_rows_nn over vectors V.
#define FASTNN_DEFINE_STREAM_ROWS(ns, V)                                                      \
  void fastnn::gemm_detail::ns::stream_rows(index_t M, index_t n0, index_t n1, index_t K,    \
                                            index_t kc, float alpha, const float* A,         \
                                            index_t rsa, index_t csa, const float* B,        \
                                            index_t ldb, float beta, float* C, index_t ldc) { \
    stream_here::stream_rows_nn<V>(M, n0, n1, K, kc, alpha, A, rsa, csa, B, ldb, beta, C,     \
                                   ldc);                                                      \
  }
