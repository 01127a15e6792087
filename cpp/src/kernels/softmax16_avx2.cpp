// softmax16_avx2.cpp: the row primitives of softmax_simd.h (softmax_isa.h) on
// Vec16 on ymm pairs, AVX2 + FMA (the avx512emu path).
#include "util/simd_vec.h"
#include "kernels/softmax_simd.h"

namespace fastnn::kernels::avx512emu {

const RowKernels row_kernels = simd::row_set<simd_ymm2::Vec16>();

}  // namespace fastnn::kernels::avx512emu
