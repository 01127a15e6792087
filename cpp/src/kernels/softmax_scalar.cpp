// softmax_scalar.cpp: portable row primitives (softmax_isa.h), libm exp, sums in
// index order.
#include <cmath>

#include "kernels/softmax_isa.h"

namespace fastnn::kernels::scalar {

namespace {

float row_max(const float* x, index_t n) {
  float m = x[0];
  for (index_t c = 1; c < n; ++c) m = x[c] > m ? x[c] : m;
  return m;
}

double exp_sum(float* y, const float* x, index_t n, float shift) {
  double s = 0.0;
  for (index_t c = 0; c < n; ++c) {
    const float e = std::exp(x[c] - shift);
    if (y != nullptr) y[c] = e;
    s += e;
  }
  return s;
}

void affine(float* y, index_t n, float a, float b) {
  for (index_t c = 0; c < n; ++c) y[c] = a * y[c] + b;
}

double sum(const float* x, index_t n) {
  double s = 0.0;
  for (index_t c = 0; c < n; ++c) s += x[c];
  return s;
}

double dot(const float* a, const float* b, index_t n) {
  double s = 0.0;
  for (index_t c = 0; c < n; ++c) s += static_cast<double>(a[c]) * b[c];
  return s;
}

void softmax_grad(float* dx, const float* dy, const float* y, index_t n, float d) {
  for (index_t c = 0; c < n; ++c) dx[c] = y[c] * (dy[c] - d);
}

void subtract_twice(float* y, const float* x, index_t n, float a, float b) {
  for (index_t c = 0; c < n; ++c) y[c] = (x[c] - a) - b;
}

void log_softmax_grad(float* dx, const float* dy, const float* y, index_t n, float s) {
  for (index_t c = 0; c < n; ++c) dx[c] = dy[c] - std::exp(y[c]) * s;
}

}  // namespace

const RowKernels row_kernels = {&row_max, &exp_sum,        &affine,
                                &sum,     &dot,            &softmax_grad,
                                &subtract_twice,           &log_softmax_grad};

}  // namespace fastnn::kernels::scalar
