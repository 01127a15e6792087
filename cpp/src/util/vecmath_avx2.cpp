// vecmath_avx2.cpp: the array entry points of vecmath_simd.h (vecmath.h) on
// Vec8, 8 lanes of AVX2 + FMA (the avx2 path), for tests.
#include "util/simd_vec.h"
#include "util/vecmath_simd.h"

namespace fastnn::vecmath::avx2 {

const ArraySet arrays = simd::array_set<simd_ymm2::Vec8>();

}  // namespace fastnn::vecmath::avx2
