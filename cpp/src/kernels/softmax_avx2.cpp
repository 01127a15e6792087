// softmax_avx2.cpp: the row primitives of softmax_simd.h (softmax_isa.h) on
// Vec8, 8 lanes of AVX2 + FMA (the avx2 path).
#include "util/simd_vec.h"
#include "kernels/softmax_simd.h"

namespace fastnn::kernels::avx2 {

const RowKernels row_kernels = simd::row_set<simd_ymm2::Vec8>();

}  // namespace fastnn::kernels::avx2
