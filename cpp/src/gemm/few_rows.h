// few_rows.h: products of a few rows of A with a row-major W^T (few_rows_avx512.cpp,
// few_rows_avx2.cpp), the blocked path's bits without its transposing pack.
// (No inline functions here: this header is also compiled with AVX flags.)
#pragma once

#include "fastnn/common.h"

namespace fastnn::gemm_detail {

// Most rows of A the few-rows kernels take.
constexpr index_t kFewRows = 8;

// Rows of W this many floats apart (4 KiB) map to the same L1 set; a multiple of it as
// W's row stride is where the few-rows kernels change how many rows they read at once
// (few_rows_avx2.cpp, few_rows_avx512.cpp).
constexpr index_t kSameSetStride = 1024;

// C[0:M, n] = alpha * sum_k A[m, k] W[n, k] + beta * C[m, n] for M <= kFewRows rows and
// the columns n of the 16-column groups [g0, g1) (n < N); A[m, k] at A[m * rsa + k * csa],
// W row-major (ldw); K in blocks of kc (the blocked path's K blocks and write-back, so its
// bits).
using FewRows = void (*)(index_t M, index_t N, index_t K, index_t kc, float alpha,
                         const float* A, index_t rsa, index_t csa, const float* W, index_t ldw,
                         float beta, float* C, index_t ldc, index_t g0, index_t g1);

namespace avx2 {
void few_rows_nt(index_t M, index_t N, index_t K, index_t kc, float alpha, const float* A,
                 index_t rsa, index_t csa, const float* W, index_t ldw, float beta, float* C,
                 index_t ldc, index_t g0, index_t g1);
}  // namespace avx2

namespace avx512 {
void few_rows_nt(index_t M, index_t N, index_t K, index_t kc, float alpha, const float* A,
                 index_t rsa, index_t csa, const float* W, index_t ldw, float beta, float* C,
                 index_t ldc, index_t g0, index_t g1);
}  // namespace avx512

}  // namespace fastnn::gemm_detail
