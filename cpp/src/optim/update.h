// update.h: the per-element update of each optimizer, written once over a vector type.
//
// V is Scalar (below) or a vector of util/simd_vec.h (Vec8, Vec16; update_avx2.cpp,
// update16_avx2.cpp, update_avx512.cpp) with the same operations: load, store,
// splat, + - * /, unary -, sqrt and nan_max. Every operation is IEEE correctly
// rounded and none is fused (those files are compiled without contraction), so each
// lane computes exactly what the scalar code computes (torch's order of float32
// operations, see optim.h). The one exception, div_bc2, uses explicit FMAs to get
// exactly the division's bits without the divider.
//
// Everything here has internal linkage (an unnamed namespace): each instruction-set
// file compiles its own copy with its own flags, so the linker can never substitute
// an AVX2-compiled Update<Scalar> into the portable path.
#pragma once

#include <cfloat>
#include <cmath>
#include <type_traits>

#include "optim/scalars.h"

namespace fastnn::optim_detail {
namespace {

struct Scalar {
  static constexpr index_t kWidth = 1;
  float v;
  static Scalar load(const float* p) { return {*p}; }
  static Scalar splat(float x) { return {x}; }
  void store(float* p) const { *p = v; }
};
inline Scalar operator+(Scalar a, Scalar b) { return {a.v + b.v}; }
inline Scalar operator-(Scalar a, Scalar b) { return {a.v - b.v}; }
inline Scalar operator*(Scalar a, Scalar b) { return {a.v * b.v}; }
inline Scalar operator/(Scalar a, Scalar b) { return {a.v / b.v}; }
inline Scalar operator-(Scalar a) { return {-a.v}; }
inline Scalar sqrt(Scalar a) { return {std::sqrt(a.v)}; }
// torch.maximum(vmax, v): NaN in v propagates (and NaN in vmax, since v > NaN is false).
inline Scalar nan_max(Scalar v, Scalar vmax) { return (v.v > vmax.v || v.v != v.v) ? v : vmax; }
// The same lane by lane for a SIMD vector V.
template <class V>
inline V nan_max(V v, V vmax) { return select(gt(v, vmax) | unordered(v, v), v, vmax); }

// RMSprop's centered variance s - ga^2. Where s has overflowed to inf it stays inf (the
// variance is at least 0, and torch's fused addcmul gives inf there too): ga^2 may have
// overflowed as well, and inf - inf made the parameter NaN for good (a gradient of 1e38).
inline Scalar centered_variance(Scalar s, Scalar ga) {
  return {s.v == INFINITY ? s.v : s.v + (-1.0f * ga.v) * ga.v};
}
template <class V>
inline V centered_variance(V s, V ga) {
  return select(gt(s, V::splat(FLT_MAX)), s, s + V::splat(-1.0f) * ga * ga);
}

// Whether V computes its float lanes in double (V::ViaF64 of a float vector type).
template <class V, class = void>
constexpr bool is_via_f64 = false;
template <class V>
constexpr bool is_via_f64<V, std::void_t<decltype(V::kViaF64)>> = true;

// a / bc2_sqrt, correctly rounded: the scalar path divides. The vector paths divide
// through y = RN(1 / b) instead, the divider being what bounds Adam's update where its
// buffers are in cache (three of its operations per element; on a Xeon the update of
// 51K parameters took 35 us with this one on the divider, 27 us without):
//   q0 = RN(a y)                     within 1.5 ulp of a / b,
//   q1 = RN(q0 + RN(a - b q0) y)     within 0.5 ulp + 2^-22 ulp: faithful,
//   q2 = RN(q1 + (a - b q1) y)       = RN(a / b)  (Markstein: y within half an ulp of
//                                    1 / b, q1 faithful, a - b q1 then exact).
// Each fnmadd / fmadd rounds once. Valid without overflow or underflow: b in [2^-60,
// 2^60] (bc2_recip_exact) and a = sqrt(v) is 0 or at least sqrt(2^-149) = 2^-74.5; a
// of 0, inf or NaN takes q0, which is then exact (a - b q0 would be NaN for inf, and
// q1 would lose the sign of -0). Every a in [1, 2) against the division, for 683,899
// divisors (every step t of eleven beta2 values from 0 to 0.99999 until the divisor
// rounds to 1, 60,000 random ones, all-ones mantissas): no difference in q2, nor in q1.
inline Scalar div_bc2(Scalar a, const StepScalars& c) { return {a.v / c.bc2_sqrt}; }
template <class V>
inline V div_bc2(V a, const StepScalars& c) {
  const V b = V::splat(c.bc2_sqrt);
  if constexpr (is_via_f64<V>) {
    return a / b;  // a division in double, no divider cost to save (util/simd_via_f64.h)
  } else {
    if (!c.bc2_recip_exact) return a / b;
    const V y = V::splat(c.bc2_recip);
    const V q0 = a * y;
    const V q1 = fmadd(fnmadd(b, q0, a), y, q0);
    const V q2 = fmadd(fnmadd(b, q1, a), y, q1);
    const V magnitude = bit_andnot(V::splat(-0.0f), q0);
    return select(gt(magnitude, V::zero()) & lt(magnitude, V::splat(INFINITY)), q2, q0);
  }
}

template <class V>
struct Update {
  template <bool kFromEnd>
  static V lerp(const Lerp& l, V a, V b) { return (kFromEnd ? b : a) + V::splat(l.k) * (b - a); }

