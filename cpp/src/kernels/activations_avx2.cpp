// activations_avx2.cpp: the activation bodies of activations_simd.h (activations_isa.h) on
// Vec8, 8 lanes of AVX2 + FMA (the avx2 path).
#include "util/simd_vec.h"
#include "kernels/activations_simd.h"

namespace fastnn::kernels::avx2 {

void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n) {
  simd::activation_forward<simd_ymm2::Vec8>(act, param, param2, y, x, n);
}

void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n) {
  simd::activation_backward<simd_ymm2::Vec8>(act, param, param2, dx, dy, x, y, n);
}

}  // namespace fastnn::kernels::avx2
