// activations_isa.h: the serial per-ISA bodies of the element-wise activations.
//
// Same contract as activation_forward / activation_backward (activations.h) over
// one contiguous range, on the calling thread; activations.cpp picks one set once
// (util/isa.h: elementwise_isa()) and splits large arrays over threads. Every
// element's result is a function of its inputs alone (the SIMD tails reuse the
// vector code), so any split gives identical output. y may alias x; dx may alias dy.
// The SIMD sets (activations_simd.h) give the same bits as each other.
#pragma once

#include "fastnn/activations.h"

namespace fastnn::kernels {

namespace scalar {
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n);
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n);
}  // namespace scalar

namespace avx2 {
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n);
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n);
}  // namespace avx2
namespace avx512emu {
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n);
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n);
}  // namespace avx512emu
namespace avx512 {
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n);
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n);
}  // namespace avx512

}  // namespace fastnn::kernels
