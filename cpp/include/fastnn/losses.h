// losses.h: loss values and their gradients with respect to the prediction.
//
// Reduction: mean divides by the element count (by N for cross-entropy), sum does not.
// Values are accumulated in double with fixed chunking (common.h), so they are
// bit-identical at any thread count. Gradients are written (=). exp, log-sum-exp and
// sigmoid run on the element-wise SIMD path (activations.h: elementwise_arch()).
//   mse               l = (p - t)^2                          dl/dp = 2 (p - t)
//   bce (probabilities, log clamped at -100 like PyTorch)
//                     l = -(t log p + (1 - t) log(1 - p))    dl/dp = (p - t) / max(p (1 - p), 1e-12)
//   bce_with_logits   l = max(z, 0) - z t + log(1 + exp(-|z|))   dl/dz = sigmoid(z) - t
//   cross_entropy     logits z (N, C), integer labels y (N,), smoothing e:
//                     q = (1 - e) onehot(y) + e / C
//                     l_i = -sum_c q_c log softmax(z_i)_c     dl/dz_i = softmax(z_i) - q
#pragma once

#include "fastnn/common.h"

namespace fastnn {

enum class Reduction : int { mean = 0, sum = 1 };

double mse_forward(const float* pred, const float* target, index_t n, Reduction r);
void mse_backward(float* grad, const float* pred, const float* target, index_t n, Reduction r);

double bce_forward(const float* prob, const float* target, index_t n, Reduction r);
void bce_backward(float* grad, const float* prob, const float* target, index_t n, Reduction r);

double bce_with_logits_forward(const float* logits, const float* target, index_t n, Reduction r);
void bce_with_logits_backward(float* grad, const float* logits, const float* target, index_t n,
                              Reduction r);

// Labels must lie in [0, C); the binding checks this before calling.
double cross_entropy_forward(const float* logits, const std::int64_t* labels, index_t N, index_t C,
                             float label_smoothing, Reduction r);
void cross_entropy_backward(float* grad, const float* logits, const std::int64_t* labels, index_t N,
                            index_t C, float label_smoothing, Reduction r);
// Both in one pass over the logits (a training step needs both): returns the value
// of cross_entropy_forward (bit-identical) and writes the gradient of
// cross_entropy_backward (bit-identical).
double cross_entropy_forward_backward(float* grad, const float* logits, const std::int64_t* labels,
                                      index_t N, index_t C, float label_smoothing, Reduction r);

}  // namespace fastnn
