// dropout_avx2.cpp: the dropout body of dropout_simd.h (dropout_isa.h) on
// Vec8, 8 lanes of AVX2 (the avx2 path).
#include "util/simd_vec.h"
#include "kernels/dropout_simd.h"

namespace fastnn::kernels::avx2 {

void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  simd::dropout_apply<simd_ymm2::Vec8>(out, in, n, first, key, threshold, scale);
}

}  // namespace fastnn::kernels::avx2