  static V gradient(const StepScalars& c, const OptimTensor& t, index_t i) {
    V g = V::load(t.grad + i);
    return c.maximize ? -g : g;
  }

  // Options that decide which buffers are stored or which operand is selected are
  // template arguments, so that each loop is free of control flow (and GCC
  // vectorizes the portable one too).
  template <bool kMomentum, bool kInit>
  static void sgd(const StepScalars& c, const OptimTensor& t, index_t i) {
    V g = gradient(c, t, i);
    const V p = V::load(t.param + i);
    if (c.decay) g = g + V::splat(c.wd) * p;
    if constexpr (kMomentum) {
      V buf = g;
      if constexpr (!kInit)
        buf = V::load(t.state[0] + i) * V::splat(c.momentum) + V::splat(c.keep) * g;
      buf.store(t.state[0] + i);
      g = c.nesterov ? g + V::splat(c.momentum) * buf : buf;
    }
    (p + V::splat(c.neg_lr) * g).store(t.param + i);
  }

  template <bool kAmsgrad, bool kFromEnd>
  static void adam(const StepScalars& c, const OptimTensor& t, index_t i) {
    V g = gradient(c, t, i);
    const V p = V::load(t.param + i) * V::splat(c.shrink);
    if (c.decay) g = g + V::splat(c.wd) * p;
    const V m = lerp<kFromEnd>(c.lerp, V::load(t.state[0] + i), g);
    const V v = V::load(t.state[1] + i) * V::splat(c.b2) + V::splat(c.one_minus_b2) * g * g;
    m.store(t.state[0] + i);
    v.store(t.state[1] + i);
    V vhat = v;
    if constexpr (kAmsgrad) {
      vhat = nan_max(v, V::load(t.state[2] + i));
      vhat.store(t.state[2] + i);
    }
    const V denom = div_bc2(sqrt(vhat), c) + V::splat(c.eps);
    (p + V::splat(c.neg_lr) * m / denom).store(t.param + i);
  }

