// vecmath_avx2.cpp: the array entry points of the AVX2 maths (vecmath.h), for tests.
#include "util/vecmath_avx2.h"

#include "util/vecmath.h"

namespace fastnn::vecmath::avx2 {

void exp(float* y, const float* x, index_t n) {
  map(y, x, n, [](__m256 v) { return exp(v); });
}
void log(float* y, const float* x, index_t n) {
  map(y, x, n, [](__m256 v) { return log(v); });
}
void tanh(float* y, const float* x, index_t n) {
  map(y, x, n, [](__m256 v) { return tanh(v); });
}
void sigmoid(float* y, const float* x, index_t n) {
  map(y, x, n, [](__m256 v) { return sigmoid(v); });
}
void erf(float* y, const float* x, index_t n) {
  map(y, x, n, [](__m256 v) { return erf(v); });
}

}  // namespace fastnn::vecmath::avx2
