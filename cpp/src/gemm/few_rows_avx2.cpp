// few_rows_avx2.cpp: C = alpha * A W^T + beta * C for a few rows of A (M <= 8), with W
// row-major (N x K), on 8-lane ymm vectors: few_rows_avx512.cpp's product (x @ W^T on one
// to eight samples, W read in place and transposed in registers, no pack buffer) with a
// cheaper transpose. A is read through strides (A[m, k] at A[m * rsa + k * csa]).
//
// Compiled with the AVX2 flags (CMake, by file name): the few-rows kernel of the avx2
// path, where the blocked path packed W^T. Each 8 x 8 block of W (8 rows,
// 8 values of k) is loaded as 128-bit halves, row i's and row i + 4's side by side in
// one register (a load and an insert from memory, the load ports' work), so the
// transpose finishes inside the 128-bit lanes: 8 unpacks and 8 shuffles per 64 floats.
// 2-core Zen 4, the avx2 path forced, 1 thread, us a call, packed -> here (NumPy's
// AVX-512 kernels): 1x784 @ (512x784)^T 84 -> 56 (22), 1x1024 @ (1024x1024)^T 237 -> 146
// (56), 1x4096 @ (4096x4096)^T 6.8 -> 3.0 ms (2.8), 2x784 @ (64x784)^T 11 -> 8 (3.2),
// 4x784 @ (512x784)^T 98 -> 80 (224), 8x784 @ (512x784)^T 128 -> 123 (252).
// One row's single FMA chain per 8 columns waits on the FMA latency (4 cycles a k), so
// one or two rows of A take two column groups at a time (two chains a row), unless W's
// rows lie a multiple of 4 KiB apart (K = 1024, 2048, ...): their 16 rows then share one
// 8-way L1 set and two groups ran 1.5x slower than one. Same machine and path, us, one
// group -> two (NumPy's AVX2 kernels): 1x784 @ (512x784)^T 56.6 -> 41.6 (21.4), 1x512 @
// (256x512)^T 18.8 -> 14.2 (6.9), 1x1000 @ (1000x1000)^T 140 -> 102 (53), 1x4000 @
// (4000x4000)^T 3.03 -> 2.81 ms (2.79), 2x784 @ (512x784)^T 59.6 -> 58.1, 2x1000 @
// (1000x1000)^T 148 -> 141; three groups were no faster than two, and three rows in two
// groups ran 1.7x slower than in one (the 16 ymm registers spill), so from 3 rows on one.
// The avx512 path runs this kernel too, for one or two rows of A over more than 16 rows
// of a W whose rows lie a multiple of 4 KiB apart (few_rows_avx512.cpp: there the zmm
// kernel's 16 rows share one L1 set); elsewhere the zmm kernel is as fast (1x784 @
// (512x784)^T 38-40 us either). Four column groups at once put 32 rows into one L1 set
// where W's rows lie 4 KiB apart and ran 2x slower there.
//
// The bits are the blocked path's: every C element accumulates A[m, k] * W[n, k] with
// one FMA per k, k ascending, from zero within each K block (the caller's blocks), and
// is written back after each block as fl(fl(alpha * acc) + fl(beta_k * C)), beta_k the
// caller's beta for the first block and 1 after (ukernel.h, blocked.cpp); the lane width
// does not enter.
#include <immintrin.h>

#include "gemm/few_rows.h"

namespace fastnn::gemm_detail::avx2 {

namespace {

// Lanes 0 .. n-1 of an 8-lane mask for maskload / maskstore.
inline __m256i first_lanes(index_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// v[j] = W[n0 + i, k0 + j] for lines i = 0 .. 7 (lane i), j < 8; line[i] points at row i.
// `depth` < 8 reads only k < depth (masked loads; the lanes past it are zeros).
inline void transpose8x8(const float* const line[8], index_t k0, index_t depth, __m256 v[8]) {
  __m256 t[8];  // t[i] = line i's k0..k0+3 | line i + 4's; t[4 + i] the same for k0+4..k0+7
  if (depth == 8) {
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(line[i] + k0)),
                                  _mm_loadu_ps(line[i + 4] + k0), 1);
      t[4 + i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(line[i] + k0 + 4)),
                                      _mm_loadu_ps(line[i + 4] + k0 + 4), 1);
    }
  } else {
    const __m256i m = first_lanes(depth);
    const __m128i lo = _mm256_castsi256_si128(m), hi = _mm256_extracti128_si256(m, 1);
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_maskload_ps(line[i] + k0, lo)),
                                  _mm_maskload_ps(line[i + 4] + k0, lo), 1);
      t[4 + i] = _mm256_insertf128_ps(
          _mm256_castps128_ps256(_mm_maskload_ps(line[i] + k0 + 4, hi)),
          _mm_maskload_ps(line[i + 4] + k0 + 4, hi), 1);
    }
  }
  for (int h = 0; h < 8; h += 4) {  // a 4 x 4 transpose in each 128-bit lane
    const __m256 u0 = _mm256_unpacklo_ps(t[h], t[h + 1]);
    const __m256 u1 = _mm256_unpackhi_ps(t[h], t[h + 1]);
    const __m256 u2 = _mm256_unpacklo_ps(t[h + 2], t[h + 3]);
    const __m256 u3 = _mm256_unpackhi_ps(t[h + 2], t[h + 3]);
    v[h] = _mm256_shuffle_ps(u0, u2, 0x44);
    v[h + 1] = _mm256_shuffle_ps(u0, u2, 0xEE);
    v[h + 2] = _mm256_shuffle_ps(u1, u3, 0x44);
    v[h + 3] = _mm256_shuffle_ps(u1, u3, 0xEE);
  }
}

