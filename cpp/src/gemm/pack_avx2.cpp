// pack_avx2.cpp: AVX2 block packing (the pack_block contract in pack.h).
//
// Compiled with -mavx2 -mfma (CMake, by file name); used only through the avx2
// row of the arch table. Two fast cases cover every GEMM operand layout:
//   rows contiguous (ts == 1): the block's rows are read in chunks of 8, front to
//     back, with vector copies into the panels (masked only at the block's edge);
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

// Rows of the block per pass of pack_rows: the pass writes kRowChunk consecutive
// rows of every panel, so each panel receives kRowChunk * w contiguous floats.
constexpr index_t kRowChunk = 8;

// ts == 1: row k of the block is contiguous in memory (dst[p * w * kc + k * w + t]
// = src[k * ks + p * w + t]). The rows are read in chunks of kRowChunk, front to
// back, and each chunk dealt out to the panels. One row at a time (the previous
// form) wrote w floats per panel per row: panels lie w * kc floats apart, a
// multiple of 4 KiB for the usual w and kc, so all those writes fell into one L1
// set and the packing took 7-10% of an MLP-layer product (perf, Zen 4).
void pack_rows(index_t kc, index_t n, const float* src, index_t ks, index_t w, float* dst) {
  const index_t panels = (n + w - 1) / w;
  for (index_t k0 = 0; k0 < kc; k0 += kRowChunk) {
    const index_t k1 = k0 + kRowChunk < kc ? k0 + kRowChunk : kc;
    for (index_t p = 0; p < panels; ++p) {
      const float* s = src + p * w;
      float* d = dst + p * w * kc;
      if (w % 8 == 0 && p * w + w <= n) {  // a whole panel of whole vectors
        for (index_t k = k0; k < k1; ++k)
          for (index_t t = 0; t < w; t += 8)
            _mm256_storeu_ps(d + k * w + t, _mm256_loadu_ps(s + k * ks + t));
      } else if (w < 8 && p * w + 8 <= n) {
        // A narrow panel (the 6-wide A panel) whose 8-float reads stay inside the
        // block row: full loads, and full stores that spill into the next row
        // (rewritten next), except on the panel's last row.
        for (index_t k = k0; k < k1; ++k) {
          const __m256 v = _mm256_loadu_ps(s + k * ks);
          if (k + 1 < kc)
            _mm256_storeu_ps(d + k * w, v);
          else
            store_n(d + k * w, v, w);
        }
      } else {  // the rest (the block's last panel): masked, zero-padded past n
        for (index_t k = k0; k < k1; ++k)
          for (index_t t = 0; t < w; t += 8) {
            const index_t col = p * w + t;
            const index_t valid = n - col >= 8 ? 8 : (n > col ? n - col : 0);
            const __m256 v = _mm256_maskload_ps(s + k * ks + t, lane_mask(valid));
            store_n(d + k * w + t, v, w - t >= 8 ? 8 : w - t);
          }
      }
    }
  }
}

// Floats ahead of the current read to prefetch along each line: the lines are
// short (kc floats) and many, so the hardware prefetcher alone falls behind.
constexpr index_t kPrefetchAhead = 64;

// Rows k0 .. k1 - 1 (at most 8) of the 8-line group at column t0 of a ks == 1 block
// of depth kc, through masked loads: lines at or past `lines` read as zeros. Row k
// goes to dst + k * w + t0, `width` floats of it; a panel narrower than 8 (w < 8)
// takes full stores that spill into the next row except on its last row (kc - 1).
inline void pack_group_tail(index_t k0, index_t k1, index_t kc, index_t lines, const float* src,
                            index_t ts, index_t t0, index_t w, index_t width, float* dst) {
  const index_t depth = k1 - k0;
  const __m256i kmask = lane_mask(depth);
  __m256 r[8];
  for (index_t i = 0; i < 8; ++i)
    r[i] = i < lines ? _mm256_maskload_ps(src + (t0 + i) * ts + k0, kmask) : _mm256_setzero_ps();
  transpose8(r);
  for (index_t k = 0; k < depth; ++k) {
    float* d = dst + (k0 + k) * w + t0;
    if (w < 8 && k0 + k + 1 < kc)
      _mm256_storeu_ps(d, r[k]);
    else
      store_n(d, r[k], width);
  }
}

// ks == 1: dst[k * w + t] = src[t * ts + k], through 8 x 8 register transposes.
// Whole 8 x 8 blocks run without branches: in a group of fewer than 8 lines the
// missing lines re-read the last one and their lanes are cleared after the
// transpose. The last block along k (fewer than 8 values, or, for a panel
// narrower than 8, the panel's last row) goes through masked loads and stores.
// Groups outer, k inner, for every width: each group reads 8 lines front to back.
// A wide panel (avx512's 48) was packed k outer instead, all 48 lines per 8 k values,
// which thrashed L1 when the lines lie a power of two apart (K = 512: 2 KiB, two of its
// 64 sets; 1024: one set): a 256 x 256 block took 12.9 / 20.5 us at K = 512 / 1024
// against 6.5 / 6.2 here (Zen 5), and the same 6.0 at K = 784.
void pack_lines(index_t kc, index_t n, const float* src, index_t ts, index_t w, float* dst) {
  for (index_t t0 = 0; t0 < w; t0 += 8) {
    const index_t lines = n - t0 >= 8 ? 8 : (n > t0 ? n - t0 : 0);
    const index_t width = w - t0 >= 8 ? 8 : w - t0;
    if (lines == 0) {  // a group of padding columns only
      for (index_t k = 0; k < kc; ++k) store_n(dst + k * w + t0, _mm256_setzero_ps(), width);
      continue;
    }
    const float* line[8];
    for (index_t i = 0; i < 8; ++i) line[i] = src + (t0 + (i < lines ? i : lines - 1)) * ts;
    const bool clear = lines < width;
    const __m256 keep = _mm256_castsi256_ps(lane_mask(lines));
    // A narrow panel (w < 8, the 6-wide A panel) stores 8 floats per row: row k's
    // store spills into row k + 1, which the next store overwrites. Only whole
    // blocks whose spill stays inside the panel take the fast loop.
    index_t fast_end = kc / 8 * 8;
    if (w < 8 && fast_end == kc) fast_end -= 8;
    if (width < 8 && w >= 8) fast_end = 0;  // a partial group inside a wide panel
    index_t k0 = 0;
    for (; k0 < fast_end; k0 += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (index_t i = 0; i < 8; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(line[i] + kPrefetchAhead), _MM_HINT_T0);
        r[i] = _mm256_loadu_ps(line[i]);
        line[i] += 8;
      }
      transpose8(r);
      float* d = dst + k0 * w + t0;
#pragma GCC unroll 8
      for (index_t k = 0; k < 8; ++k)
        _mm256_storeu_ps(d + k * w, clear ? _mm256_and_ps(r[k], keep) : r[k]);
    }
    for (; k0 < kc; k0 += 8)
      pack_group_tail(k0, k0 + 8 < kc ? k0 + 8 : kc, kc, lines, src, ts, t0, w, width, dst);
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
