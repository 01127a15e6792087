// ukernel.h: the MR x NR register-blocked micro-kernels, one per instruction set.
//
// A micro-kernel multiplies an MR x kc micro-panel of A by a kc x NR micro-panel
// of B, each read through strides, and writes the full MR x NR tile of C
// (row-major, leading dimension ldc):
//
//   AB[i, j] = sum_{k = 0 .. kc-1} a[i * rsa + k * csa] * b[k * rsb + j]   (k ascending)
//   C[i, j]  = alpha * AB[i, j] + beta * C[i, j]   (beta == 0: C is not read)
//
// Packed panels (pack.h) are the case rsa = 1, csa = MR, rsb = NR; the blocked
// GEMM also passes small operands in place (a row-major A: rsa = lda, csa = 1; a
// row-major B: rsb = ldb) when packing them would cost more than it saves. The
// B row must hold NR contiguous floats and all MR rows of A must be readable.
//
// The products are rounded as fl(fl(alpha * AB) + fl(beta * C)) (no fused
// multiply-add in the write-back) so the macro-kernel's edge-tile write-back,
// which does the same in portable code, rounds identically.
//
// Each kernel lives in its own translation unit compiled with its own ISA flags
// (ukernel_<isa>.cpp) and in its own namespace; only this header is shared, and
// it must stay free of inline functions so no AVX code leaks into baseline code.
#pragma once

#include "fastnn/common.h"

namespace fastnn::gemm_detail {

using UKernel = void (*)(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,
                         index_t rsb, float alpha, float beta, float* c, index_t ldc);

// An edge tile: the same product over the full (zero-padded) panels, written back
// only for rows i < mr and columns j < nr (mr <= MR, nr <= NR), with masked
// loads and stores. b_exact: B's rows hold only their nr floats (a row-major B read in
// place), so its last vector is read through a mask too. Kernels without one (nullptr
// in the arch table) go through the macro-kernel's on-stack tile instead.
using UKernelEdge = void (*)(index_t mr, index_t nr, index_t kc, const float* a, index_t rsa,
                             index_t csa, const float* b, index_t rsb, float alpha, float beta,
                             float* c, index_t ldc, bool b_exact);

// Portable C++ written so the compiler vectorizes it at baseline flags (SSE2 on x86-64).
namespace scalar {
constexpr index_t kMR = 4;
constexpr index_t kNR = 8;
void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b, index_t rsb,
             float alpha, float beta, float* c, index_t ldc);
}  // namespace scalar

// The SIMD kernels: one source (ukernel_tile.h) over a vector type. avx2: Vec8,
// 6 x 16 tile = 12 ymm accumulators. The 16-lane kernels, each compiled twice with
// the same tile: natively (zmm, AVX-512F: avx512, avx512x64) and as ymm pairs (AVX2 +
// FMA: avx512emu, avx512emux64) so the 16-lane paths also run on CPUs without
// AVX-512. 8 x 48 is the avx512 tile; 6 x 64, the tall-product tile on Intel CPUs
// (gemm/arch.h).
#define FASTNN_DECLARE_TILE_KERNEL(ns, mr, nr)                                                  \
  namespace ns {                                                                              \
  constexpr index_t kMR = mr;                                                                 \
  constexpr index_t kNR = nr;                                                                 \
  void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,          \
               index_t rsb, float alpha, float beta, float* c, index_t ldc);                  \
  void ukernel_edge(index_t mr_, index_t nr_, index_t kc, const float* a, index_t rsa,       \
                    index_t csa, const float* b, index_t rsb, float alpha, float beta,      \
                    float* c, index_t ldc, bool b_exact);                                     \
  }
// y[m * incy + c] = alpha * A[m, :] . x_c (+ beta * y[m * incy + c]), x_c at x + c * ldx:
// a GEMM with N <= 4 columns (gemv_tile.h), 16 lanes along k; natively (avx512) and on
// ymm pairs (avx512emu), the same bits.
using Gemv = void (*)(index_t M, index_t N, index_t K, const float* A, index_t lda,
                      const float* x, index_t ldx, float alpha, float beta, float* y,
                      index_t incy);

FASTNN_DECLARE_TILE_KERNEL(avx2, 6, 16)
FASTNN_DECLARE_TILE_KERNEL(avx512, 8, 48)
FASTNN_DECLARE_TILE_KERNEL(avx512emu, 8, 48)
FASTNN_DECLARE_TILE_KERNEL(avx512x64, 6, 64)
FASTNN_DECLARE_TILE_KERNEL(avx512emux64, 6, 64)
#undef FASTNN_DECLARE_TILE_KERNEL

// C[m, n0:n1] = alpha * A[m, :] B[:, n0:n1] + beta * C[m, n0:n1] for M <= kStreamRows rows
// of A (A[m, k] at A[m * rsa + k * csa]) and a row-major B (ldb), K in blocks of kc:
// the blocked path's bits with B streamed along its rows (stream_rows_tile.h).
constexpr index_t kStreamRows = 4;
using StreamRows = void (*)(index_t M, index_t n0, index_t n1, index_t K, index_t kc,
                            float alpha, const float* A, index_t rsa, index_t csa,
                            const float* B, index_t ldb, float beta, float* C, index_t ldc);
#define FASTNN_DECLARE_STREAM_ROWS(ns)                                                       \
  namespace ns {                                                                            \
  void stream_rows(index_t M, index_t n0, index_t n1, index_t K, index_t kc, float alpha,   \
                   const float* A, index_t rsa, index_t csa, const float* B, index_t ldb,   \
                   float beta, float* C, index_t ldc);                                       \
  }
FASTNN_DECLARE_STREAM_ROWS(avx2)
FASTNN_DECLARE_STREAM_ROWS(avx512)
FASTNN_DECLARE_STREAM_ROWS(avx512emu)
#undef FASTNN_DECLARE_STREAM_ROWS
namespace avx512 {
void gemv(index_t M, index_t N, index_t K, const float* A, index_t lda, const float* x,
          index_t ldx, float alpha, float beta, float* y, index_t incy);
}  // namespace avx512
namespace avx512emu {
void gemv(index_t M, index_t N, index_t K, const float* A, index_t lda, const float* x,
          index_t ldx, float alpha, float beta, float* y, index_t incy);
}  // namespace avx512emu

}  // namespace fastnn::gemm_detail
