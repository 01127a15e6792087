// epilogue.h: applies a GemmEpilogue (gemm.h).
//
// The cheap parts (bias, relu, leaky_relu and their derivatives) run on each C tile
// right after its last K block, while it is in L1 (apply_tile_epilogue). The
// transcendental activations cost far more than a pass over C, and calling their
// kernels once per tile row would cost more still, so they run as one element-wise
// pass over C after the product (apply_deferred_activation).
#pragma once

#include "fastnn/gemm.h"

namespace fastnn::gemm_detail {

// The part of `ep` applied per tile: the bias, plus the activation when it is cheap.
GemmEpilogue tile_epilogue(const GemmEpilogue& ep);

// Whether tile_epilogue(ep) changes anything at all.
bool epilogue_active(const GemmEpilogue& ep);

// The rows x cols block of C at c (leading dimension ldc) whose top-left element
// is C[i0, j0], fully summed over K: adds the bias, then applies a cheap activation
// or multiplies by its derivative. Serial (runs inside the GEMM's threads).
void apply_tile_epilogue(const GemmEpilogue& ep, index_t rows, index_t cols, float* c,
                         index_t ldc, index_t i0, index_t j0);

// After the product: the activation (or derivative) that tile_epilogue left out,
// over all of the M x N matrix C; nothing when there is none.
void apply_deferred_activation(const GemmEpilogue& ep, index_t M, index_t N, float* C,
                               index_t ldc);

}  // namespace fastnn::gemm_detail
