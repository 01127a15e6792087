// dropout16_avx2.cpp: the dropout body of dropout_simd.h (dropout_isa.h) on
// Vec16 on ymm pairs, AVX2 (the avx512emu path).
#include "util/simd_vec.h"
#include "kernels/dropout_simd.h"

namespace fastnn::kernels::avx512emu {

void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  simd::dropout_apply<simd_ymm2::Vec16>(out, in, n, first, key, threshold, scale);
}

}  // namespace fastnn::kernels::avx512emu
