// optimizer_step.cpp: one fused, threaded update of a whole parameter group (optim.h).
//
// The group's tensors form one index space [0, total): with several threads each
// takes one contiguous slice of it (cut at multiples of kSliceAlign, so SIMD loops
// mostly run full vectors) and walks the tensors that slice covers. Updates are
// element-wise, so any split gives the same bits.
#include <algorithm>
#include <cstring>

#include "fastnn/optim.h"
#include "fastnn/threads.h"
#include "optim/scalars.h"
#include "util/cpu_features.h"
#include "util/isa.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn {

namespace {

using RangeFn = void (*)(OptimKind, const optim_detail::StepScalars&, const OptimTensor&, index_t,
                         index_t);

constexpr index_t kSliceAlign = 16;  // one Vec16, two Vec8

// The element-wise path an OptimIsa names (best: the active one).
EwIsa path_of(OptimIsa isa) {
  switch (isa) {
    case OptimIsa::scalar:
      return EwIsa::scalar;
    case OptimIsa::avx2:
      return EwIsa::avx2;
    case OptimIsa::avx512emu:
      return EwIsa::avx512emu;
    case OptimIsa::avx512:
      return EwIsa::avx512;
    case OptimIsa::best:
      break;
  }
  return elementwise_isa();
}

RangeFn range_fn(OptimIsa isa) {
  switch (path_of(isa)) {
#if FASTNN_X86_SIMD
    case EwIsa::avx512:
      return &optim_detail::update_range_avx512;
    case EwIsa::avx512emu:
      return &optim_detail::update_range_avx512emu;
    case EwIsa::avx2:
      return &optim_detail::update_range_avx2;
#endif
    default:  // optim_isa_supported() rejects the SIMD paths in a build without them
      return &optim_detail::update_range_scalar;
  }
}

// Whether the update loops route vectors near the subnormals through double precision
// (optim/update.h: near_subnormal). Intel cores take a microcode assist of about 110
// cycles for a multiply or divide with a subnormal operand or result (measured on a
// Xeon), which the double-precision form avoids at about 5x the cost of a plain
// vector; AMD's Zen cores handle subnormals in hardware at little cost (an EPYC 9655
// ran a subnormal-heavy kernel 1.2x faster with flush-to-zero, a Xeon 8468 10.3x),
// where the plain vector is cheaper. A path forced by name (the tests) always routes,
// so that every x86 machine runs both forms. Either way the bits are the same.
bool route_subnormals(OptimIsa isa) { return isa != OptimIsa::best || cpu_features().intel; }

// Updates the elements [lo, hi) of the group's index space.
void update_slice(const OptimOptions& o, RangeFn fn, bool route, const OptimTensor* t,
                  index_t count, index_t lo, index_t hi) {
  index_t base = 0;
  for (index_t k = 0; k < count && base < hi; base += t[k].n, ++k) {
    const index_t begin = std::max(lo, base) - base;
    const index_t end = std::min(hi, base + t[k].n) - base;
    if (begin >= end) continue;
    optim_detail::StepScalars c = optim_detail::step_scalars(o, t[k].step);
    c.route_subnormals = route;
    fn(o.kind, c, t[k], begin, end);
  }
}

}  // namespace

bool optim_isa_supported(OptimIsa isa) { return ew_isa_runs(path_of(isa)); }

void optimizer_step(const OptimOptions& options, const OptimTensor* tensors, index_t count,
                    OptimIsa isa) {
  const RangeFn fn = range_fn(isa);
  const bool route = route_subnormals(isa);
  index_t total = 0;
  for (index_t k = 0; k < count; ++k) total += tensors[k].n;
#ifdef _OPENMP
  if (total > kOptimParallelThreshold && team_threads() > 1) {
#pragma omp parallel num_threads(team_threads())
    {
      const index_t nth = omp_get_num_threads(), tid = omp_get_thread_num();
      const index_t per = ((total + nth - 1) / nth + kSliceAlign - 1) / kSliceAlign * kSliceAlign;
      const index_t lo = std::min(total, tid * per), hi = std::min(total, lo + per);
      update_slice(options, fn, route, tensors, count, lo, hi);
    }
    return;
  }
#endif
  update_slice(options, fn, route, tensors, count, 0, total);
}

