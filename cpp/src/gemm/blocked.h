// blocked.h: the packed, cache-blocked, OpenMP-parallel GEMM (BLIS loops).
#pragma once

#include "fastnn/common.h"
#include "fastnn/gemm.h"
#include "gemm/arch.h"

namespace fastnn::gemm_detail {

// C = alpha * op(A) @ op(B) + beta * C with `arch`'s micro-kernel and blocks;
// same contract as fastnn::gemm (gemm.h, epilogue included), at any size.
void gemm_blocked(const GemmArch& arch, bool trans_a, bool trans_b, index_t M, index_t N,
                  index_t K, float alpha, const float* A, index_t lda, const float* B,
                  index_t ldb, float beta, float* C, index_t ldc, const GemmEpilogue& ep);

}  // namespace fastnn::gemm_detail
