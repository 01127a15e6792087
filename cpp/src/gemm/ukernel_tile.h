// ukernel_tile.h: the GEMM micro-kernel, written once over a vector type V
// (util/simd_vec.h: Vec8 or Vec16, W = V::kWidth lanes) and compiled per ISA:
//   ukernel_avx2.cpp      V = Vec8, 6 x 16 tile (the avx2 path);
//   ukernel_avx512.cpp    V = Vec16 on zmm, 8 x 48 (the avx512 path);
//   ukernel16_avx2.cpp    V = Vec16 as ymm pairs, 8 x 48 (the avx512emu path).
// Include only from those files.
//
// Tile: MR rows x NV vectors of W floats (NR = W NV). For k = 0 .. kc-1:
//   b_v = B[k, Wv : Wv + W]               (NV loads)
//   acc[i][v] += A[i, k] * b_v            (broadcast A[i, k], one FMA per acc)
// so every accumulator sees one FMA per k, k ascending (fixed summation order).
// Write-back (ukernel.h): C = fl(fl(alpha * acc) + fl(beta * C)), no FMA.
//
// Edge tiles (mr < MR rows or nr < NR columns valid) run the narrowest tile that
// covers them (tile_edge: fewer vector columns, halved rows), over the zero-padded
// panels or B rows in place, and write back only rows < mr, with masked loads (of B's
// last vector too, for B rows in place) and stores for the columns < nr: no scalar path
// and no on-stack tile. Every C element gets the same FMAs in the same order in any
// tile shape, so results do not depend on which ran; an output layer of 10 units then
// costs one vector column, not all NV.
#pragma once

#include "gemm/ukernel.h"
#include "util/simd_vec.h"

#if FASTNN_VEC16_NATIVE
namespace fastnn::gemm_detail::tile_zmm {
using namespace fastnn::simd_zmm;
#else
namespace fastnn::gemm_detail::tile_ymm2 {
using namespace fastnn::simd_ymm2;
#endif
namespace {

// One C row segment of W lanes (masked when m is not all lanes).
template <bool kFull, class V>
inline void store_seg(float* c, V ab, V va, V vb, bool read_c, typename V::Mask m) {
  V r = va * ab;
  if (kFull) {
    if (read_c) r = r + vb * V::load(c);
    r.store(c);
  } else {
    if (read_c) r = r + vb * V::load(c, m);
    r.store(c, m);
  }
}

// One k step: acc[i][v] += A[i, k] * B[k, W v : W v + W], A[i, k] at a[i * rsa]. kMaskB:
// the last vector reads only the lanes of `last` (an edge tile over a B row read in
// place, which ends at column nr).
template <class V, int MR, int NV, bool kMaskB = false>
inline void fma_step(V (&acc)[MR][NV], const float* a, index_t rsa, const float* b,
                     typename V::Mask last = typename V::Mask{}) {
  constexpr int W = V::kWidth;
  V bv[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v)
    bv[v] = kMaskB && v == NV - 1 ? V::load(b + W * v, last) : V::load(b + W * v);
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i) {
    const V ai = V::bcast(a + i * rsa);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = fmadd(ai, bv[v], acc[i][v]);
  }
}

// C[0:mr, 0:nr] = alpha * A panel @ B panel + beta * C (see the file comment).
// The A element (i, k) is at a[i * rsa + k * csa], the B row k at b + k * rsb.
// PS: the row count of a packed A panel (csa == PS, rsa == 1), which an edge tile
// with fewer rows reads with constant offsets too.
template <class V, int MR, int NV, int PS = MR, bool kMaskB = false>
inline void tile(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,
                 index_t rsb, float alpha, float beta, float* c, index_t ldc, index_t mr,
                 index_t nr) {
  constexpr int W = V::kWidth;
  for (index_t i = 0; i < mr; ++i) {  // start fetching C so the write-back does not wait
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + W * NV - 1), _MM_HINT_T0);
  }
  V acc[MR][NV];
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  typename V::Mask last{};  // B's last vector's lanes (kMaskB only)
  if constexpr (kMaskB) last = V::Mask::first_n(nr - W * (NV - 1));
  if (rsa == 1 && csa == PS) {
    // Packed A panel: the values of column k are contiguous (constant offsets).
#pragma GCC unroll 2
    for (index_t k = 0; k < kc; ++k, a += PS, b += rsb)
      fma_step<V, MR, NV, kMaskB>(acc, a, 1, b, last);
  } else {
    // A read in place through its strides (a row-major A: rsa = lda, csa = 1).
    for (index_t k = 0; k < kc; ++k, a += csa, b += rsb)
      fma_step<V, MR, NV, kMaskB>(acc, a, rsa, b, last);
  }
  const V va = V::splat(alpha), vb = V::splat(beta);
  const bool read_c = beta != 0.0f;
  if (mr == MR && nr == W * NV) {
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        store_seg<true>(c + i * ldc + W * v, acc[i][v], va, vb, read_c, typename V::Mask{});
    return;
  }
  using Mask = typename V::Mask;
  Mask masks[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) masks[v] = Mask::first_n(nr - W * v < 0 ? 0 : nr - W * v);
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      if (W * v < nr) store_seg<false>(c + i * ldc + W * v, acc[i][v], va, vb, read_c, masks[v]);
  }
}

