// ukernel_avx2.cpp: AVX2 + FMA 6 x 16 micro-kernel (see ukernel.h).
//
// Compiled with -mavx2 -mfma (CMake, by file name); called only after runtime
// dispatch has checked the CPU and OS support AVX2/FMA. Register use: 12 ymm
// accumulators (6 rows x 2 vectors of 8), 2 for the B row, 1 for the broadcast
// A element: 15 of 16. Each accumulator gets one FMA per k, so the summation
// order over k is fixed. Only intrinsics here: no inline library functions
// whose AVX2 instantiation the linker could pick for baseline callers.
#include <immintrin.h>

#include "gemm/ukernel.h"

namespace fastnn::gemm_detail::avx2 {

namespace {

// C row (16 floats) = alpha * ab + beta * C row; no FMA, see ukernel.h.
inline void store_row(float* c, __m256 ab0, __m256 ab1, __m256 alpha, __m256 beta,
                      bool read_c) {
  __m256 r0 = _mm256_mul_ps(alpha, ab0);
  __m256 r1 = _mm256_mul_ps(alpha, ab1);
  if (read_c) {
    r0 = _mm256_add_ps(r0, _mm256_mul_ps(beta, _mm256_loadu_ps(c)));
    r1 = _mm256_add_ps(r1, _mm256_mul_ps(beta, _mm256_loadu_ps(c + 8)));
  }
  _mm256_storeu_ps(c, r0);
  _mm256_storeu_ps(c + 8, r1);
}

}  // namespace

void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b, index_t rsb,
             float alpha, float beta, float* c, index_t ldc) {
  static_assert(kMR == 6 && kNR == 16, "the register layout below is written for 6 x 16");
  // Start fetching the C tile now so the write-back does not wait on memory.
  for (index_t i = 0; i < kMR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNR - 1), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // One pointer per A row, advanced together by csa: the strided form runs as fast
  // as a packed-only kernel (measured 94 GFLOP/s either way, kc = 256, Zen 3).
  const float* a0 = a;
  const float* a1 = a + rsa;
  const float* a2 = a + 2 * rsa;
  const float* a3 = a + 3 * rsa;
  const float* a4 = a + 4 * rsa;
  const float* a5 = a + 5 * rsa;
  // Unrolled by 4: the loop overhead otherwise costs about a quarter of the FMA rate
  // (measured: 73 -> 97 GFLOP/s on an L1-resident kc = 256 panel, Zen 3).
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    const index_t o = k * csa;
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a0 + o);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a1 + o);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a2 + o);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a3 + o);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a4 + o);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a5 + o);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    b += rsb;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool read_c = beta != 0.0f;
  store_row(c + 0 * ldc, c00, c01, va, vb, read_c);
  store_row(c + 1 * ldc, c10, c11, va, vb, read_c);
  store_row(c + 2 * ldc, c20, c21, va, vb, read_c);
  store_row(c + 3 * ldc, c30, c31, va, vb, read_c);
  store_row(c + 4 * ldc, c40, c41, va, vb, read_c);
  store_row(c + 5 * ldc, c50, c51, va, vb, read_c);
}

}  // namespace fastnn::gemm_detail::avx2
