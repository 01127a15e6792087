// losses.cpp: loss values and gradients (losses.h), with PyTorch's formulas.
//
// Values: per-element terms in double, summed with detail::chunked_sum (fixed
// chunks, partials in chunk order), so a loss is bit-identical at any thread count.
// Gradients: element-wise (row-wise for cross-entropy) in float, written.
// The transcendental parts run on the active SIMD path: bce_with_logits' sigmoid
// through activation_forward, cross-entropy through the row primitives of
// softmax_isa.h (max, exp-and-sum, affine).
#include <algorithm>
#include <cmath>

#include "fastnn/threads.h"
#include "fastnn/activations.h"
#include "fastnn/losses.h"
#include "kernels/parallel.h"
#include "kernels/softmax_isa.h"

namespace fastnn {

namespace {

// The divisor of a reduction: the count for mean, 1 for sum.
inline double divisor(index_t count, Reduction r) {
  return r == Reduction::mean ? static_cast<double>(count) : 1.0;
}

// Sum over i in [0, n) of term(i), deterministically, then reduced.
template <class Term>
double reduce_terms(index_t n, Reduction r, Term term) {
  const bool parallel = n > elementwise_threshold();
  const double total = detail::chunked_sum(n, kReduceChunk, parallel, [&](index_t begin, index_t end) {
    double s = 0.0;
    for (index_t i = begin; i < end; ++i) s += term(i);
    return s;
  });
  return total / divisor(n, r);
}

template <class Grad>
void write_grad(float* grad, index_t n, Grad g) {
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (n > elementwise_threshold())
  for (index_t i = 0; i < n; ++i) grad[i] = g(i);
}

// PyTorch clamps the logs of BCE at -100 so that p in {0, 1} gives a finite loss.
constexpr double kLogClamp = -100.0;
// PyTorch's floor on p (1 - p) in the BCE gradient.
constexpr float kBceEps = 1e-12f;

}  // namespace

double mse_forward(const float* pred, const float* target, index_t n, Reduction r) {
  return reduce_terms(n, r, [&](index_t i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    return d * d;
  });
}

void mse_backward(float* grad, const float* pred, const float* target, index_t n, Reduction r) {
  const float scale = static_cast<float>(2.0 / divisor(n, r));
  write_grad(grad, n, [&](index_t i) { return scale * (pred[i] - target[i]); });
}

double bce_forward(const float* prob, const float* target, index_t n, Reduction r) {
  return reduce_terms(n, r, [&](index_t i) {
    const double p = prob[i], t = target[i];
    const double log_p = std::max(std::log(p), kLogClamp);
    const double log_1mp = std::max(std::log1p(-p), kLogClamp);
    return -(t * log_p + (1.0 - t) * log_1mp);
  });
}

void bce_backward(float* grad, const float* prob, const float* target, index_t n, Reduction r) {
  const float div = static_cast<float>(divisor(n, r));
  write_grad(grad, n, [&](index_t i) {
    const float p = prob[i];
    return (p - target[i]) / std::max((1.0f - p) * p, kBceEps) / div;
  });
}

// l = (1 - t) z - log sigmoid(z), log sigmoid(z) = min(z, 0) - log(1 + exp(-|z|)): never
// exponentiates a positive number, and PyTorch's form, so infinite logits give its values
// too (z = +inf, t = 0.3: inf, where max(z, 0) - z t gave inf - inf = NaN).
double bce_with_logits_forward(const float* logits, const float* target, index_t n, Reduction r) {
  return reduce_terms(n, r, [&](index_t i) {
    const double z = logits[i], t = target[i];
    return (1.0 - t) * z - (std::min(z, 0.0) - std::log1p(std::exp(-std::fabs(z))));
  });
}

// grad = (sigmoid(z) - t) / divisor: sigmoid into grad block by block, then the rest
// while the block is in L1.
void bce_with_logits_backward(float* grad, const float* logits, const float* target, index_t n,
                              Reduction r) {
  const float scale = static_cast<float>(1.0 / divisor(n, r));
  detail::parallel_blocks(n, [&](index_t begin, index_t end) {
    activation_forward(Activation::sigmoid, 0.0f, grad + begin, logits + begin, end - begin);
    for (index_t i = begin; i < end; ++i) grad[i] = (grad[i] - target[i]) * scale;
  });
}

namespace {

// One row of cross-entropy, logits z[C] (C >= 1), label y, smoothing e:
// m = max z, s = sum_c exp(z_c - m), lse = m + log s;
// returns l = (1 - e) (lse - z_y) + e (lse - mean_c z_c) when want_loss (else 0),
// as (m - z_y) + log s (PyTorch's order: -log_softmax), never m + log s first, which
// loses log s next to a large m (logits of 1e20: loss 0 instead of log 2);
// writes g = (softmax(z) - q) * scale, q = (1 - e) onehot(y) + e / C, unless g is nullptr.
double cross_entropy_row(const kernels::RowKernels& k, float* g, const float* z, std::int64_t y,
                         index_t C, float e, float scale, bool want_loss) {
  const float m = k.max(z, C);
  const double s = k.exp_sum(g, z, C, m);
  if (g != nullptr) {
    const float off = e / static_cast<float>(C);
    k.affine(g, C, static_cast<float>(scale / s), -off * scale);
    g[y] -= (1.0f - e) * scale;
  }
  if (!want_loss) return 0.0;
  const double log_s = std::log(s);
  double l = (1.0 - e) * ((static_cast<double>(m) - z[y]) + log_s);
  if (e != 0.0f) l += e * ((m - k.sum(z, C) / static_cast<double>(C)) + log_s);
  return l;
}

// Sum of the row losses in fixed chunks of rows (bit-identical at any thread
// count), writing the gradient rows too unless grad is nullptr.
double cross_entropy_sum(float* grad, const float* logits, const std::int64_t* labels, index_t N,
                         index_t C, float label_smoothing, float scale) {
  const kernels::RowKernels& k = kernels::active_row_kernels();
  const index_t rows_per_chunk = std::max<index_t>(1, kReduceChunk / std::max<index_t>(C, 1));
  const bool parallel = N * C > elementwise_threshold();
  return detail::chunked_sum(N, rows_per_chunk, parallel, [&](index_t begin, index_t end) {
    double s = 0.0;
    for (index_t i = begin; i < end; ++i)
      s += cross_entropy_row(k, grad ? grad + i * C : nullptr, logits + i * C, labels[i], C,
                             label_smoothing, scale, true);
    return s;
  });
}

}  // namespace

// l_i = (1 - e) (lse_i - z_i[y_i]) + e (lse_i - mean_c z_i[c]), lse = log-sum-exp:
// PyTorch's label smoothing, (1 - e) nll + e mean_c(-log softmax).
double cross_entropy_forward(const float* logits, const std::int64_t* labels, index_t N, index_t C,
                             float label_smoothing, Reduction r) {
  return cross_entropy_sum(nullptr, logits, labels, N, C, label_smoothing, 0.0f) / divisor(N, r);
}

// dl/dz_i = (softmax(z_i) - q_i) / divisor, q_i = (1 - e) onehot(y_i) + e / C.
void cross_entropy_backward(float* grad, const float* logits, const std::int64_t* labels, index_t N,
                            index_t C, float label_smoothing, Reduction r) {
  const kernels::RowKernels& k = kernels::active_row_kernels();
  const float scale = static_cast<float>(1.0 / divisor(N, r));
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (N * C > elementwise_threshold() && N > 1)
  for (index_t i = 0; i < N; ++i)
    cross_entropy_row(k, grad + i * C, logits + i * C, labels[i], C, label_smoothing, scale, false);
}

double cross_entropy_forward_backward(float* grad, const float* logits, const std::int64_t* labels,
                                      index_t N, index_t C, float label_smoothing, Reduction r) {
  const float scale = static_cast<float>(1.0 / divisor(N, r));
  return cross_entropy_sum(grad, logits, labels, N, C, label_smoothing, scale) / divisor(N, r);
}

}  // namespace fastnn
