// simd_vec.h: Vec16, a 16-lane float vector written once and compiled two ways.
//
//   compiled with -mavx512f (files *_avx512.cpp): one native __m512, masks are
//     __mmask16 and masked loads/stores are single instructions;
//   compiled with -mavx2 only (files *_avx2.cpp): two __m256 halves (lo = lanes
//     0-7, hi = lanes 8-15), masks are two lane masks for vmaskmovps.
//
// Kernels written over Vec16 (the 16-lane GEMM micro-kernel, ukernel_w16.h)
// therefore run the exact same tile shape, lane loops and edge masks on every
// x86-64 machine with AVX2: natively where the CPU has AVX-512, emulated by
// ymm pairs elsewhere, so the tests exercise the 16-lane code path everywhere.
// Every operation is lane-wise and identical in both forms (same FMA, same
// rounding), so both forms give bit-identical results.
//
// Include only from a per-ISA translation unit. Everything here sits in an
// anonymous namespace inside a namespace named after the form, so the AVX-512
// and AVX2 copies of these inline functions can never be merged by the linker
// (no AVX-512 code can leak into an AVX2 caller or vice versa).
#pragma once

#include <immintrin.h>

#include <cstdint>

#if defined(__AVX512F__)
#define FASTNN_VEC16_NATIVE 1
namespace fastnn::simd_zmm {
#else
#define FASTNN_VEC16_NATIVE 0
namespace fastnn::simd_ymm2 {
#endif
namespace {

#if FASTNN_VEC16_NATIVE

struct Vec16 {
  __m512 v;
};
// Lanes [0, n) of a 16-lane vector, n in [0, 16].
struct Mask16 {
  __mmask16 m;
};

inline Mask16 first_n(std::int64_t n) {
  return {static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1u)};
}
inline Vec16 zero() { return {_mm512_setzero_ps()}; }
inline Vec16 set1(float x) { return {_mm512_set1_ps(x)}; }
inline Vec16 bcast(const float* p) { return {_mm512_set1_ps(*p)}; }
inline Vec16 load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void store(float* p, Vec16 x) { _mm512_storeu_ps(p, x.v); }
// Masked: lanes outside the mask are not read (load gives 0) / not written.
inline Vec16 load(const float* p, Mask16 m) { return {_mm512_maskz_loadu_ps(m.m, p)}; }
inline void store(float* p, Vec16 x, Mask16 m) { _mm512_mask_storeu_ps(p, m.m, x.v); }
inline Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline Vec16 mul(Vec16 a, Vec16 b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline Vec16 add(Vec16 a, Vec16 b) { return {_mm512_add_ps(a.v, b.v)}; }

#else

struct Vec16 {
  __m256 lo, hi;
};
struct Mask16 {
  __m256i lo, hi;
};

inline Mask16 first_n(std::int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i vn = _mm256_set1_epi32(static_cast<int>(n > 16 ? 16 : n));
  return {_mm256_cmpgt_epi32(vn, idx),
          _mm256_cmpgt_epi32(vn, _mm256_add_epi32(idx, _mm256_set1_epi32(8)))};
}
inline Vec16 zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline Vec16 set1(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
inline Vec16 bcast(const float* p) {
  const __m256 x = _mm256_broadcast_ss(p);
  return {x, x};
}
inline Vec16 load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
inline void store(float* p, Vec16 x) {
  _mm256_storeu_ps(p, x.lo);
  _mm256_storeu_ps(p + 8, x.hi);
}
inline Vec16 load(const float* p, Mask16 m) {
  return {_mm256_maskload_ps(p, m.lo), _mm256_maskload_ps(p + 8, m.hi)};
}
inline void store(float* p, Vec16 x, Mask16 m) {
  _mm256_maskstore_ps(p, m.lo, x.lo);
  _mm256_maskstore_ps(p + 8, m.hi, x.hi);
}
inline Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) {
  return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
inline Vec16 mul(Vec16 a, Vec16 b) {
  return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)};
}
inline Vec16 add(Vec16 a, Vec16 b) {
  return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)};
}

#endif

}  // namespace
}  // namespace fastnn::simd_zmm / simd_ymm2
