// activations.h: element-wise activations and row-wise softmax.
//
// Element-wise forward: y = f(x) over n elements (y may alias x).
// Element-wise backward: dx = dy * f'(x), written (dx may alias dy); uses x and/or y
// from forward.
//   relu        f = max(x, 0)                       f' = [x > 0]
//               (NaN as PyTorch: relu(NaN) = NaN, and dy passes at x = NaN)
//   leaky_relu  f = x if x > 0 else slope * x       f' = 1 if x > 0 else slope
//   sigmoid     f = 1 / (1 + exp(-x))               f' = y (1 - y)
//   tanh        f = tanh(x)                         f' = 1 - y^2
//   identity    f = x                               f' = 1
//   gelu        f = x * Phi(x) (exact, erf form)    f' = Phi(x) + x phi(x)
//   gelu_tanh   f = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)   (PyTorch's
//               approximate="tanh")                 f' = (1 + t)/2 + x/2 (1 - t^2) du/dx
// Float32 maths: the SIMD kernels use util/vecmath_simd.h (max error 1-2 ulp for
// exp, tanh, sigmoid, erf; the same bits on every SIMD path), the scalar ones libm. Results are identical at any thread
// count; calls on fewer than 2^15 elements open no OpenMP region.
// Softmax over the last axis of a (rows, cols) matrix:
//   y[r, c] = exp(x[r, c] - max_r) / sum_c' exp(x[r, c'] - max_r)
//   dx[r, c] = y[r, c] * (dy[r, c] - sum_c' dy[r, c'] y[r, c'])
#pragma once

#include "fastnn/common.h"

namespace fastnn {

enum class Activation : int {
  identity = 0,
  relu = 1,
  leaky_relu = 2,
  sigmoid = 3,
  tanh = 4,
  gelu = 5,
  gelu_tanh = 6,
};

// param is the negative slope for leaky_relu and ignored otherwise.
// Backward reads x (relu, leaky_relu, gelu, gelu_tanh) or y (sigmoid, tanh); the
// other pointer may be nullptr.
void activation_forward(Activation act, float param, float* y, const float* x, index_t n);
void activation_backward(Activation act, float param, float* dx, const float* dy, const float* x,
                         const float* y, index_t n);

// Which of x and y activation_backward reads for `act` (the other may be nullptr).
bool activation_backward_reads_x(Activation act);
bool activation_backward_reads_y(Activation act);

// The SIMD path of every element-wise kernel (activations, softmax, losses,
// dropout, optimizer updates): "avx512", "avx512emu", "avx2" or "scalar", chosen
// once (util/isa.h: elementwise_isa(); FASTNN_ARCH caps or forces it).
const char* elementwise_arch();

void softmax_forward(float* y, const float* x, index_t rows, index_t cols);
void softmax_backward(float* dx, const float* dy, const float* y, index_t rows, index_t cols);

}  // namespace fastnn
