// update_avx512.cpp: the optimizer update loops of update.h,
// 16 floats at a time in zmm (Vec16, AVX-512).
//
// FMA contraction is off (CMakeLists.txt, and here for builds without it): torch
// rounds the product and the sum separately, and so must every lane. Vector sqrt
// and division are correctly rounded, like sqrtss and divss, and div_bc2 (update.h)
// gives the division's bits, so this file is bit-identical to update_scalar.cpp.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "util/simd_vec.h"
#include "optim/update.h"

namespace fastnn::optim_detail {

void update_range_avx512(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                         index_t begin, index_t end) {
  update_range<simd_zmm::Vec16>(kind, c, t, begin, end);
}

void bc2_division_avx512(const StepScalars& c, const float* a, float* out, index_t n) {
  bc2_division<simd_zmm::Vec16>(c, a, out, n);
}

}  // namespace fastnn::optim_detail
