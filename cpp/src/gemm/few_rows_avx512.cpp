// few_rows_avx512.cpp: C = alpha * A W^T + beta * C for a few rows of A (M <= 8), with W
// row-major (N x K): the forward of a Linear layer on one to eight samples, x @ W^T. A is
// read through strides (A[m, k] at A[m * rsa + k * csa]), so op(A) may be transposed.
//
// Compiled with the AVX-512 flags (CMake, by file name); reached only through the native
// avx512 rows of the arch table. The blocked path (blocked.cpp) packs every K block of
// W^T into 48-wide panels with a transposing copy, then runs a 2 x 48 tile over it: for
// one row of A the packing was half the time (perf: Linear(1000, 64) on one sample,
// 18-20 us a call against NumPy's 3.6). Here each group of 16 rows of W is read
// 16 k values at a time, transposed in registers (two 8 x 16 transposes joined by
// 128-bit chunk shuffles) and used at once: no pack buffer, W read once.
//
// Where W's rows lie a multiple of 4 KiB apart (K = 1024, 2048, ... in a contiguous W),
// a group's 16 rows fall into one L1 set, more than its ways (8 on Zen 4 and Skylake-X,
// 12 from Ice Lake on); the 8-row groups of few_rows_avx2.cpp's ymm kernel fit (it takes
// them one at a time on such a W). There, for one or two rows of A and more than 16
// columns, that kernel runs (same bits). 2-core Zen 4, 1 thread, us a call, this kernel
// -> that one (NumPy): 1x1024 @ (1024x1024)^T 183 -> 148 (56), 2x1024 @ (1024x1024)^T
// 197 -> 153 (676), 1x4096 @ (1024x4096)^T 760 -> 595 (279), 2x4096 @ (4096x4096)^T 4.3
// -> 3.3 ms (13.2); elsewhere they were within 5% of each other (1x1000 @ (1000x1000)^T
// 96 / 100). From four rows on the comparison swung both ways from run to run (4x1024:
// 0.7x to 1.25x the time), and up to 16 columns this kernel's one 16-column group beat
// that kernel's two 8-column ones (1x1024 @ (10x1024)^T 2.4 against 3.1). Not yet
// measured on an Intel CPU.
//
// The bits are the blocked path's: every C element accumulates A[m, k] * W[n, k] with
// one FMA per k, k ascending, from zero within each K block (the caller's blocks), and
// is written back after each block as fl(fl(alpha * acc) + fl(beta_k * C)), beta_k the
// caller's beta for the first block and 1 after (ukernel.h, blocked.cpp).
#include <immintrin.h>

#include "gemm/few_rows.h"

namespace fastnn::gemm_detail::avx512 {

namespace {

// Permute indices of transpose8x16's stages B and C (lane l of an output takes
// a[idx & 15] or, when idx & 16, b[idx & 15]).
struct TransposeIndex {
  __m512i b_lo, b_hi, c_lo, c_hi;
  TransposeIndex() {
    alignas(64) int bl[16], bh[16], cl[16], ch[16];
    for (int l = 0; l < 16; ++l) {
      const bool hi_half = (l & 4) != 0;  // stage B: line bit 1 <-> lane bit 2
      bl[l] = hi_half ? 16 + l - 4 : l;
      bh[l] = hi_half ? 16 + l : l + 4;
      // stage C: line bit 0 <-> lane bit 1, lanes reordered to (k0, i2, i1, i0)
      const int k0 = l >> 3, i2 = (l >> 2) & 1, i1 = (l >> 1) & 1, i0 = l & 1;
      cl[l] = (i0 ? 16 : 0) + i2 * 8 + i1 * 4 + k0;
      ch[l] = (i0 ? 16 : 0) + i2 * 8 + i1 * 4 + 2 + k0;
    }
    b_lo = _mm512_load_si512(bl);
    b_hi = _mm512_load_si512(bh);
    c_lo = _mm512_load_si512(cl);
    c_hi = _mm512_load_si512(ch);
  }
};

// r[i] holds line i's 16 values along k (i < 8); afterwards r[j] holds k = 2j for lines
// 0-7 in lanes 0-7 and k = 2j + 1 in lanes 8-15. Each stage swaps one bit of the line
// index (the vector) with one bit of k (the lane): i2 <-> k3 (128-bit chunk shuffles),
// i1 <-> k2, i0 <-> k1 (2-source permutes).
inline void transpose8x16(__m512 r[8], const TransposeIndex& ix) {
  const __m512 s0 = _mm512_shuffle_f32x4(r[0], r[4], 0x44);
  const __m512 s4 = _mm512_shuffle_f32x4(r[0], r[4], 0xEE);
  const __m512 s1 = _mm512_shuffle_f32x4(r[1], r[5], 0x44);
  const __m512 s5 = _mm512_shuffle_f32x4(r[1], r[5], 0xEE);
  const __m512 s2 = _mm512_shuffle_f32x4(r[2], r[6], 0x44);
  const __m512 s6 = _mm512_shuffle_f32x4(r[2], r[6], 0xEE);
  const __m512 s3 = _mm512_shuffle_f32x4(r[3], r[7], 0x44);
  const __m512 s7 = _mm512_shuffle_f32x4(r[3], r[7], 0xEE);
  const __m512 t0 = _mm512_permutex2var_ps(s0, ix.b_lo, s2);
  const __m512 t2 = _mm512_permutex2var_ps(s0, ix.b_hi, s2);
  const __m512 t1 = _mm512_permutex2var_ps(s1, ix.b_lo, s3);
  const __m512 t3 = _mm512_permutex2var_ps(s1, ix.b_hi, s3);
  const __m512 t4 = _mm512_permutex2var_ps(s4, ix.b_lo, s6);
  const __m512 t6 = _mm512_permutex2var_ps(s4, ix.b_hi, s6);
  const __m512 t5 = _mm512_permutex2var_ps(s5, ix.b_lo, s7);
  const __m512 t7 = _mm512_permutex2var_ps(s5, ix.b_hi, s7);
  r[0] = _mm512_permutex2var_ps(t0, ix.c_lo, t1);
  r[1] = _mm512_permutex2var_ps(t0, ix.c_hi, t1);
  r[2] = _mm512_permutex2var_ps(t2, ix.c_lo, t3);
  r[3] = _mm512_permutex2var_ps(t2, ix.c_hi, t3);
  r[4] = _mm512_permutex2var_ps(t4, ix.c_lo, t5);
  r[5] = _mm512_permutex2var_ps(t4, ix.c_hi, t5);
  r[6] = _mm512_permutex2var_ps(t6, ix.c_lo, t7);
  r[7] = _mm512_permutex2var_ps(t6, ix.c_hi, t7);
}

// One k: acc[m] += A[m, k] * w (A[m, k] at a[m * rsa]), one FMA per row.
template <int MR>
inline void fma_rows(__m512 (&acc)[MR], const float* a, index_t rsa, __m512 w) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(a[m * rsa]), w, acc[m]);
}

