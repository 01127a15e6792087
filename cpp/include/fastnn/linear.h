// linear.h: fully connected layer  y = x @ W^T + b.
//
// Shapes: x (N, in), W (out, in), b (out,) or nullptr, y (N, out).
#pragma once

#include "fastnn/common.h"

namespace fastnn {

// y[N, out] = x[N, in] @ W[out, in]^T + b[out]   (b may be nullptr)
void linear_forward(float* y, const float* x, const float* W, const float* b, index_t N,
                    index_t in_features, index_t out_features);

// Given dy (N, out):
//   dx[N, in]    = dy @ W              (written; skipped when dx == nullptr)
//   dW[out, in] += dy^T @ x            (accumulated)
//   db[out]     += sum over rows of dy (accumulated; skipped when db == nullptr)
void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, index_t N, index_t in_features, index_t out_features);

}  // namespace fastnn
