// activations_isa.h: the serial per-ISA bodies of the element-wise activations.
//
// Same contract as activation_forward / activation_backward (activations.h) over
// one contiguous range, on the calling thread; activations.cpp picks one set once
// (util/isa.h) and splits large arrays over threads. Every element's result is a
// function of its inputs alone (the AVX2 tail reuses the vector code), so any split
// gives identical output. y may alias x; dx may alias dy.
#pragma once

#include "fastnn/activations.h"

namespace fastnn::kernels {

namespace scalar {
void activation_forward(Activation act, float param, float* y, const float* x, index_t n);
void activation_backward(Activation act, float param, float* dx, const float* dy, const float* x,
                         const float* y, index_t n);
}  // namespace scalar

namespace avx2 {
void activation_forward(Activation act, float param, float* y, const float* x, index_t n);
void activation_backward(Activation act, float param, float* dx, const float* dy, const float* x,
                         const float* y, index_t n);
}  // namespace avx2

}  // namespace fastnn::kernels
