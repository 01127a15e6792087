// parallel.h: when kernels go parallel, and deterministic parallel sums.
//
// Element-wise loops use parallel_blocks (or `#pragma omp parallel for if (n >
// elementwise_threshold())`, util/parallel_thresholds.h): below the threshold the body
// runs once on the calling thread, with no OpenMP region at all. (Waking a passive-waiting
// team costs tens of microseconds; 32K elements made the element-wise parts of small
// training steps slower at 2 threads than at 1.)
// Sums use chunked_sum, common.h's fixed chunking:
// The items [0, n) are cut into chunks of `chunk` items, a length that depends only
// on the problem, never on the thread count. Each chunk is summed serially by one
// thread (chunk_sum(begin, end) -> double), then the chunk partials are added in
// chunk order. The result is therefore bit-identical at any thread count.
//
// Partials live in a fixed stack array: chunks are processed kChunksPerPass at a
// time, one parallel loop per pass, so there is no allocation whatever n is.
#pragma once

#include <algorithm>

#include "fastnn/threads.h"
#include "fastnn/common.h"
#include "util/parallel_thresholds.h"

namespace fastnn::detail {

// Block length of parallel_blocks: a multiple of every SIMD width.
constexpr index_t kElementBlock = 4096;

// body(begin, end) over [0, n): one call on the calling thread when n <= threshold,
// otherwise blocks of kElementBlock spread over the threads. For element-wise
// bodies whose result per element does not depend on the block bounds.
template <class Body>
void parallel_blocks(index_t n, Body body) {
  if (n <= elementwise_threshold()) {
    body(index_t{0}, n);
    return;
  }
  const index_t blocks = (n + kElementBlock - 1) / kElementBlock;
#pragma omp parallel for schedule(static) num_threads(team_threads())
  for (index_t b = 0; b < blocks; ++b)
    body(b * kElementBlock, std::min(n, (b + 1) * kElementBlock));
}

// `parallel` lets the caller keep small problems on the calling thread; the result
// is the same either way.
template <class ChunkSum>
double chunked_sum(index_t n, index_t chunk, bool parallel, ChunkSum chunk_sum) {
  constexpr index_t kChunksPerPass = 64;
  const index_t n_chunks = (n + chunk - 1) / chunk;
  double total = 0.0;
  for (index_t first = 0; first < n_chunks; first += kChunksPerPass) {
    const index_t count = std::min(kChunksPerPass, n_chunks - first);
    double partial[kChunksPerPass];
#pragma omp parallel for schedule(static) num_threads(team_threads()) if (parallel && count > 1)
    for (index_t c = 0; c < count; ++c) {
      const index_t begin = (first + c) * chunk;
      partial[c] = chunk_sum(begin, std::min(n, begin + chunk));
    }
    for (index_t c = 0; c < count; ++c) total += partial[c];
  }
  return total;
}

}  // namespace fastnn::detail
