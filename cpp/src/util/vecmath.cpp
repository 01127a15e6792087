// vecmath.cpp: the scalar array entry points and the by-name lookup (vecmath.h).
#include "util/vecmath.h"

#include <cstring>

#include "util/isa.h"
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

#if FASTNN_X86_SIMD
#define FASTNN_AVX2_FN(f) &avx2::f
#else
#define FASTNN_AVX2_FN(f) nullptr  // not in this build: cpu_isa() never says avx2
#endif
constexpr Entry kFuncs[] = {
    {"exp", &scalar::exp, FASTNN_AVX2_FN(exp)},
    {"log", &scalar::log, FASTNN_AVX2_FN(log)},
    {"tanh", &scalar::tanh, FASTNN_AVX2_FN(tanh)},
    {"sigmoid", &scalar::sigmoid, FASTNN_AVX2_FN(sigmoid)},
    {"erf", &scalar::erf, FASTNN_AVX2_FN(erf)},
};
#undef FASTNN_AVX2_FN

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
