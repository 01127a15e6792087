// ukernel_avx512.cpp: the 16-lane micro-kernel (ukernel_tile.h) compiled natively
// for AVX-512 (-mavx512f etc., CMake, by file name); called only after runtime
// dispatch has checked that the CPU and OS support AVX-512.
//
// Two tiles (arch.cpp's avx512 and avx512x64 rows):
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
//
// Tile 6 x 64 (4 zmm per row): 24 accumulators + 4 + 1 = 29, 10 loads per 24 FMAs
// where 8 x 48 issues 11. On Intel Xeons the loads, not the FMAs, bound the loop: on a
// 2-core Xeon with AMX (FMA peak 214 GFLOP/s) 24 register-only FMAs ran at 214, with 3
// independent zmm loads and 8 broadcasts beside them at 195, and the 8 x 48 kernel alone
// (panels in L1) at 177. There 6 x 64 runs products of 256 rows and more 3-13% faster
// (1024^2: 157 vs 147 GFLOP/s; 512x128 @ 128x784 at 2 threads: 261 vs 203), and 128-row
// ones 3-7% slower: the dispatch takes it for tall products on Intel CPUs only (arch.cpp).
#include "gemm/gemv_tile.h"
#include "gemm/stream_rows_tile.h"
#include "gemm/ukernel_tile.h"

FASTNN_DEFINE_TILE_KERNEL(avx512, simd_zmm::Vec16, 8, 3)
FASTNN_DEFINE_TILE_KERNEL(avx512x64, simd_zmm::Vec16, 6, 4)
FASTNN_DEFINE_GEMV(avx512)
FASTNN_DEFINE_STREAM_ROWS(avx512, simd_zmm::Vec16)
