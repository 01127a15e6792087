// ukernel_w16.h: the 16-lane GEMM micro-kernel, written once over Vec16
// (util/simd_vec.h) and compiled twice: natively with AVX-512 (ukernel_avx512.cpp,
// namespace avx512) and with AVX2 as ymm pairs (ukernel16_avx2.cpp, namespace
// avx512emu). Include only from those two files.
//
// Tile: MR rows x NV vectors of 16 floats (NR = 16 NV). For k = 0 .. kc-1:
//   b_v = B[k, 16v : 16v + 16]            (NV loads)
//   acc[i][v] += A[i, k] * b_v            (broadcast A[i, k], one FMA per acc)
// so every accumulator sees one FMA per k, k ascending (fixed summation order).
// Write-back (ukernel.h): C = fl(fl(alpha * acc) + fl(beta * C)), no FMA.
//
// Edge tiles (mr < MR rows or nr < NR columns valid) run the narrowest tile that
// covers them (tile_edge: fewer 16-lane columns, halved rows), over the zero-padded
// panels, and write back only rows < mr, with masked loads and stores for the
// columns < nr: no scalar path and no on-stack tile. Every C element gets the same
// FMAs in the same order in any tile shape, so results do not depend on which ran;
// an output layer of 10 units then costs one 16-lane column, not three.
#pragma once

#include "gemm/ukernel.h"
#include "util/simd_vec.h"

#if FASTNN_VEC16_NATIVE
namespace fastnn::gemm_detail::w16_zmm {
using namespace fastnn::simd_zmm;
#else
namespace fastnn::gemm_detail::w16_ymm2 {
using namespace fastnn::simd_ymm2;
#endif
namespace {

// One C row segment of 16 lanes (masked when m is not all lanes).
template <bool kFull>
inline void store_seg(float* c, Vec16 ab, Vec16 va, Vec16 vb, bool read_c, Mask16 m) {
  Vec16 r = va * ab;
  if (kFull) {
    if (read_c) r = r + vb * Vec16::load(c);
    r.store(c);
  } else {
    if (read_c) r = r + vb * Vec16::load(c, m);
    r.store(c, m);
  }
}

// C[0:mr, 0:nr] = alpha * A panel @ B panel + beta * C (see the file comment).
// The A element (i, k) is at a[i * rsa + k * csa], the B row k at b + k * rsb.
template <int MR, int NV>
inline void tile(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,
                 index_t rsb, float alpha, float beta, float* c, index_t ldc, index_t mr,
                 index_t nr) {
  for (index_t i = 0; i < mr; ++i) {  // start fetching C so the write-back does not wait
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * NV - 1), _MM_HINT_T0);
  }
  Vec16 acc[MR][NV];
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = Vec16::zero();
  if (rsa == 1 && csa == MR) {
    // Packed A panel: the MR values of column k are contiguous (constant offsets).
#pragma GCC unroll 2
    for (index_t k = 0; k < kc; ++k) {
      Vec16 bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = Vec16::load(b + 16 * v);
#pragma GCC unroll 64
      for (int i = 0; i < MR; ++i) {
        const Vec16 ai = Vec16::bcast(a + i);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(ai, bv[v], acc[i][v]);
      }
      a += MR;
      b += rsb;
    }
  } else {
    // A read in place through its strides (a row-major A: rsa = lda, csa = 1).
    for (index_t k = 0; k < kc; ++k) {
      Vec16 bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = Vec16::load(b + 16 * v);
#pragma GCC unroll 64
      for (int i = 0; i < MR; ++i) {
        const Vec16 ai = Vec16::bcast(a + i * rsa);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(ai, bv[v], acc[i][v]);
      }
      a += csa;
      b += rsb;
    }
  }
  const Vec16 va = Vec16::splat(alpha), vb = Vec16::splat(beta);
  const bool read_c = beta != 0.0f;
  if (mr == MR && nr == 16 * NV) {
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        store_seg<true>(c + i * ldc + 16 * v, acc[i][v], va, vb, read_c, Mask16{});
    return;
  }
  Mask16 masks[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) masks[v] = Mask16::first_n(nr - 16 * v < 0 ? 0 : nr - 16 * v);
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      if (16 * v < nr) store_seg<false>(c + i * ldc + 16 * v, acc[i][v], va, vb, read_c, masks[v]);
  }
}

// An edge tile through the smallest tile<rows, vectors> that covers mr x nr: vectors
// ceil(nr / 16) <= NV, rows MR halved while that still covers mr (down to 2).
template <int MR, int NV>
inline void tile_edge(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,
                      index_t rsb, float alpha, float beta, float* c, index_t ldc, index_t mr,
                      index_t nr) {
  if constexpr (NV > 1) {
    if (nr <= 16 * (NV - 1)) {
      tile_edge<MR, NV - 1>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr);
      return;
    }
  }
  if constexpr (MR > 2 && MR % 2 == 0) {
    if (mr <= MR / 2) {
      tile_edge<MR / 2, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr);
      return;
    }
  }
  tile<MR, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr);
}

}  // namespace
}  // namespace fastnn::gemm_detail::w16_zmm / w16_ymm2
