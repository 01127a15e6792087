// softmax_avx512.cpp: the row primitives of softmax_simd.h (softmax_isa.h) on
// Vec16 on zmm, AVX-512 (the avx512 path).
#include "util/simd_vec.h"
#include "kernels/softmax_simd.h"

namespace fastnn::kernels::avx512 {

const RowKernels row_kernels = simd::row_set<simd_zmm::Vec16>();

}  // namespace fastnn::kernels::avx512
