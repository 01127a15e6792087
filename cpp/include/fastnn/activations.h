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
//   silu        f = x sigmoid(x)                    f' = s (1 + x (1 - s)), s = sigmoid(x)
//   elu         f = a (e^x - 1) if x < 0 else x     f' = a e^x if x <= 0 else 1  (a = param;
//               f = x at +-0 and NaN, as PyTorch; f' at NaN is 1, as PyTorch's scalar
//               path: its vectorized one gives NaN)
//   softplus    f = log(1 + e^z) / b, z = b x       f' = sigmoid(z)  (b = param); where
//               z > param2 (the threshold) f = x and f' = 1, as PyTorch (where z
//               overflows float, and for a threshold of inf or NaN, f stays exact where
//               PyTorch's log1p(exp(z)) gives inf)
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
  silu = 7,
  elu = 8,
  softplus = 9,
};

// param is the negative slope for leaky_relu, alpha for elu, beta for softplus and
// ignored otherwise; param2 is softplus's threshold (ignored otherwise).
// Backward reads x (relu, leaky_relu, gelu, gelu_tanh, silu, elu, softplus) or y
// (sigmoid, tanh); the other pointer may be nullptr.
void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n);
void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n);
// The same with param2 = 0: every activation but softplus, whose threshold is param2
// (the bindings refuse softplus where they call these).
inline void activation_forward(Activation act, float param, float* y, const float* x, index_t n) {
  activation_forward(act, param, 0.0f, y, x, n);
}
inline void activation_backward(Activation act, float param, float* dx, const float* dy,
                                const float* x, const float* y, index_t n) {
  activation_backward(act, param, 0.0f, dx, dy, x, y, n);
}

// Which of x and y activation_backward reads for `act` (the other may be nullptr).
bool activation_backward_reads_x(Activation act);
bool activation_backward_reads_y(Activation act);

// The SIMD path of every element-wise kernel (activations, softmax, losses,
// dropout, optimizer updates): "avx512", "avx512emu", "avx2" or "scalar", chosen
// once (util/isa.h: elementwise_isa(); FASTNN_ARCH caps or forces it).
const char* elementwise_arch();

void softmax_forward(float* y, const float* x, index_t rows, index_t cols);
void softmax_backward(float* dx, const float* dy, const float* y, index_t rows, index_t cols);

// Log-softmax over the last axis of a (rows, cols) matrix, as PyTorch computes it but for
// the sum, kept in double (PyTorch rounds it to float before the log):
//   y[r, c] = (x[r, c] - max_r) - log sum_c' exp(x[r, c'] - max_r)
//   dx[r, c] = dy[r, c] - exp(y[r, c]) sum_c' dy[r, c']
void log_softmax_forward(float* y, const float* x, index_t rows, index_t cols);
void log_softmax_backward(float* dx, const float* dy, const float* y, index_t rows, index_t cols);

}  // namespace fastnn
