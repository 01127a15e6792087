// pack_avx2.cpp: AVX2 block packing (the pack_block contract in pack.h).
//
// Compiled with -mavx2 -mfma (CMake, by file name); used only through the avx2
// row of the arch table. Two fast cases cover every GEMM operand layout:
//   rows contiguous (ts == 1): each k row of the block is read once, front to back,
//     with (masked) vector copies into the panels;
//   lines contiguous along k (ks == 1): 8 lines x 8 k values are loaded as 8
//     vectors, transposed in registers and stored as 8 panel rows, so both the
//     reads and the writes are full vectors (a scalar gather here cost ~30% of a
//     128 x 512 x 784 product).
// Anything else (both strides > 1: never produced by gemm) falls back to scalars.
// Zero padding: lanes t >= n are written as 0.
#include <immintrin.h>

#include "gemm/pack.h"

namespace fastnn::gemm_detail::avx2 {

namespace {

// Lanes [0, n) set, n in [0, 8].
__m256i lane_mask(index_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

// Stores lanes [0, n) of v at d; n in [0, 8].
inline void store_n(float* d, __m256 v, index_t n) {
  if (n == 8)
    _mm256_storeu_ps(d, v);
  else
    _mm256_maskstore_ps(d, lane_mask(n), v);
}

// In-register transpose of an 8 x 8 block: r[i][j] -> r[j][i].
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// ts == 1, all panels at once: row k of the block is contiguous in memory, so read
// it once, front to back, and deal its w-wide pieces out to the panels
// (dst[p * w * kc + k * w + t] = src[k * ks + p * w + t]). Going panel by panel
// instead would touch kc rows for every w floats copied.
void pack_rows(index_t kc, index_t n, const float* src, index_t ks, index_t w, float* dst) {
  const index_t panels = (n + w - 1) / w;
  for (index_t k = 0; k < kc; ++k) {
    const float* s = src + k * ks;
    for (index_t p = 0; p < panels; ++p) {
      float* d = dst + p * w * kc + k * w;
      for (index_t t = 0; t < w; t += 8) {
        const index_t col = p * w + t;
        const index_t valid = n - col >= 8 ? 8 : (n > col ? n - col : 0);
        const __m256 v = valid == 8 ? _mm256_loadu_ps(s + col)
                                    : _mm256_maskload_ps(s + col, lane_mask(valid));
        store_n(d + t, v, w - t >= 8 ? 8 : w - t);
      }
    }
  }
}

// Floats ahead of the current read to prefetch along each line: the lines are
// short (kc floats) and many, so the hardware prefetcher alone falls behind.
constexpr index_t kPrefetchAhead = 64;

// ks == 1: dst[k * w + t] = src[t * ts + k], through 8 x 8 register transposes.
void pack_lines(index_t kc, index_t n, const float* src, index_t ts, index_t w, float* dst) {
  for (index_t t0 = 0; t0 < w; t0 += 8) {
    const index_t lines = n - t0 >= 8 ? 8 : (n > t0 ? n - t0 : 0);
    const index_t width = w - t0 >= 8 ? 8 : w - t0;
    for (index_t k0 = 0; k0 < kc; k0 += 8) {
      const index_t depth = kc - k0 >= 8 ? 8 : kc - k0;
      const __m256i kmask = lane_mask(depth);
      __m256 r[8];
      for (index_t i = 0; i < 8; ++i) {
        const float* s = src + (t0 + i) * ts + k0;
        if (i < lines) _mm_prefetch(reinterpret_cast<const char*>(s + kPrefetchAhead), _MM_HINT_T0);
        r[i] = i >= lines   ? _mm256_setzero_ps()
               : depth == 8 ? _mm256_loadu_ps(s)
                            : _mm256_maskload_ps(s, kmask);
      }
      transpose8(r);
      if (w < 8) {
        // A narrow panel (the 6-wide A panel): a full store of row k spills into row
        // k + 1, which the next store overwrites; only the panel's last row is masked.
        for (index_t k = 0; k < depth; ++k) {
          float* d = dst + (k0 + k) * w;
          if (k0 + k + 1 < kc)
            _mm256_storeu_ps(d, r[k]);
          else
            store_n(d, r[k], w);
        }
      } else {
        for (index_t k = 0; k < depth; ++k) store_n(dst + (k0 + k) * w + t0, r[k], width);
      }
    }
  }
}

}  // namespace

void pack_block(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst) {
  if (ts == 1) return pack_rows(kc, n, src, ks, w, dst);
  for (index_t p0 = 0; p0 < n; p0 += w, dst += w * kc) {
    const index_t lines = n - p0 < w ? n - p0 : w;
    const float* s = src + p0 * ts;
    if (ks == 1) {
      pack_lines(kc, lines, s, ts, w, dst);
    } else {
      for (index_t k = 0; k < kc; ++k)
        for (index_t t = 0; t < w; ++t) dst[k * w + t] = t < lines ? s[t * ts + k * ks] : 0.0f;
    }
  }
}

}  // namespace fastnn::gemm_detail::avx2
