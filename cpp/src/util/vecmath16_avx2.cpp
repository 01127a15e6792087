// vecmath16_avx2.cpp: the array entry points of vecmath_simd.h (vecmath.h) on
// Vec16 on ymm pairs, AVX2 + FMA (the avx512emu path), for tests.
#include "util/simd_vec.h"
#include "util/vecmath_simd.h"

namespace fastnn::vecmath::avx512emu {

const ArraySet arrays = simd::array_set<simd_ymm2::Vec16>();

}  // namespace fastnn::vecmath::avx512emu