// An edge tile through the smallest tile<rows, vectors> that covers mr x nr: vectors
// ceil(nr / W) <= NV, rows MR halved while that still covers mr (down to 2). PS as
// in tile: the packed panel's row count, which halving keeps. b_exact (a B row read in
// place, ending at nr): B's last vector is read through a mask when nr is not whole
// vectors, so the tile reads exactly nr floats of each row and the macro-kernel need not
// pack the edge (blocked.cpp); packed panels are zero-padded and read whole.
template <class V, int MR, int NV, int PS = MR>
inline void tile_edge(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,
                      index_t rsb, float alpha, float beta, float* c, index_t ldc, index_t mr,
                      index_t nr, bool b_exact) {
  constexpr int W = V::kWidth;
  if constexpr (NV > 1) {
    if (nr <= W * (NV - 1)) {
      tile_edge<V, MR, NV - 1, PS>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr,
                                   b_exact);
      return;
    }
  }
  if constexpr (MR > 2 && MR % 2 == 0) {
    if (mr <= MR / 2) {
      tile_edge<V, MR / 2, NV, PS>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr,
                                   b_exact);
      return;
    }
  }
  if (b_exact && nr % W != 0)  // the last vector through a mask: the B row ends at nr
    tile<V, MR, NV, PS, true>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr);
  else
    tile<V, MR, NV, PS>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr);
}

}  // namespace
}  // namespace fastnn::gemm_detail::tile_zmm / tile_ymm2

// The tile namespace of this compilation (tile_zmm or tile_ymm2), for the macro below.
namespace fastnn::gemm_detail {
#if FASTNN_VEC16_NATIVE
namespace tile_here = tile_zmm;
#else
namespace tile_here = tile_ymm2;
#endif
}  // namespace fastnn::gemm_detail

// Defines the two entry points of one kernel (ukernel.h) in fastnn::gemm_detail::ns: the
// MR x NV tile on vectors V (ukernel_avx2.cpp, ukernel_avx512.cpp, ukernel16_avx2.cpp).
#define FASTNN_DEFINE_TILE_KERNEL(ns, V, MR, NV)                                              \
  namespace fastnn::gemm_detail::ns {                                                         \
  static_assert(kMR == (MR) && kNR == V::kWidth * (NV), "ukernel.h declares another tile");   \
  void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,          \
               index_t rsb, float alpha, float beta, float* c, index_t ldc) {                 \
    tile_here::tile<V, MR, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, kMR, kNR);       \
  }                                                                                           \
  void ukernel_edge(index_t mr, index_t nr, index_t kc, const float* a, index_t rsa,          \
                    index_t csa, const float* b, index_t rsb, float alpha, float beta,       \
                    float* c, index_t ldc, bool b_exact) {                                    \
    tile_here::tile_edge<V, MR, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc, mr, nr,    \
                                    b_exact);                                                 \
  }                                                                                           \
  }
