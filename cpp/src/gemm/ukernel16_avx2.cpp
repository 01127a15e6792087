// ukernel16_avx2.cpp: the 16-lane micro-kernel (ukernel_tile.h) compiled for AVX2 +
// FMA (CMake, by file name), each 16-lane vector a pair of ymm registers: the
// avx512emu (8 x 48) and avx512emux64 (6 x 64) paths. Same tiles, loop, masks and
// rounding as the native avx512 and avx512x64 kernels, so their results are
// bit-identical to them; they exist so the 16-lane code runs in the tests on every
// x86-64 CPU with AVX2. Not tuned for speed: 48 ymm accumulators do not fit in 16
// registers and spill.
#include "gemm/ukernel_tile.h"

// The two entry points of one tile (ukernel.h) in namespace ns, MR x NV ymm pairs.
#define FASTNN_DEFINE_TILE_KERNEL(ns, MR, NV)                                                 \
  namespace fastnn::gemm_detail::ns {                                                         \
  void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b,          \
               index_t rsb, float alpha, float beta, float* c, index_t ldc) {                 \
    tile_ymm2::tile<simd_ymm2::Vec16, MR, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c, ldc,   \
                                              MR, 16 * NV);                                    \
  }                                                                                           \
  void ukernel_edge(index_t mr, index_t nr, index_t kc, const float* a, index_t rsa,          \
                    index_t csa, const float* b, index_t rsb, float alpha, float beta,       \
                    float* c, index_t ldc) {                                                  \
    tile_ymm2::tile_edge<simd_ymm2::Vec16, MR, NV>(kc, a, rsa, csa, b, rsb, alpha, beta, c,  \
                                                   ldc, mr, nr);                              \
  }                                                                                           \
  static_assert(kMR == MR && kNR == 16 * NV, "ukernel.h declares another tile");              \
  }

FASTNN_DEFINE_TILE_KERNEL(avx512emu, 8, 3)
FASTNN_DEFINE_TILE_KERNEL(avx512emux64, 6, 4)
