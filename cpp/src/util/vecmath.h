// vecmath.h: float32 exp, log, tanh, sigmoid and erf over arrays, one set per ISA.
//
// The element-wise kernels use the per-element forms directly (vecmath_scalar.h in
// portable code, vecmath_avx2.h in *_avx2.cpp files); these array entry points exist
// so that tests can sweep each implementation by name (find_vecmath).
// Declarations only: safe to include from any translation unit.
//   y[i] = f(x[i]), i < n;  y may alias x.
#pragma once

#include "fastnn/common.h"
#include "util/isa.h"

namespace fastnn::vecmath {

using ArrayFn = void (*)(float* y, const float* x, index_t n);

namespace scalar {
void exp(float* y, const float* x, index_t n);
void log(float* y, const float* x, index_t n);
void tanh(float* y, const float* x, index_t n);
void sigmoid(float* y, const float* x, index_t n);
void erf(float* y, const float* x, index_t n);
}  // namespace scalar

namespace avx2 {
void exp(float* y, const float* x, index_t n);
void log(float* y, const float* x, index_t n);
void tanh(float* y, const float* x, index_t n);
void sigmoid(float* y, const float* x, index_t n);
void erf(float* y, const float* x, index_t n);
}  // namespace avx2

// The implementation of `func` ("exp", "log", "tanh", "sigmoid", "erf") at level
// `isa`; nullptr for an unknown name or a level without an implementation. Does not
// check that the CPU supports `isa` (see cpu_isa()).
ArrayFn find_vecmath(Isa isa, const char* func);

}  // namespace fastnn::vecmath
