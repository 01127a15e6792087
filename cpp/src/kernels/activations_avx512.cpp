// activations_avx512.cpp: the activation bodies of activations_simd.h (activations_isa.h) on
// Vec16 on zmm, AVX-512 (the avx512 path).
#include "util/simd_vec.h"
#include "kernels/activations_simd.h"

namespace fastnn::kernels::avx512 {

void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n) {
  simd::activation_forward<simd_zmm::Vec16>(act, param, param2, y, x, n);
}

void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n) {
  simd::activation_backward<simd_zmm::Vec16>(act, param, param2, dx, dy, x, y, n);
}

}  // namespace fastnn::kernels::avx512
