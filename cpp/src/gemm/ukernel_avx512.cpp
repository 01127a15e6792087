// ukernel_avx512.cpp: the 16-lane micro-kernel (ukernel_tile.h) compiled natively
// for AVX-512 (-mavx512f etc., CMake, by file name); called only after runtime
// dispatch has checked that the CPU and OS support AVX-512.
//
// Tile 8 x 48 (3 zmm per row): 24 zmm accumulators + 3 for the B row + 1
// broadcast = 28 of 32. Chosen by measurement on Zen 4 (2-core EPYC, 1 thread,
// GFLOP/s, median of 3-7 interleaved rounds, kc 384; FMA peak 112):
//   tile    1024^2  2048^2  128x784x512(NT)  dX(NN)  dW(TN)  128x512x256(NT)
//   14x32    92.6    93.4        86.8         89.1    96.5       81.9
//   6x64     97.2    95.1        94.0         90.6    90.1       94.9
//   8x48     93.5    99.9        95.6         94.9    96.6       85.6
// 8 rows divide the usual batch sizes (M = 128: 14 rows waste 9% of the tile);
// 6x64 was as fast on average, 8x48 is faster on the backward shapes.
// On Zen 4 a zmm FMA issues as two 256-bit halves, so zmm and ymm FMA peaks
// are equal (peak_flops: 110.7 vs 112.4); zmm wins on the fewer instructions
// and the 32 registers (avx2's 6x16 ymm tile: 78-89 on 1024^2 in the same runs).
#include "gemm/ukernel_tile.h"

namespace fastnn::gemm_detail::avx512 {

void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b, index_t rsb,
             float alpha, float beta, float* c, index_t ldc) {
  tile_zmm::tile<simd_zmm::Vec16, kMR, kNR / 16>(kc, a, rsa, csa, b, rsb, alpha, beta, c,
      ldc, kMR, kNR);
}

void ukernel_edge(index_t mr, index_t nr, index_t kc, const float* a, index_t rsa, index_t csa,
                  const float* b, index_t rsb, float alpha, float beta, float* c, index_t ldc) {
  tile_zmm::tile_edge<simd_zmm::Vec16, kMR, kNR / 16>(kc, a, rsa, csa, b, rsb, alpha, beta,
      c, ldc, mr, nr);
}

}  // namespace fastnn::gemm_detail::avx512
