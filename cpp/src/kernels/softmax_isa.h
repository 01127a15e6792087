// softmax_isa.h: per-ISA row primitives shared by softmax, log-softmax and cross-entropy.
//
// Each works on one contiguous row of n floats, serially, with a fixed summation
// order for its ISA (so a row's result never depends on the thread count). Sums are
// accumulated in double. The SIMD sets (softmax_simd.h) give the same bits as each
// other. softmax.cpp and losses.cpp get the set for the active ISA
// from active_row_kernels() (chosen once).
#pragma once

#include "fastnn/common.h"

namespace fastnn::kernels {

struct RowKernels {
  // max_c x[c] (n >= 1).
  float (*max)(const float* x, index_t n);
  // sum_c exp(x[c] - shift) in double; also writes y[c] = exp(x[c] - shift) unless
  // y is nullptr (y may alias x).
  double (*exp_sum)(float* y, const float* x, index_t n, float shift);
  // y[c] = a * y[c] + b.
  void (*affine)(float* y, index_t n, float a, float b);
  // sum_c x[c] in double.
  double (*sum)(const float* x, index_t n);
  // sum_c a[c] b[c] in double.
  double (*dot)(const float* a, const float* b, index_t n);
  // dx[c] = y[c] (dy[c] - d), softmax's Jacobian-vector product (dx may alias dy).
  void (*softmax_grad)(float* dx, const float* dy, const float* y, index_t n, float d);
  // y[c] = (x[c] - a) - b, log-softmax's output (y may alias x).
  void (*subtract_twice)(float* y, const float* x, index_t n, float a, float b);
  // dx[c] = dy[c] - exp(y[c]) s, log-softmax's Jacobian-vector product (dx may alias dy).
  void (*log_softmax_grad)(float* dx, const float* dy, const float* y, index_t n, float s);
};

namespace scalar {
extern const RowKernels row_kernels;
}
namespace avx2 {
extern const RowKernels row_kernels;
}
namespace avx512emu {
extern const RowKernels row_kernels;
}
namespace avx512 {
extern const RowKernels row_kernels;
}

// The set for util/isa.h's elementwise_isa(), chosen on first use.
const RowKernels& active_row_kernels();

}  // namespace fastnn::kernels