// Columns [n0, n0 + 16) of C (lanes >= valid masked off) for MR rows, K block by K block.
template <int MR>
void column_group(index_t K, index_t kc, float alpha, const float* A, index_t rsa, index_t csa,
                  const float* W, index_t ldw, float beta, float* C, index_t ldc, index_t n0,
                  index_t valid, const TransposeIndex& ix) {
  const float* line[16];  // rows of W past N re-read the last one; their lanes are dropped
  for (index_t i = 0; i < 16; ++i) line[i] = W + (n0 + (i < valid ? i : valid - 1)) * ldw;
  const __mmask16 cols = static_cast<__mmask16>((1u << valid) - 1);
  const __m512 va = _mm512_set1_ps(alpha);
  for (index_t pc = 0; pc < K; pc += kc) {
    const index_t end = pc + kc < K ? pc + kc : K;
    __m512 acc[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm512_setzero_ps();
    for (index_t k0 = pc; k0 < end; k0 += 16) {
      const index_t depth = end - k0 < 16 ? end - k0 : 16;
      const __mmask16 kmask = static_cast<__mmask16>((1u << depth) - 1);
      __m512 lo[8], hi[8];
      for (int i = 0; i < 8; ++i) {
        lo[i] = _mm512_maskz_loadu_ps(kmask, line[i] + k0);
        hi[i] = _mm512_maskz_loadu_ps(kmask, line[i + 8] + k0);
      }
      transpose8x16(lo, ix);
      transpose8x16(hi, ix);
      const float* a = A + k0 * csa;
      if (depth == 16) {
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          fma_rows<MR>(acc, a + 2 * j * csa, rsa, _mm512_shuffle_f32x4(lo[j], hi[j], 0x44));
          fma_rows<MR>(acc, a + (2 * j + 1) * csa, rsa, _mm512_shuffle_f32x4(lo[j], hi[j], 0xEE));
        }
      } else {
        alignas(64) float rows[16][16];  // the tail: rows k < depth through memory
        for (int j = 0; j < 8; ++j) {
          _mm512_store_ps(rows[2 * j], _mm512_shuffle_f32x4(lo[j], hi[j], 0x44));
          _mm512_store_ps(rows[2 * j + 1], _mm512_shuffle_f32x4(lo[j], hi[j], 0xEE));
        }
        for (index_t k = 0; k < depth; ++k)
          fma_rows<MR>(acc, a + k * csa, rsa, _mm512_load_ps(rows[k]));
      }
    }
    const float beta_k = pc == 0 ? beta : 1.0f;
    const __m512 vb = _mm512_set1_ps(beta_k);
    for (int m = 0; m < MR; ++m) {
      float* c = C + m * ldc + n0;
      __m512 r = _mm512_mul_ps(va, acc[m]);
      if (beta_k != 0.0f) r = _mm512_add_ps(r, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(cols, c)));
      _mm512_mask_storeu_ps(c, cols, r);
    }
  }
}

template <int MR>
void groups(index_t g0, index_t g1, index_t N, index_t K, index_t kc, float alpha,
            const float* A, index_t rsa, index_t csa, const float* W, index_t ldw, float beta,
            float* C,
            index_t ldc) {
  static const TransposeIndex kIndex;
  const TransposeIndex ix = kIndex;  // a local copy: stores through float* may not alias it
  for (index_t g = g0; g < g1; ++g) {
    const index_t n0 = g * 16;
    column_group<MR>(K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc, n0,
                     N - n0 < 16 ? N - n0 : 16, ix);
  }
}

}  // namespace

void few_rows_nt(index_t M, index_t N, index_t K, index_t kc, float alpha, const float* A,
                 index_t rsa, index_t csa, const float* W, index_t ldw, float beta, float* C,
                 index_t ldc, index_t g0, index_t g1) {
  if (M <= 2 && N > 16 && ldw % kSameSetStride == 0)  // 8-row groups there (file comment)
    return avx2::few_rows_nt(M, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc, g0, g1);
  switch (M) {
    case 1: return groups<1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 2: return groups<2>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 3: return groups<3>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 4: return groups<4>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 5: return groups<5>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 6: return groups<6>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 7: return groups<7>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    default: return groups<8>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
  }
}

}  // namespace fastnn::gemm_detail::avx512
