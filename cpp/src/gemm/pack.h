// pack.h: copies blocks of op(A) and op(B) into the micro-panel layout the
// micro-kernels read (ukernel.h), zero-padding partial panels.
//
// Transposes are never materialized: op(X)[r, c] = X[r * rs + c * cs], with
// (rs, cs) = (ld, 1) for X and (1, ld) for X^T, and packing reads through
// those strides. The panel copy itself is per instruction set (arch table).
#pragma once

#include "fastnn/common.h"

namespace fastnn::gemm_detail {

// One micro-panel of width w: dst[k * w + t] = src[t * ts + k * ks] for t < n,
// 0 for n <= t < w, k < kc. Each ISA has one (pack.cpp: scalar, pack_avx2.cpp).
using PackPanel = void (*)(index_t kc, index_t n, const float* src, index_t ts, index_t ks,
                           index_t w, float* dst);

namespace scalar {
void pack_panel(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst);
}  // namespace scalar

namespace avx2 {
void pack_panel(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst);
}  // namespace avx2

// Packs the mc x kc block op(A)[0:mc, 0:kc] at `a` into ceil(mc / mr) panels of
// kc x mr: dst[p * mr * kc + k * mr + i] = op(A)[p * mr + i, k], 0 past row mc.
void pack_a(PackPanel pack, index_t mc, index_t kc, const float* a, index_t rs, index_t cs,
            index_t mr, float* dst);

// Packs panel p of the kc x nc block op(B)[0:kc, 0:nc] at `b`: columns
// [p * nr, p * nr + nr) into dst[k * nr + j] (dst points at the panel), 0 past
// column nc. One panel at a time so threads can share the packing of a block.
void pack_b_panel(PackPanel pack, index_t kc, index_t nc, index_t p, const float* b, index_t rs,
                  index_t cs, index_t nr, float* dst);

}  // namespace fastnn::gemm_detail
