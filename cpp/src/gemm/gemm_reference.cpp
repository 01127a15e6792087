// gemm_reference.cpp: the reference triple loop, the oracle for every faster GEMM
// path and the path for tiny products. Accumulates in float, k ascending.
#include "fastnn/gemm.h"

namespace fastnn {

void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
                    const float* A, index_t lda, const float* B, index_t ldb, float beta,
                    float* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    for (index_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (index_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      float& c = C[i * ldc + j];
      c = (beta == 0.0f) ? alpha * acc : alpha * acc + beta * c;
    }
  }
}

}  // namespace fastnn
