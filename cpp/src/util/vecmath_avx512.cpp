// vecmath_avx512.cpp: the array entry points of vecmath_simd.h (vecmath.h) on
// Vec16 on zmm, AVX-512 (the avx512 path), for tests.
#include "util/simd_vec.h"
#include "util/vecmath_simd.h"

namespace fastnn::vecmath::avx512 {

const ArraySet arrays = simd::array_set<simd_zmm::Vec16>();

}  // namespace fastnn::vecmath::avx512
