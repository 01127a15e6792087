// ukernel_avx2.cpp: the AVX2 + FMA micro-kernel, the tile of ukernel_tile.h on
// Vec8 (one ymm): 6 x 16 = 6 rows x 2 vectors.
//
// Compiled with -mavx2 -mfma (CMake, by file name); called only after runtime
// dispatch has checked the CPU and OS support AVX2/FMA. Register use: 12 ymm
// accumulators, 2 for the B row, 1 for the broadcast A element: 15 of 16.
// Edge tiles (M = 128 leaves a 2-row panel) run the 3-row tile with masked
// stores instead of the full tile into a scratch tile.
#include "gemm/ukernel_tile.h"
#include "gemm/stream_rows_tile.h"

FASTNN_DEFINE_TILE_KERNEL(avx2, simd_ymm2::Vec8, 6, 2)
FASTNN_DEFINE_STREAM_ROWS(avx2, simd_ymm2::Vec8)