  template <bool kCentered, bool kMomentum, bool kFromEnd>
  static void rmsprop(const StepScalars& c, const OptimTensor& t, index_t i) {
    V g = gradient(c, t, i);
    const V p = V::load(t.param + i);
    if (c.decay) g = g + V::splat(c.wd) * p;
    const V s = V::load(t.state[0] + i) * V::splat(c.alpha) + V::splat(c.one_minus_alpha) * g * g;
    s.store(t.state[0] + i);
    V avg;
    if constexpr (kCentered) {
      const V ga = lerp<kFromEnd>(c.lerp, V::load(t.state[1] + i), g);
      ga.store(t.state[1] + i);
      avg = sqrt(centered_variance(s, ga));
    } else {
      avg = sqrt(s);
    }
    avg = avg + V::splat(c.eps);
    if constexpr (kMomentum) {
      const V buf = V::load(t.state[2] + i) * V::splat(c.momentum) + g / avg;
      buf.store(t.state[2] + i);
      (p + V::splat(c.neg_lr) * buf).store(t.param + i);
    } else {
      (p + V::splat(c.neg_lr) * g / avg).store(t.param + i);
    }
  }

  static void adagrad(const StepScalars& c, const OptimTensor& t, index_t i) {
    V g = gradient(c, t, i);
    const V p = V::load(t.param + i);
    if (c.decay) g = g + V::splat(c.wd) * p;
    const V s = V::load(t.state[0] + i) + g * g;
    s.store(t.state[0] + i);
    (p + V::splat(c.neg_lr) * g / (sqrt(s) + V::splat(c.eps))).store(t.param + i);
  }
};

// Whether the float vector V at element i of t holds, in one of the state buffers in
// the bit set kDecaying (bit k: t.state[k]), a nonzero value below 2^-100, whose
// products with the step's factors can be or become subnormal (util/simd_via_f64.h:
// a multiply or divide then costs about 110 cycles on a Xeon). These are the
// averages that decay while the gradient is 0: for a weight whose gradient stays 0
// (an unused input, a dead unit) Adam's exp_avg sinks into the subnormals within
// about 800 steps and stays there (77% of them after 100 epochs of the README's
// quick start, which spent most of its time in such assists). Adam's exp_avg_sq
// (0.999 a step) takes some 70,000 steps, long after its exp_avg: not checked, nor
// are gradients and parameters (rarely that small; each buffer checked costs about
// 10 instructions a vector). Only a choice between two exact computations: both give
// the same bits.
template <class V, unsigned kDecaying>
bool near_subnormal(const OptimTensor& t, index_t i) {
  const V sign = V::splat(-0.0f), zero = V::zero(), limit = V::splat(0x1p-100f);
  typename V::Mask found{};  // no lane set
  for (int k = 0; k < 3; ++k) {
    if (!(kDecaying >> k & 1u)) continue;
    const V a = bit_andnot(sign, V::load(t.state[k] + i));
    found = found | (gt(a, zero) & lt(a, limit));
  }
  return any(found);
}

// Elements [begin, end) of t with one update: V-wide steps (through V::ViaF64 where
// near_subnormal, when c.route_subnormals), then the rest one at a time. The updates
// are template arguments so that they inline into the loop.
using UpdateAt = void (*)(const StepScalars&, const OptimTensor&, index_t);
template <class V, unsigned kDecaying, UpdateAt Wide, UpdateAt WideViaF64, UpdateAt One>
void loop(const StepScalars& scalars, const OptimTensor& tensor, index_t begin, index_t end) {
  // Local copies: stores to the float buffers cannot alias them, so every scalar and
  // flag is loop-invariant for the vectorizer.
  const StepScalars c = scalars;
  const OptimTensor t = tensor;
  index_t i = begin;
  if constexpr (V::kWidth > 1) {
    for (; i + V::kWidth <= end; i += V::kWidth) {
      if (kDecaying != 0 && c.route_subnormals && near_subnormal<V, kDecaying>(t, i))
        WideViaF64(c, t, i);
      else
        Wide(c, t, i);
    }
  }
  for (; i < end; ++i) One(c, t, i);
}

// V's double-precision form (Scalar: itself; the portable path keeps its assists).
template <class V>
struct ViaF64Of {
  using type = typename V::ViaF64;
};
template <>
struct ViaF64Of<Scalar> {
  using type = Scalar;
};

// out[i] = div_bc2(a[i]) for i < n: V-wide steps, then the rest one at a time.
template <class V>
void bc2_division(const StepScalars& c, const float* a, float* out, index_t n) {
  index_t i = 0;
  if constexpr (V::kWidth > 1)
    for (; i + V::kWidth <= n; i += V::kWidth) div_bc2(V::load(a + i), c).store(out + i);
  for (; i < n; ++i) div_bc2(Scalar{a[i]}, c).store(out + i);
}

// One update with its options fixed, as loop()'s functions.
template <class V, class Op>
void run(const StepScalars& c, const OptimTensor& t, index_t begin, index_t end) {
  loop<V, Op::kDecaying, &Op::template apply<V>,
       &Op::template apply<typename ViaF64Of<V>::type>, &Op::template apply<Scalar>>(c, t, begin,
                                                                                      end);
}

template <bool kMomentum, bool kInit>
struct Sgd {
  // momentum_buffer (not read on the step that creates it)
  static constexpr unsigned kDecaying = kMomentum && !kInit ? 1u : 0u;
  template <class V>
  static void apply(const StepScalars& c, const OptimTensor& t, index_t i) {
    Update<V>::template sgd<kMomentum, kInit>(c, t, i);
  }
};

template <bool kAmsgrad, bool kFromEnd>
struct Adam {
  static constexpr unsigned kDecaying = 1u;  // exp_avg
  template <class V>
  static void apply(const StepScalars& c, const OptimTensor& t, index_t i) {
    Update<V>::template adam<kAmsgrad, kFromEnd>(c, t, i);
  }
};

template <bool kCentered, bool kMomentum, bool kFromEnd>
struct Rmsprop {
  // square_avg (alpha 0.99 by default: it reaches the subnormals too), grad_avg, buffer
  static constexpr unsigned kDecaying = 1u | (kCentered ? 2u : 0u) | (kMomentum ? 4u : 0u);
  template <class V>
  static void apply(const StepScalars& c, const OptimTensor& t, index_t i) {
    Update<V>::template rmsprop<kCentered, kMomentum, kFromEnd>(c, t, i);
  }
};

struct Adagrad {
  static constexpr unsigned kDecaying = 0u;  // its sum only grows
  template <class V>
  static void apply(const StepScalars& c, const OptimTensor& t, index_t i) {
    Update<V>::adagrad(c, t, i);
  }
};

template <class V, bool kCentered, bool kMomentum>
void run_rmsprop(const StepScalars& c, const OptimTensor& t, index_t begin, index_t end) {
  if (kCentered && c.lerp.from_end)
    return run<V, Rmsprop<kCentered, kMomentum, true>>(c, t, begin, end);
  run<V, Rmsprop<kCentered, kMomentum, false>>(c, t, begin, end);
}

template <class V>
void update_range(OptimKind kind, const StepScalars& c, const OptimTensor& t, index_t begin,
                  index_t end) {
  const bool from_end = c.lerp.from_end;
  switch (kind) {
    case OptimKind::sgd:
      if (!c.use_momentum) return run<V, Sgd<false, false>>(c, t, begin, end);
      if (c.init_buffer) return run<V, Sgd<true, true>>(c, t, begin, end);
      return run<V, Sgd<true, false>>(c, t, begin, end);
    case OptimKind::adam:
      if (c.amsgrad)
        return from_end ? run<V, Adam<true, true>>(c, t, begin, end)
                        : run<V, Adam<true, false>>(c, t, begin, end);
      return from_end ? run<V, Adam<false, true>>(c, t, begin, end)
                      : run<V, Adam<false, false>>(c, t, begin, end);
    case OptimKind::rmsprop:
      if (c.centered)
        return c.use_momentum ? run_rmsprop<V, true, true>(c, t, begin, end)
                              : run_rmsprop<V, true, false>(c, t, begin, end);
      return c.use_momentum ? run_rmsprop<V, false, true>(c, t, begin, end)
                            : run_rmsprop<V, false, false>(c, t, begin, end);
    case OptimKind::adagrad:
      return run<V, Adagrad>(c, t, begin, end);
  }
}

}  // namespace
}  // namespace fastnn::optim_detail
