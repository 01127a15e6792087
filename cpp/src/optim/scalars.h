// scalars.h: the float32 scalars of one optimizer step, derived once per tensor span.
//
// torch computes bias corrections and step sizes in double (Python floats) and
// hands float32 scalars to its float kernels; step_scalars does the same, so the
// update loops (update.h) see exactly torch's operands.
#pragma once

#include <cmath>
#include <cstdint>

#include "fastnn/optim.h"

namespace fastnn::optim_detail {

// PyTorch's torch.lerp(a, b, w) = a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w)
// (ATen/native/Lerp.h; the two forms keep the result exact at w = 0 and w = 1). Both
// are written base + k (b - a) with base = a, k = w or base = b, k = -(1 - w).
struct Lerp {
  bool from_end = false;  // |w| >= 0.5: interpolate back from b
  float k = 0.0f;

  Lerp() = default;
  explicit Lerp(float w) : from_end(!(std::fabs(w) < 0.5f)), k(from_end ? -(1.0f - w) : w) {}
};

struct StepScalars {
  float neg_lr = 0.0f;  // sgd, rmsprop: -lr; adam: -lr / (1 - b1^t); adagrad: -lr / (1 + (t-1) decay)
  float wd = 0.0f;
  bool decay = false;   // add wd p to the gradient (coupled weight decay)
  bool maximize = false;
  float eps = 0.0f;
  // sgd
  float momentum = 0.0f, keep = 0.0f;  // keep = 1 - dampening
  bool use_momentum = false, nesterov = false, init_buffer = false;
  // adam
  float b2 = 0.0f, one_minus_b2 = 0.0f, bc2_sqrt = 1.0f;
  // Whether the vector paths update vectors near the subnormals in double precision
  // (update.h: near_subnormal; set by optimizer_step, not by step_scalars).
  bool route_subnormals = false;
  // 1 / bc2_sqrt rounded, and whether the vector paths may divide by bc2_sqrt through it
  // (update.h: div_bc2; bc2_sqrt in [2^-60, 2^60], so nothing overflows or underflows).
  float bc2_recip = 1.0f;
  bool bc2_recip_exact = false;
  float shrink = 1.0f;  // 1 - lr wd for AdamW, else 1 (p * 1 == p exactly)
  bool amsgrad = false;
  // rmsprop (also uses momentum / use_momentum)
  float alpha = 0.0f, one_minus_alpha = 0.0f;
  bool centered = false;
  Lerp lerp;  // adam: weight 1 - b1; rmsprop: weight 1 - alpha
};

inline StepScalars step_scalars(const OptimOptions& o, std::int64_t step) {
  StepScalars c;
  c.wd = static_cast<float>(o.weight_decay);
  c.decay = o.weight_decay != 0.0;
  c.maximize = o.maximize;
  c.eps = static_cast<float>(o.eps);
  const double t = static_cast<double>(step);
  switch (o.kind) {
    case OptimKind::sgd:
      c.neg_lr = static_cast<float>(-o.lr);
      c.momentum = static_cast<float>(o.momentum);
      c.keep = static_cast<float>(1.0 - o.dampening);
      c.use_momentum = o.momentum != 0.0;
      c.nesterov = o.nesterov;
      c.init_buffer = step <= 1;
      break;
    case OptimKind::adam: {
      // step_size = lr / (1 - b1^t),  denom = sqrt(v) / sqrt(1 - b2^t) + eps.
      const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
      const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
      c.neg_lr = static_cast<float>(-(o.lr / bias_correction1));
      c.bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
      c.bc2_recip = 1.0f / c.bc2_sqrt;
      c.bc2_recip_exact = c.bc2_sqrt >= 0x1p-60f && c.bc2_sqrt <= 0x1p60f;
      c.b2 = static_cast<float>(o.beta2);
      c.one_minus_b2 = static_cast<float>(1.0 - o.beta2);
      c.lerp = Lerp(static_cast<float>(1.0 - o.beta1));
      c.amsgrad = o.amsgrad;
      if (c.decay && o.decoupled_weight_decay) {
        c.shrink = static_cast<float>(1.0 - o.lr * o.weight_decay);
        c.decay = false;
      }
      break;
    }
    case OptimKind::rmsprop:
      c.neg_lr = static_cast<float>(-o.lr);
      c.alpha = static_cast<float>(o.alpha);
      c.one_minus_alpha = static_cast<float>(1.0 - o.alpha);
      c.lerp = Lerp(c.one_minus_alpha);
      c.momentum = static_cast<float>(o.momentum);
      c.use_momentum = o.momentum > 0.0;
      c.centered = o.centered;
      break;
    case OptimKind::adagrad:
      // clr = lr / (1 + (t - 1) lr_decay), in double as torch computes it in Python.
      c.neg_lr = static_cast<float>(-(o.lr / (1.0 + (t - 1.0) * o.lr_decay)));
      break;
  }
  return c;
}

// Updates elements [begin, end) of one tensor: one function per element-wise path
// (util/isa.h: update_scalar.cpp, update_avx2.cpp, update16_avx2.cpp,
// update_avx512.cpp), identical results.
void update_range_scalar(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                         index_t begin, index_t end);
void update_range_avx2(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                       index_t begin, index_t end);
void update_range_avx512emu(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                            index_t begin, index_t end);
void update_range_avx512(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                         index_t begin, index_t end);

// out[i] = a[i] / c.bc2_sqrt as each path's Adam update divides (update.h: div_bc2), for
// adam_bc2_division (the tests' direct check of that division).
void bc2_division_scalar(const StepScalars& c, const float* a, float* out, index_t n);
void bc2_division_avx2(const StepScalars& c, const float* a, float* out, index_t n);
void bc2_division_avx512emu(const StepScalars& c, const float* a, float* out, index_t n);
void bc2_division_avx512(const StepScalars& c, const float* a, float* out, index_t n);

}  // namespace fastnn::optim_detail
