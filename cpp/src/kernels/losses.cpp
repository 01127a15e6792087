// losses.cpp: loss values and gradients (losses.h), with PyTorch's formulas.
//
// Values: per-element terms in double, summed with detail::chunked_sum (fixed
// chunks, partials in chunk order), so a loss is bit-identical at any thread count.
// Gradients: element-wise (row-wise for cross-entropy) in float, written.
#include <algorithm>
#include <cmath>

#include "fastnn/losses.h"
#include "kernels/parallel.h"

namespace fastnn {

namespace {

// The divisor of a reduction: the count for mean, 1 for sum.
inline double divisor(index_t count, Reduction r) {
  return r == Reduction::mean ? static_cast<double>(count) : 1.0;
}

// Sum over i in [0, n) of term(i), deterministically, then reduced.
template <class Term>
double reduce_terms(index_t n, Reduction r, Term term) {
  const double total = detail::chunked_sum(n, kReduceChunk, [&](index_t begin, index_t end) {
    double s = 0.0;
    for (index_t i = begin; i < end; ++i) s += term(i);
    return s;
  });
  return total / divisor(n, r);
}

template <class Grad>
void write_grad(float* grad, index_t n, Grad g) {
#pragma omp parallel for schedule(static) if (n > detail::kParallelThreshold)
  for (index_t i = 0; i < n; ++i) grad[i] = g(i);
}

inline float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
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

// l = max(z, 0) - z t + log(1 + exp(-|z|)): never exponentiates a positive number.
double bce_with_logits_forward(const float* logits, const float* target, index_t n, Reduction r) {
  return reduce_terms(n, r, [&](index_t i) {
    const double z = logits[i], t = target[i];
    return std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
  });
}

void bce_with_logits_backward(float* grad, const float* logits, const float* target, index_t n,
                              Reduction r) {
  const float div = static_cast<float>(divisor(n, r));
  write_grad(grad, n, [&](index_t i) { return (sigmoid(logits[i]) - target[i]) / div; });
}

namespace {

// Row statistics of logits z[C]: max m and s = sum_c exp(z_c - m) (so log-sum-exp
// is m + log s, and softmax_c = exp(z_c - m) / s).
struct RowStats {
  float max;
  double sum_exp;
};

inline RowStats row_stats(const float* z, index_t C) {
  const float m = *std::max_element(z, z + C);
  double s = 0.0;
  for (index_t c = 0; c < C; ++c) s += std::exp(z[c] - m);
  return {m, s};
}

}  // namespace

// l_i = (1 - e) (lse_i - z_i[y_i]) + e (lse_i - mean_c z_i[c]), lse = log-sum-exp:
// PyTorch's label smoothing, (1 - e) nll + e mean_c(-log softmax).
double cross_entropy_forward(const float* logits, const std::int64_t* labels, index_t N, index_t C,
                             float label_smoothing, Reduction r) {
  const double e = label_smoothing;
  const index_t rows_per_chunk = std::max<index_t>(1, kReduceChunk / std::max<index_t>(C, 1));
  const double total = detail::chunked_sum(N, rows_per_chunk, [&](index_t begin, index_t end) {
    double s = 0.0;
    for (index_t i = begin; i < end; ++i) {
      const float* z = logits + i * C;
      const RowStats st = row_stats(z, C);
      const double lse = st.max + std::log(st.sum_exp);
      double l = (1.0 - e) * (lse - z[labels[i]]);
      if (e != 0.0) {
        double sum_z = 0.0;
        for (index_t c = 0; c < C; ++c) sum_z += z[c];
        l += e * (lse - sum_z / static_cast<double>(C));
      }
      s += l;
    }
    return s;
  });
  return total / divisor(N, r);
}

// dl/dz_i = (softmax(z_i) - q_i) / divisor, q_i = (1 - e) onehot(y_i) + e / C.
void cross_entropy_backward(float* grad, const float* logits, const std::int64_t* labels, index_t N,
                            index_t C, float label_smoothing, Reduction r) {
  const float div = static_cast<float>(divisor(N, r));
  const float off = label_smoothing / static_cast<float>(C);
  const float on = 1.0f - label_smoothing + off;
#pragma omp parallel for schedule(static) if (N * C > detail::kParallelThreshold && N > 1)
  for (index_t i = 0; i < N; ++i) {
    const float* z = logits + i * C;
    float* g = grad + i * C;
    const RowStats st = row_stats(z, C);
    const float inv = static_cast<float>(1.0 / st.sum_exp);
    for (index_t c = 0; c < C; ++c) g[c] = (std::exp(z[c] - st.max) * inv - off) / div;
    g[labels[i]] = (std::exp(z[labels[i]] - st.max) * inv - on) / div;
  }
}

}  // namespace fastnn
