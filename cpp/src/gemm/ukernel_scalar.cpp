// ukernel_scalar.cpp: portable 4 x 8 micro-kernel (see ukernel.h).
//
// Plain loops with compile-time trip counts over a local accumulator tile: GCC
// and Clang unroll them and keep the tile in vector registers (8 xmm with SSE2),
// each j-row of 8 floats being two 4-wide multiply-adds per k. The j loop is
// vectorizable without reassociation, so the summation order over k stays fixed.
#include "gemm/ukernel.h"

namespace fastnn::gemm_detail::scalar {

void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b, index_t rsb,
             float alpha, float beta, float* c, index_t ldc) {
  float ab[kMR][kNR] = {};
  for (index_t k = 0; k < kc; ++k) {
    for (index_t i = 0; i < kMR; ++i) {
      const float ai = a[i * rsa];
      for (index_t j = 0; j < kNR; ++j) ab[i][j] += ai * b[j];
    }
    a += csa;
    b += rsb;
  }
  for (index_t i = 0; i < kMR; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.0f) {
      for (index_t j = 0; j < kNR; ++j) ci[j] = alpha * ab[i][j];
    } else {
      for (index_t j = 0; j < kNR; ++j) ci[j] = alpha * ab[i][j] + beta * ci[j];
    }
  }
}

}  // namespace fastnn::gemm_detail::scalar
