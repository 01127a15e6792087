// ukernel16_avx2.cpp: the 16-lane micro-kernel (ukernel_tile.h) compiled for AVX2 +
// FMA (CMake, by file name), each 16-lane vector a pair of ymm registers: the
// avx512emu path. Same tile (8 x 48), loop, masks and rounding as the native
// avx512 kernel, so its results are bit-identical to it; it exists so the
// 16-lane code runs in the tests on every x86-64 CPU with AVX2. Not tuned for
// speed: 48 ymm accumulators do not fit in 16 registers and spill.
#include "gemm/ukernel_tile.h"

namespace fastnn::gemm_detail::avx512emu {

void ukernel(index_t kc, const float* a, index_t rsa, index_t csa, const float* b, index_t rsb,
             float alpha, float beta, float* c, index_t ldc) {
  tile_ymm2::tile<simd_ymm2::Vec16, kMR, kNR / 16>(kc, a, rsa, csa, b, rsb, alpha, beta, c,
      ldc, kMR, kNR);
}

void ukernel_edge(index_t mr, index_t nr, index_t kc, const float* a, index_t rsa, index_t csa,
                  const float* b, index_t rsb, float alpha, float beta, float* c, index_t ldc) {
  tile_ymm2::tile_edge<simd_ymm2::Vec16, kMR, kNR / 16>(kc, a, rsa, csa, b, rsb, alpha, beta,
      c, ldc, mr, nr);
}

}  // namespace fastnn::gemm_detail::avx512emu
