// gemm.h: single-precision general matrix multiply.
//
//   C[M, N] = alpha * op(A)[M, K] @ op(B)[K, N] + beta * C[M, N]
//
// op(X) is X or X^T. All matrices are row-major with leading dimensions
// lda, ldb, ldc (elements between consecutive rows of the stored matrix):
//   A is stored (M, K) with lda >= K, or (K, M) with lda >= M when trans_a.
//   B is stored (K, N) with ldb >= N, or (N, K) with ldb >= K when trans_b.
// beta == 0 means C is write-only (NaN/garbage in C is ignored, as in BLAS).
// Each C element is summed over K in a fixed order independent of the thread
// count, so results are bit-identical at 1 and N threads.
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

// Name of the SIMD path chosen at import ("avx512", "avx2" or "scalar").
const char* gemm_arch();

}  // namespace fastnn
