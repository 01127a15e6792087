// parallel_thresholds.h: how much work a kernel needs before it uses more than the
// calling thread.
//
// fastnn loads libgomp with a passive wait policy (python/fastnn/_core_loader.py): a
// parallel region wakes its sleeping threads through the kernel, tens of microseconds,
// so only work much larger than that is split. Defaults, measured on a 2-core Zen 4 (see
// gemm/blocked.cpp and kernels/parallel.h for the numbers):
//   gemm_min_macs_per_thread   8M: a product below twice that (16M multiply-adds) is
//                              serial; from there it takes one thread per quarter of
//                              it (2M), so a 16M product runs on up to 8 (gemm_threads)
//   elementwise_threshold      256K elements (element-wise loops, sums, softmax rows)
// FASTNN_PARALLEL_THRESHOLDS="MACS,ELEMENTS" (two positive integers) replaces both, read
// once on first use; the tests set it low so that their small arrays run the threaded
// code paths too. Results never depend on these values (fixed chunking, batch-invariant
// GEMM rows), only speed does.
#pragma once

#include "fastnn/common.h"

namespace fastnn {

double gemm_min_macs_per_thread();

// A quarter of gemm_min_macs_per_thread() (at least 1): the work per thread of a
// product large enough to split.
double gemm_macs_per_extra_thread();

// The threads a product of `macs` multiply-adds runs on, at most `max_threads`: one
// below 2 x gemm_min_macs_per_thread(), otherwise one per gemm_macs_per_extra_thread().
// Waking a sleeping team is what costs (and a thread that another process delays
// holds the product up), so the first split needs much work; a team that runs anyway
// splits a product further for little more.
index_t gemm_threads(double macs, index_t max_threads);
index_t elementwise_threshold();

// Where the values came from: "default" or "env".
const char* parallel_thresholds_source();

}  // namespace fastnn
