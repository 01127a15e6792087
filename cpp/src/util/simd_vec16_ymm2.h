// simd_vec16_ymm2.h: Vec16 as two Vec8 halves (lo = lanes 0-7, hi = lanes 8-15),
// for *_avx2.cpp files. Part of util/simd_vec.h (include that).
//
// Every operation is the Vec8 operation on each half (util/simd_vec8.h), so a
// lane of Vec16 here computes exactly what the same lane of Vec8 computes, and
// what the native form (util/simd_vec16_zmm.h) computes with the same instruction
// on a zmm register.
#pragma once

#include "util/simd_vec8.h"

namespace fastnn::simd_ymm2 {
namespace {

struct Mask16;
struct Int16;
struct Vec16ViaF64;

struct Vec16 {
  static constexpr int kWidth = 16;
  using Mask = Mask16;
  using Int = Int16;
  using Sum = Sum8d;
  using ViaF64 = Vec16ViaF64;  // the same lanes computed in double (util/simd_via_f64.h)
  Vec8 lo, hi;

  static Vec16 zero() { return {Vec8::zero(), Vec8::zero()}; }
  static Vec16 splat(float x) { return {Vec8::splat(x), Vec8::splat(x)}; }
  static Vec16 bcast(const float* p) {
    const Vec8 x = Vec8::bcast(p);
    return {x, x};
  }
  static Vec16 load(const float* p) { return {Vec8::load(p), Vec8::load(p + 8)}; }
  static inline Vec16 load(const float* p, Mask16 m);
  void store(float* p) const {
    lo.store(p);
    hi.store(p + 8);
  }
  inline void store(float* p, Mask16 m) const;
};

struct Mask16 {
  Mask8 lo, hi;
  // Lanes [0, n), n in [0, 16] (larger n: all lanes).
  static Mask16 first_n(std::int64_t n) { return {Mask8::first_n(n), Mask8::first_n(n - 8)}; }
};
inline Mask16 operator|(Mask16 a, Mask16 b) { return {a.lo | b.lo, a.hi | b.hi}; }
inline Mask16 operator&(Mask16 a, Mask16 b) { return {a.lo & b.lo, a.hi & b.hi}; }
inline bool any(Mask16 a) { return any(a.lo | a.hi); }

struct Int16 {
  Int8 lo, hi;
  static Int16 splat(std::int32_t x) { return {Int8::splat(x), Int8::splat(x)}; }
};

inline Vec16 Vec16::load(const float* p, Mask16 m) {
  return {Vec8::load(p, m.lo), Vec8::load(p + 8, m.hi)};
}
inline void Vec16::store(float* p, Mask16 m) const {
  lo.store(p, m.lo);
  hi.store(p + 8, m.hi);
}

inline Vec16 operator+(Vec16 a, Vec16 b) { return {a.lo + b.lo, a.hi + b.hi}; }
inline Vec16 operator-(Vec16 a, Vec16 b) { return {a.lo - b.lo, a.hi - b.hi}; }
inline Vec16 operator*(Vec16 a, Vec16 b) { return {a.lo * b.lo, a.hi * b.hi}; }
inline Vec16 operator/(Vec16 a, Vec16 b) { return {a.lo / b.lo, a.hi / b.hi}; }
inline Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) {
  return {fmadd(a.lo, b.lo, c.lo), fmadd(a.hi, b.hi, c.hi)};
}
inline Vec16 fnmadd(Vec16 a, Vec16 b, Vec16 c) {
  return {fnmadd(a.lo, b.lo, c.lo), fnmadd(a.hi, b.hi, c.hi)};
}
inline Vec16 sqrt(Vec16 a) { return {sqrt(a.lo), sqrt(a.hi)}; }
inline Vec16 min(Vec16 a, Vec16 b) { return {min(a.lo, b.lo), min(a.hi, b.hi)}; }
inline Vec16 max(Vec16 a, Vec16 b) { return {max(a.lo, b.lo), max(a.hi, b.hi)}; }
inline Vec16 round_nearest(Vec16 a) { return {round_nearest(a.lo), round_nearest(a.hi)}; }

inline Vec16 bit_and(Vec16 a, Vec16 b) { return {bit_and(a.lo, b.lo), bit_and(a.hi, b.hi)}; }
inline Vec16 bit_andnot(Vec16 a, Vec16 b) {
  return {bit_andnot(a.lo, b.lo), bit_andnot(a.hi, b.hi)};
}
inline Vec16 bit_or(Vec16 a, Vec16 b) { return {bit_or(a.lo, b.lo), bit_or(a.hi, b.hi)}; }
inline Vec16 bit_xor(Vec16 a, Vec16 b) { return {bit_xor(a.lo, b.lo), bit_xor(a.hi, b.hi)}; }
inline Vec16 operator-(Vec16 a) { return {-a.lo, -a.hi}; }

inline Mask16 lt(Vec16 a, Vec16 b) { return {lt(a.lo, b.lo), lt(a.hi, b.hi)}; }
inline Mask16 le(Vec16 a, Vec16 b) { return {le(a.lo, b.lo), le(a.hi, b.hi)}; }
inline Mask16 gt(Vec16 a, Vec16 b) { return {gt(a.lo, b.lo), gt(a.hi, b.hi)}; }
inline Mask16 eq(Vec16 a, Vec16 b) { return {eq(a.lo, b.lo), eq(a.hi, b.hi)}; }
inline Mask16 not_lt(Vec16 a, Vec16 b) { return {not_lt(a.lo, b.lo), not_lt(a.hi, b.hi)}; }
inline Mask16 unordered(Vec16 a, Vec16 b) { return {unordered(a.lo, b.lo), unordered(a.hi, b.hi)}; }
inline Vec16 select(Mask16 m, Vec16 a, Vec16 b) {
  return {select(m.lo, a.lo, b.lo), select(m.hi, a.hi, b.hi)};
}

inline Int16 to_int(Vec16 a) { return {to_int(a.lo), to_int(a.hi)}; }
inline Vec16 to_float(Int16 a) { return {to_float(a.lo), to_float(a.hi)}; }
inline Int16 bits(Vec16 a) { return {bits(a.lo), bits(a.hi)}; }
inline Vec16 from_bits(Int16 a) { return {from_bits(a.lo), from_bits(a.hi)}; }

inline Int16 operator+(Int16 a, Int16 b) { return {a.lo + b.lo, a.hi + b.hi}; }
inline Int16 operator-(Int16 a, Int16 b) { return {a.lo - b.lo, a.hi - b.hi}; }
inline Int16 operator&(Int16 a, Int16 b) { return {a.lo & b.lo, a.hi & b.hi}; }
inline Int16 operator|(Int16 a, Int16 b) { return {a.lo | b.lo, a.hi | b.hi}; }
inline Int16 shl(Int16 a, int k) { return {shl(a.lo, k), shl(a.hi, k)}; }
inline Int16 shr_logical(Int16 a, int k) { return {shr_logical(a.lo, k), shr_logical(a.hi, k)}; }
inline Int16 shr_arith(Int16 a, int k) { return {shr_arith(a.lo, k), shr_arith(a.hi, k)}; }
inline Mask16 gt(Int16 a, Int16 b) { return {gt(a.lo, b.lo), gt(a.hi, b.hi)}; }

// max over the lanes: the halves lane-wise, then Vec8's fold.
inline float hmax(Vec16 a) { return hmax(max(a.lo, a.hi)); }

// Lanes 0-7 into s[0..7], then lanes 8-15 into s[0..7]: the order in which the
// 8-lane kernels add the same 16 floats.
inline void accumulate(Sum8d& s, Vec16 a) {
  accumulate(s, a.lo);
  accumulate(s, a.hi);
}
inline void accumulate_product(Sum8d& s, Vec16 a, Vec16 b) {
  accumulate_product(s, a.lo, b.lo);
  accumulate_product(s, a.hi, b.hi);
}

}  // namespace
}  // namespace fastnn::simd_ymm2
