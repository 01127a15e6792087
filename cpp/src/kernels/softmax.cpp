// softmax.cpp: softmax over the last axis of a (rows, cols) matrix (activations.h).
//
// Stable: each row subtracts its max before exp, so exp never overflows and the
// largest term is exactly 1. Rows are independent and each is processed serially
// by one thread (sums in double), so the result does not depend on the thread count.
#include <algorithm>
#include <cmath>

#include "fastnn/activations.h"
#include "kernels/parallel.h"

namespace fastnn {

void softmax_forward(float* y, const float* x, index_t rows, index_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > detail::kParallelThreshold && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = cols > 0 ? *std::max_element(xr, xr + cols) : 0.0f;
    double sum = 0.0;
    for (index_t c = 0; c < cols; ++c) {
      yr[c] = std::exp(xr[c] - m);
      sum += yr[c];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (index_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

// dx = y * (dy - <dy, y>) row by row: the Jacobian-vector product of softmax.
void softmax_backward(float* dx, const float* dy, const float* y, index_t rows, index_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > detail::kParallelThreshold && rows > 1)
  for (index_t r = 0; r < rows; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dxr = dx + r * cols;
    double dot = 0.0;
    for (index_t c = 0; c < cols; ++c) dot += static_cast<double>(dyr[c]) * yr[c];
    const float d = static_cast<float>(dot);
    for (index_t c = 0; c < cols; ++c) dxr[c] = yr[c] * (dyr[c] - d);
  }
}

}  // namespace fastnn
