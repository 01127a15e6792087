// linear.cpp: fully connected layer y = x @ W^T + b on top of fastnn::gemm (linear.h).
//
// All three products go through gemm, whose sums over K run in a fixed order, so
// the layer is bit-identical at any thread count. Bias and activation (forward)
// and the previous activation's derivative (backward, on dx) ride in gemm's
// epilogue: each output tile is finished while it is in L1, one pass over y / dx.
#include "fastnn/threads.h"
#include "fastnn/linear.h"

#include <algorithm>

#include "fastnn/gemm.h"
#include "kernels/parallel.h"

namespace fastnn {

void linear_forward(float* y, const float* x, const float* W, const float* b, index_t N,
                    index_t in_features, index_t out_features, Activation act,
                    float act_param) {
  GemmEpilogue ep;
  ep.bias = b;
  ep.act = act;
  ep.act_param = act_param;
  // y[N, out] = act(x[N, in] @ W[out, in]^T + b)
  gemm(false, true, N, out_features, in_features, 1.0f, x, in_features, W, in_features, 0.0f, y,
       out_features, ep);
}

namespace {

// db[out] += sum over rows of dy[N, out] (db = the sum when !accumulate). Each column
// is owned by one thread and summed in row order (in double), so the result does not
// depend on the thread count. Columns go in blocks of kCols for contiguous reads of
// each dy row.
void column_sums(float* db, const float* dy, index_t N, index_t cols, bool accumulate) {
  constexpr index_t kCols = 64;
  const index_t n_blocks = (cols + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (N * cols > elementwise_threshold() && n_blocks > 1)
  for (index_t blk = 0; blk < n_blocks; ++blk) {
    const index_t c0 = blk * kCols;
    const index_t width = std::min(kCols, cols - c0);
    double acc[kCols] = {};
    for (index_t i = 0; i < N; ++i) {
      const float* row = dy + i * cols + c0;
      for (index_t j = 0; j < width; ++j) acc[j] += row[j];
    }
    for (index_t j = 0; j < width; ++j) {
      const float sum = static_cast<float>(acc[j]);
      db[c0 + j] = accumulate ? db[c0 + j] + sum : sum;
    }
  }
}

}  // namespace

void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, index_t N, index_t in_features, index_t out_features,
                     Activation act, float act_param, const float* act_x, const float* act_y,
                     bool accumulate_dW, bool accumulate_db) {
  // dx[N, in] = (dy[N, out] @ W[out, in]) * act'(.)
  if (dx != nullptr) {
    GemmEpilogue ep;
    ep.act = act;
    ep.act_param = act_param;
    ep.derivative = true;
    ep.aux_x = act_x;
    ep.aux_y = act_y;
    ep.ld_aux = in_features;
    gemm(false, false, N, in_features, out_features, 1.0f, dy, out_features, W, in_features, 0.0f,
         dx, in_features, ep);
  }
  // dW[out, in] += dy[N, out]^T @ x[N, in]  (or =)
  gemm(true, false, out_features, in_features, N, 1.0f, dy, out_features, x, in_features,
       accumulate_dW ? 1.0f : 0.0f, dW, in_features);
  if (db != nullptr) column_sums(db, dy, N, out_features, accumulate_db);
}

}  // namespace fastnn
