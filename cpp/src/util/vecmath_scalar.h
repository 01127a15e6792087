// vecmath_scalar.h: the portable per-element maths of the scalar kernels (libm).
//
// For portable translation units only (not *_avx2.cpp: see vecmath_avx2.h).
// Accuracy is libm's (glibc: exp, log, erf <= 1 ulp, tanh <= 2 ulp in float);
// sigmoid adds at most 1.5 ulp to exp's error.
#pragma once

#include <cmath>

namespace fastnn::vecmath::scalar {

inline float exp(float x) { return std::exp(x); }
inline float log(float x) { return std::log(x); }
inline float tanh(float x) { return std::tanh(x); }
inline float erf(float x) { return std::erf(x); }

// 1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|, so a very negative
// x gives the subnormal e / (1 + e) instead of 1 / inf.
inline float sigmoid(float x) {
  const float e = std::exp(-std::fabs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

}  // namespace fastnn::vecmath::scalar
