// gemm.h: single-precision general matrix multiply.
//
//   C[M, N] = alpha * op(A)[M, K] @ op(B)[K, N] + beta * C[M, N]
//
// op(X) is X or X^T. All matrices are row-major with leading dimensions
// lda, ldb, ldc (elements between consecutive rows of the stored matrix):
//   A is stored (M, K) with lda >= K, or (K, M) with lda >= M when trans_a.
//   B is stored (K, N) with ldb >= N, or (N, K) with ldb >= K when trans_b.
// beta == 0 means C is write-only (NaN/garbage in C is ignored, as in BLAS).
// K == 0 gives C = beta * C. alpha == 0 still reads A and B (NaN/Inf propagate,
// as in a @ b * 0). Each C element is summed over K in a fixed order independent
// of the thread count, so results are bit-identical at 1 and N threads (the
// order, hence the last bits, may differ between SIMD paths and sizes).
#pragma once

#include "fastnn/common.h"

namespace fastnn {

void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
          const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C,
          index_t ldc);

// The reference triple loop: the oracle for tests, and the tiny-size path.
void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
                    const float* A, index_t lda, const float* B, index_t ldb, float beta,
                    float* C, index_t ldc);

// Name of the SIMD path gemm() uses ("avx512", "avx2" or "scalar"), chosen once
// on first use: the best the CPU and OS support (cpuid + xgetbv), capped by the
// environment variable FASTNN_ARCH=scalar|avx2|avx512. Asking for more than the
// CPU (or this build) offers falls back to the best path below it; an unknown
// value is ignored.
const char* gemm_arch();

// For tests: runs one named path whatever the size (no tiny-size shortcut):
// "reference" (gemm_reference) or a packed kernel ("scalar", "avx2"). Returns
// false, computing nothing, if the name is unknown or this CPU cannot run it.
bool gemm_with_arch(const char* arch, bool trans_a, bool trans_b, index_t M, index_t N,
                    index_t K, float alpha, const float* A, index_t lda, const float* B,
                    index_t ldb, float beta, float* C, index_t ldc);

// Whether gemm_with_arch(arch, ...) can run on this CPU.
bool gemm_arch_supported(const char* arch);

}  // namespace fastnn
