// softmax.cpp: softmax and log-softmax over the last axis of a (rows, cols) matrix
// (activations.h), and the choice of the row primitives (softmax_isa.h).
//
// Stable: each row subtracts its max before exp, so exp never overflows and the
// largest term is exactly 1. Rows are independent and each is processed serially
// by one thread (sums in double), so the result does not depend on the thread count.
#include <cmath>

#include "fastnn/threads.h"
#include "fastnn/activations.h"
#include "kernels/parallel.h"
#include "kernels/softmax_isa.h"
#include "util/isa.h"

namespace fastnn {

namespace kernels {

const RowKernels& active_row_kernels() {
  static const RowKernels& k = []() -> const RowKernels& {
    switch (elementwise_isa()) {
#if FASTNN_X86_SIMD
      case EwIsa::avx512:
        return avx512::row_kernels;
      case EwIsa::avx512emu:
        return avx512emu::row_kernels;
      case EwIsa::avx2:
        return avx2::row_kernels;
#endif
      default:
        return scalar::row_kernels;
    }
  }();
  return k;
}

}  // namespace kernels

void softmax_forward(float* y, const float* x, index_t rows, index_t cols) {
  if (cols == 0) return;
  const kernels::RowKernels& k = kernels::active_row_kernels();
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (rows * cols > elementwise_threshold() && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const double sum = k.exp_sum(yr, xr, cols, k.max(xr, cols));
    k.affine(yr, cols, static_cast<float>(1.0 / sum), 0.0f);
  }
}

// dx = y * (dy - <dy, y>) row by row: the Jacobian-vector product of softmax.
void softmax_backward(float* dx, const float* dy, const float* y, index_t rows, index_t cols) {
  if (cols == 0) return;
  const kernels::RowKernels& k = kernels::active_row_kernels();
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (rows * cols > elementwise_threshold() && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const index_t off = r * cols;
    k.softmax_grad(dx + off, dy + off, y + off, cols, static_cast<float>(k.dot(dy + off, y + off, cols)));
  }
}

// y = (x - max) - log(sum exp(x - max)) row by row, as PyTorch but for the sum: its log
// is taken in double (PyTorch rounds the sum to float first), then rounded to float.
void log_softmax_forward(float* y, const float* x, index_t rows, index_t cols) {
  if (cols == 0) return;
  const kernels::RowKernels& k = kernels::active_row_kernels();
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (rows * cols > elementwise_threshold() && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float m = k.max(xr, cols);
    const double sum = k.exp_sum(nullptr, xr, cols, m);
    k.subtract_twice(y + r * cols, xr, cols, m, static_cast<float>(std::log(sum)));
  }
}

// dx = dy - exp(y) * sum(dy) row by row: the Jacobian-vector product of log-softmax.
void log_softmax_backward(float* dx, const float* dy, const float* y, index_t rows,
                          index_t cols) {
  if (cols == 0) return;
  const kernels::RowKernels& k = kernels::active_row_kernels();
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (rows * cols > elementwise_threshold() && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const index_t off = r * cols;
    k.log_softmax_grad(dx + off, dy + off, y + off, cols,
                       static_cast<float>(k.sum(dy + off, cols)));
  }
}

}  // namespace fastnn
