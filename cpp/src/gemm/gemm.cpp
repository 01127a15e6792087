// gemm.cpp: GEMM entry point (temporary: reference loop until the blocked path lands).
#include "fastnn/gemm.h"

namespace fastnn {

void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
          const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C,
          index_t ldc) {
  gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const char* gemm_arch() { return "scalar"; }

}  // namespace fastnn
