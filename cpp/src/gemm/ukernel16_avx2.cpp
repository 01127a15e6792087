// ukernel16_avx2.cpp: the 16-lane micro-kernel (ukernel_tile.h) compiled for AVX2 +
// FMA (CMake, by file name), each 16-lane vector a pair of ymm registers: the
// avx512emu (8 x 48) and avx512emux64 (6 x 64) paths. Same tiles, loop, masks and
// rounding as the native avx512 and avx512x64 kernels, so their results are
// bit-identical to them; they exist so the 16-lane code runs in the tests on every
// x86-64 CPU with AVX2. Not tuned for speed: 48 ymm accumulators do not fit in 16
// registers and spill.
#include "gemm/gemv_tile.h"
#include "gemm/stream_rows_tile.h"
#include "gemm/ukernel_tile.h"

FASTNN_DEFINE_TILE_KERNEL(avx512emu, simd_ymm2::Vec16, 8, 3)
FASTNN_DEFINE_TILE_KERNEL(avx512emux64, simd_ymm2::Vec16, 6, 4)
FASTNN_DEFINE_GEMV(avx512emu)
FASTNN_DEFINE_STREAM_ROWS(avx512emu, simd_ymm2::Vec16)
