// epilogue.cpp: the fused GEMM write-back (epilogue.h). The inline relu and
// leaky_relu below use the same expressions as activations_scalar.cpp, so the fused and
// unfused results are identical (tests/test_gemm.py, test_linear.py check it).
#include "gemm/epilogue.h"

namespace fastnn::gemm_detail {

namespace {

bool cheap(Activation act) {
  return act == Activation::identity || act == Activation::relu ||
         act == Activation::leaky_relu;
}

}  // namespace

GemmEpilogue tile_epilogue(const GemmEpilogue& ep) {
  GemmEpilogue t = ep;
  if (!cheap(ep.act)) t.act = Activation::identity;
  return t;
}

bool epilogue_active(const GemmEpilogue& ep) {
  return ep.bias != nullptr || ep.act != Activation::identity;
}

void apply_tile_epilogue(const GemmEpilogue& ep, index_t rows, index_t cols, float* c,
                         index_t ldc, index_t i0, index_t j0) {
  const float slope = ep.act == Activation::leaky_relu ? ep.act_param : 0.0f;
  const bool act = ep.act != Activation::identity;
  for (index_t i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    if (ep.bias != nullptr) {
      const float* b = ep.bias + j0;
      for (index_t j = 0; j < cols; ++j) row[j] += b[j];
    }
    if (!act) continue;
    if (ep.derivative) {  // relu: v <= 0 ? 0 : g (NaN passes g);  leaky_relu: v > 0 ? g : g * slope
      const float* x = ep.aux_x + (i0 + i) * ep.ld_aux + j0;
      if (ep.act == Activation::relu) {
        for (index_t j = 0; j < cols; ++j) row[j] = x[j] <= 0.0f ? 0.0f : row[j];
      } else {
        for (index_t j = 0; j < cols; ++j) row[j] = x[j] > 0.0f ? row[j] : row[j] * slope;
      }
    } else if (ep.act == Activation::relu) {
      for (index_t j = 0; j < cols; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];  // NaN, -0 kept
    } else {
      for (index_t j = 0; j < cols; ++j) row[j] = row[j] > 0.0f ? row[j] : row[j] * slope;
    }
  }
}

void apply_deferred_activation(const GemmEpilogue& ep, index_t M, index_t N, float* C,
                               index_t ldc) {
  if (cheap(ep.act) || M <= 0 || N <= 0) return;
  // One call over the whole matrix when it is contiguous, else one per row.
  const bool whole = ldc == N && (!ep.derivative || ep.ld_aux == N);
  const index_t rows = whole ? 1 : M, cols = whole ? M * N : N;
  for (index_t i = 0; i < rows; ++i) {
    float* c = C + i * ldc;
    if (ep.derivative) {
      const index_t off = i * ep.ld_aux;
      activation_backward(ep.act, ep.act_param, c, c,
                          ep.aux_x != nullptr ? ep.aux_x + off : nullptr,
                          ep.aux_y != nullptr ? ep.aux_y + off : nullptr, cols);
    } else {
      activation_forward(ep.act, ep.act_param, c, c, cols);
    }
  }
}

}  // namespace fastnn::gemm_detail
