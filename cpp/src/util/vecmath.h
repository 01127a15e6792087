// vecmath.h: float32 exp, log, tanh, sigmoid and erf over arrays, one set per path.
//
// The element-wise kernels use the per-element forms directly (vecmath_scalar.h in
// portable code, vecmath_simd.h in the per-ISA files); these array entry points
// exist so that tests can sweep each implementation by name (find_vecmath).
// Declarations only: safe to include from any translation unit.
//   y[i] = f(x[i]), i < n;  y may alias x.
#pragma once

#include "fastnn/common.h"
#include "util/isa.h"

namespace fastnn::vecmath {

using ArrayFn = void (*)(float* y, const float* x, index_t n);

struct ArraySet {
  ArrayFn exp, log, tanh, sigmoid, erf;
};

// libm (vecmath.cpp), Vec8 (vecmath_avx2.cpp), Vec16 on ymm pairs
// (vecmath16_avx2.cpp) and on zmm (vecmath_avx512.cpp).
namespace scalar {
extern const ArraySet arrays;
}
namespace avx2 {
extern const ArraySet arrays;
}
namespace avx512emu {
extern const ArraySet arrays;
}
namespace avx512 {
extern const ArraySet arrays;
}

// The implementation of `func` ("exp", "log", "tanh", "sigmoid", "erf") on path
// `isa`; nullptr for an unknown name or a path this build lacks. Does not check
// that the CPU runs `isa` (see ew_isa_runs()).
ArrayFn find_vecmath(EwIsa isa, const char* func);

}  // namespace fastnn::vecmath
