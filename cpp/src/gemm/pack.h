// pack.h: copies blocks of op(A) and op(B) into the micro-panel layout the
// micro-kernels read (ukernel.h), zero-padding partial panels.
//
// Transposes are never materialized: op(X)[r, c] = X[r * rs + c * cs], with
// (rs, cs) = (ld, 1) for X and (1, ld) for X^T, and packing reads through
// those strides. The copy itself is per instruction set (arch table).
// (No inline functions here: this header is also compiled with AVX flags.)
#pragma once

#include "fastnn/common.h"

namespace fastnn::gemm_detail {

// Packs the n lines of a block into ceil(n / w) micro-panels of width w:
//   dst[p * w * kc + k * w + t] = src[(p * w + t) * ts + k * ks]   for p * w + t < n,
//   0 for the padding lanes of the last panel, k < kc.
// Each ISA has one (pack.cpp: scalar, pack_avx2.cpp).
using PackBlock = void (*)(index_t kc, index_t n, const float* src, index_t ts, index_t ks,
                           index_t w, float* dst);

namespace scalar {
void pack_block(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst);
}  // namespace scalar

namespace avx2 {
void pack_block(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst);
}  // namespace avx2

// The mc x kc block op(A)[0:mc, 0:kc] at `a` as ceil(mc / mr) panels of kc x mr:
// dst[p * mr * kc + k * mr + i] = op(A)[p * mr + i, k], 0 past row mc.
void pack_a(PackBlock pack, index_t mc, index_t kc, const float* a, index_t rs, index_t cs,
            index_t mr, float* dst);

// The kc x nc block op(B)[0:kc, 0:nc] at `b` as ceil(nc / nr) panels of kc x nr:
// dst[p * nr * kc + k * nr + j] = op(B)[k, p * nr + j], 0 past column nc.
void pack_b(PackBlock pack, index_t kc, index_t nc, const float* b, index_t rs, index_t cs,
            index_t nr, float* dst);

}  // namespace fastnn::gemm_detail