// k = k0 .. k0 + depth - 1 (depth <= 8) of one 8-column group: acc[m] += A[m, k] W[n, k].
template <int MR>
inline void block8(__m256 (&acc)[MR], const float* const line[8], const float* a, index_t rsa,
                   index_t csa, index_t k0, index_t depth) {
  __m256 v[8];
  transpose8x8(line, k0, depth, v);
  for (int j = 0; j < 8; ++j) {
    if (j >= depth) break;
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
      acc[m] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + m * rsa + j * csa), v[j], acc[m]);
  }
}

// Columns [n0, n0 + 8 NG) of C (NG groups of 8 columns, valid[g] <= 8 of them in C) for
// MR rows, K block by K block. Two groups interleave two FMA chains per row of A.
template <int MR, int NG>
void column_groups(index_t K, index_t kc, float alpha, const float* A, index_t rsa,
                   index_t csa, const float* W, index_t ldw, float beta, float* C, index_t ldc,
                   index_t n0, const index_t (&valid)[NG]) {
  const float* line[NG][8];  // rows of W past N re-read the last one; their lanes drop
  for (int g = 0; g < NG; ++g)
    for (index_t i = 0; i < 8; ++i)
      line[g][i] = W + (n0 + 8 * g + (i < valid[g] ? i : valid[g] - 1)) * ldw;
  const __m256 va = _mm256_set1_ps(alpha);
  for (index_t pc = 0; pc < K; pc += kc) {
    const index_t end = pc + kc < K ? pc + kc : K;
    __m256 acc[NG][MR];
    for (int g = 0; g < NG; ++g)
      for (int m = 0; m < MR; ++m) acc[g][m] = _mm256_setzero_ps();
    for (index_t k0 = pc; k0 < end; k0 += 8) {
      const index_t depth = end - k0 < 8 ? end - k0 : 8;
      for (int g = 0; g < NG; ++g) block8<MR>(acc[g], line[g], A + k0 * csa, rsa, csa, k0, depth);
    }
    const float beta_k = pc == 0 ? beta : 1.0f;
    const __m256 vb = _mm256_set1_ps(beta_k);
    for (int g = 0; g < NG; ++g) {
      const __m256i cols = first_lanes(valid[g]);
      for (int m = 0; m < MR; ++m) {
        float* c = C + m * ldc + n0 + 8 * g;
        __m256 r = _mm256_mul_ps(va, acc[g][m]);
        if (beta_k != 0.0f)
          r = _mm256_add_ps(r, _mm256_mul_ps(vb, _mm256_maskload_ps(c, cols)));
        _mm256_maskstore_ps(c, cols, r);
      }
    }
  }
}

// The 8-column groups of the 16-column groups [g0, g1), two at a time (NG = 2) or one.
template <int MR, int NG>
void groups(index_t g0, index_t g1, index_t N, index_t K, index_t kc, float alpha,
            const float* A, index_t rsa, index_t csa, const float* W, index_t ldw, float beta,
            float* C, index_t ldc) {
  const index_t n1 = 16 * g1 < N ? 16 * g1 : N;  // g0, g1 count 16-column groups (few_rows.h)
  index_t n0 = 16 * g0;
  if constexpr (NG == 2) {
    for (; n0 + 16 <= n1; n0 += 16) {
      const index_t valid[2] = {8, 8};
      column_groups<MR, 2>(K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc, n0, valid);
    }
  }
  for (; n0 < n1; n0 += 8) {
    const index_t valid[1] = {n1 - n0 < 8 ? n1 - n0 : 8};
    column_groups<MR, 1>(K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc, n0, valid);
  }
}

}  // namespace

void few_rows_nt(index_t M, index_t N, index_t K, index_t kc, float alpha, const float* A,
                 index_t rsa, index_t csa, const float* W, index_t ldw, float beta, float* C,
                 index_t ldc, index_t g0, index_t g1) {
  // One or two rows of A: two column groups at once, unless W's rows lie a multiple of
  // 4 KiB apart (then the 16 rows would share one L1 set; see the file comment).
  if (M <= 2 && ldw % kSameSetStride != 0) {
    if (M == 1) return groups<1, 2>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    return groups<2, 2>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
  }
  switch (M) {
    case 1: return groups<1, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 2: return groups<2, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 3: return groups<3, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 4: return groups<4, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 5: return groups<5, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 6: return groups<6, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    case 7: return groups<7, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
    default: return groups<8, 1>(g0, g1, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc);
  }
}

}  // namespace fastnn::gemm_detail::avx2
