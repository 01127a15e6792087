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

#include "fastnn/activations.h"
#include "fastnn/common.h"

namespace fastnn {

// An optional fused write-back, applied to each C tile while it is still in L1
// (saves the separate passes over C that a bias add or an activation would cost):
//   C[i, j] = alpha * AB[i, j] + beta * C[i, j] + bias[j]       (bias: N floats, or nullptr)
//   derivative == false:  C = act(C)              (as activation_forward)
//   derivative == true:   C = C * act'(.)         (as activation_backward with dy = C and
//       x = aux_x, y = aux_y: M x N matrices with leading dimension ld_aux; each may be
//       nullptr when act' does not read it, see activations.h)
// Both run after the last K block, so the result equals the unfused sequence gemm,
// bias add, activation element for element.
struct GemmEpilogue {
  const float* bias = nullptr;
  Activation act = Activation::identity;
  float act_param = 0.0f;
  bool derivative = false;
  const float* aux_x = nullptr;
  const float* aux_y = nullptr;
  index_t ld_aux = 0;
};

void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
          const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C,
          index_t ldc, const GemmEpilogue& epilogue = {});

// The reference triple loop (no FMA): the oracle for tests; gemm() never uses it.
void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
                    const float* A, index_t lda, const float* B, index_t ldb, float beta,
                    float* C, index_t ldc);

// Name of the SIMD path gemm() uses ("avx512", "avx2" or "scalar"), chosen once
// on first use: the best the CPU and OS support (cpuid + xgetbv), capped by the
// environment variable FASTNN_ARCH=scalar|avx2|avx512 (or avx512emu: the 16-lane
// avx512 kernel on AVX2 ymm pairs). Asking for more than the CPU (or this build)
// offers falls back to the best path below it; an unknown value is ignored.
const char* gemm_arch();

// The register tile and cache blocks gemm() runs with, and the cache sizes (bytes,
// 0 when unknown) they were derived from (util/cache_info.h: FASTNN_CACHE_SIZES,
// cpuid or sysfs; `cache_source` says which, "none": the table's fallbacks).
struct GemmBlockingInfo {
  index_t mr, nr, mc, kc, nc;
  index_t tall_mr, tall_nr, tall_rows;  // the tile of products of tall_rows rows and more
                                        // (gemm/arch.h: dispatched_arch); 0 when none
  index_t l1d, l2, l3;
  const char* cache_source;
};
GemmBlockingInfo gemm_blocking_info();

// For tests: runs one named path instead of the dispatched one:
// "reference" (gemm_reference) or a packed kernel ("scalar", "avx2"). Returns
// false, computing nothing, if the name is unknown or this CPU cannot run it.
bool gemm_with_arch(const char* arch, bool trans_a, bool trans_b, index_t M, index_t N,
                    index_t K, float alpha, const float* A, index_t lda, const float* B,
                    index_t ldb, float beta, float* C, index_t ldc,
                    const GemmEpilogue& epilogue = {});

// Whether gemm_with_arch(arch, ...) can run on this CPU.
bool gemm_arch_supported(const char* arch);

}  // namespace fastnn
