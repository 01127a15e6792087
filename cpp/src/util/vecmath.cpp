// vecmath.cpp: the scalar array entry points and the by-name lookup (vecmath.h).
#include "util/vecmath.h"

#include <cstring>

#include "util/vecmath_scalar.h"

namespace fastnn::vecmath {

namespace scalar {

namespace {

template <class F>
void map(float* y, const float* x, index_t n, F f) {
  for (index_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace

void exp(float* y, const float* x, index_t n) {
  map(y, x, n, [](float v) { return exp(v); });
}
void log(float* y, const float* x, index_t n) {
  map(y, x, n, [](float v) { return log(v); });
}
void tanh(float* y, const float* x, index_t n) {
  map(y, x, n, [](float v) { return tanh(v); });
}
void sigmoid(float* y, const float* x, index_t n) {
  map(y, x, n, [](float v) { return sigmoid(v); });
}
void erf(float* y, const float* x, index_t n) {
  map(y, x, n, [](float v) { return erf(v); });
}

}  // namespace scalar

namespace {

struct Entry {
  const char* name;
  ArrayFn scalar, avx2;
};

constexpr Entry kFuncs[] = {
    {"exp", &scalar::exp, &avx2::exp},
    {"log", &scalar::log, &avx2::log},
    {"tanh", &scalar::tanh, &avx2::tanh},
    {"sigmoid", &scalar::sigmoid, &avx2::sigmoid},
    {"erf", &scalar::erf, &avx2::erf},
};

}  // namespace

ArrayFn find_vecmath(Isa isa, const char* func) {
  for (const Entry& e : kFuncs) {
    if (std::strcmp(e.name, func) != 0) continue;
    if (isa == Isa::scalar) return e.scalar;
    if (isa == Isa::avx2) return e.avx2;
  }
  return nullptr;
}

}  // namespace fastnn::vecmath
