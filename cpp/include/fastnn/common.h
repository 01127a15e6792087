// common.h: types and conventions shared by every fastnn kernel.
//
// Conventions (DESIGN.md):
//  * Kernels are plain functions over flat, row-major float32 buffers with
//    explicit sizes; arguments are outputs, inputs, parameters, then sizes.
//  * Parameter gradients accumulate (+=) until zeroed; input gradients are
//    written (=).
//  * Kernels never allocate on the hot path and keep no mutable globals.
//  * Any reduction whose result depends on summation order uses fixed chunks
//    (kReduceChunk elements), so the result is bit-identical at any thread count.
#pragma once

#include <cstdint>

namespace fastnn {

using index_t = std::int64_t;

// Fixed chunk length for deterministic parallel reductions: each chunk is summed
// serially in index order, then the per-chunk partials are summed in chunk order.
constexpr index_t kReduceChunk = 4096;

}  // namespace fastnn
