// linear.h: fully connected layer  y = x @ W^T + b, with an optional fused activation.
//
// Shapes: x (N, in), W (out, in), b (out,) or nullptr, y (N, out).
#pragma once

#include "fastnn/activations.h"
#include "fastnn/common.h"

namespace fastnn {

// y[N, out] = act(x[N, in] @ W[out, in]^T + b[out])   (b may be nullptr)
// The bias add and the activation run in the GEMM write-back (gemm.h GemmEpilogue),
// so y is written once; the result equals linear then activation_forward exactly.
// For the backward pass of a fused activation, the activations whose derivative
// needs x (relu, leaky_relu, gelu, gelu_tanh) need the pre-activation kept: use
// act = identity and a separate activation_forward for those when training.
void linear_forward(float* y, const float* x, const float* W, const float* b, index_t N,
                    index_t in_features, index_t out_features,
                    Activation act = Activation::identity, float act_param = 0.0f);

// Given dy (N, out):
//   dx[N, in]    = (dy @ W) * act'(.)  (written; skipped when dx == nullptr)
//   dW[out, in] += dy^T @ x            (accumulated; written when !accumulate_dW)
//   db[out]     += sum over rows of dy (accumulated; written when !accumulate_db;
//                                       skipped when db == nullptr)
// Writing equals accumulating into zeros (minus the pass that zeroes and the read of
// the zeros), except that an entry whose products all underflow below zero stays -0.0
// where 0 + (-0.0) gives +0.0.
// act' is the derivative of the activation that produced x (the previous layer's),
// folded into the write-back of dx as activation_backward computes it from
// act_x (its input) and/or act_y (its output, usually x itself), both (N, in);
// act = identity (the default) gives the plain dx = dy @ W.
void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, index_t N, index_t in_features, index_t out_features,
                     Activation act = Activation::identity, float act_param = 0.0f,
                     const float* act_x = nullptr, const float* act_y = nullptr,
                     bool accumulate_dW = true, bool accumulate_db = true);

}  // namespace fastnn