void adam_bc2_division(const float* a, float* out, index_t n, double beta2, std::int64_t step,
                       OptimIsa isa) {
  OptimOptions o;
  o.kind = OptimKind::adam;
  o.beta2 = beta2;
  const optim_detail::StepScalars c = optim_detail::step_scalars(o, step);
  switch (path_of(isa)) {
#if FASTNN_X86_SIMD
    case EwIsa::avx512:
      return optim_detail::bc2_division_avx512(c, a, out, n);
    case EwIsa::avx512emu:
      return optim_detail::bc2_division_avx512emu(c, a, out, n);
    case EwIsa::avx2:
      return optim_detail::bc2_division_avx2(c, a, out, n);
#endif
    default:
      return optim_detail::bc2_division_scalar(c, a, out, n);
  }
}

index_t coalesce_tensors(OptimTensor* t, index_t count) {
  if (count == 0) return 0;
  index_t last = 0;
  for (index_t k = 1; k < count; ++k) {
    OptimTensor& a = t[last];
    const OptimTensor& b = t[k];
    bool adjacent = b.step == a.step && b.param == a.param + a.n && b.grad == a.grad + a.n;
    for (int s = 0; s < 3 && adjacent; ++s)
      adjacent = a.state[s] == nullptr ? b.state[s] == nullptr : b.state[s] == a.state[s] + a.n;
    if (adjacent)
      a.n += b.n;
    else
      t[++last] = b;
  }
  return last + 1;
}

// -- single-tensor forms ------------------------------------------------------

void sgd_step(float* param, float* momentum_buffer, const float* grad, index_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool maximize, bool init_buffer) {
  OptimOptions o;
  o.kind = OptimKind::sgd;
  o.lr = lr, o.momentum = momentum, o.dampening = dampening, o.weight_decay = weight_decay;
  o.nesterov = nesterov, o.maximize = maximize;
  const OptimTensor t{param, grad, {momentum_buffer, nullptr, nullptr}, n, init_buffer ? 1 : 2};
  optimizer_step(o, &t, 1);
}

void adam_step(float* param, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
               const float* grad, index_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay,
               std::int64_t step) {
  OptimOptions o;
  o.kind = OptimKind::adam;
  o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.weight_decay = weight_decay;
  o.amsgrad = amsgrad, o.maximize = maximize, o.decoupled_weight_decay = decoupled_weight_decay;
  const OptimTensor t{param, grad, {exp_avg, exp_avg_sq, max_exp_avg_sq}, n, step};
  optimizer_step(o, &t, 1);
}

void rmsprop_step(float* param, float* square_avg, float* grad_avg, float* momentum_buffer,
                  const float* grad, index_t n, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize) {
  OptimOptions o;
  o.kind = OptimKind::rmsprop;
  o.lr = lr, o.alpha = alpha, o.eps = eps, o.weight_decay = weight_decay;
  o.momentum = momentum, o.centered = centered, o.maximize = maximize;
  const OptimTensor t{param, grad, {square_avg, grad_avg, momentum_buffer}, n, 1};
  optimizer_step(o, &t, 1);
}

void adagrad_step(float* param, float* sum, const float* grad, index_t n, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize,
                  std::int64_t step) {
  OptimOptions o;
  o.kind = OptimKind::adagrad;
  o.lr = lr, o.lr_decay = lr_decay, o.weight_decay = weight_decay, o.eps = eps;
  o.maximize = maximize;
  const OptimTensor t{param, grad, {sum, nullptr, nullptr}, n, step};
  optimizer_step(o, &t, 1);
}

}  // namespace fastnn
