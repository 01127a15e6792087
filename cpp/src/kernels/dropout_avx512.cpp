// dropout_avx512.cpp: the dropout body of dropout_simd.h (dropout_isa.h) on
// Vec16 on zmm, AVX-512 (the avx512 path).
#include "util/simd_vec.h"
#include "kernels/dropout_simd.h"

namespace fastnn::kernels::avx512 {

void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  simd::dropout_apply<simd_zmm::Vec16>(out, in, n, first, key, threshold, scale);
}

}  // namespace fastnn::kernels::avx512
