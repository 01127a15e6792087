// parallel.h: when kernels go parallel, and deterministic parallel sums.
//
// Element-wise loops use `#pragma omp parallel for if (n > kParallelThreshold)`.
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

#include "fastnn/common.h"

namespace fastnn::detail {

// Work below this many elements runs on the calling thread (spawning a team
// costs more than it saves).
constexpr index_t kParallelThreshold = 1 << 15;

template <class ChunkSum>
double chunked_sum(index_t n, index_t chunk, ChunkSum chunk_sum) {
  constexpr index_t kChunksPerPass = 64;
  const index_t n_chunks = (n + chunk - 1) / chunk;
  double total = 0.0;
  for (index_t first = 0; first < n_chunks; first += kChunksPerPass) {
    const index_t count = std::min(kChunksPerPass, n_chunks - first);
    double partial[kChunksPerPass];
#pragma omp parallel for schedule(static) if (count > 1)
    for (index_t c = 0; c < count; ++c) {
      const index_t begin = (first + c) * chunk;
      partial[c] = chunk_sum(begin, std::min(n, begin + chunk));
    }
    for (index_t c = 0; c < count; ++c) total += partial[c];
  }
  return total;
}

}  // namespace fastnn::detail
