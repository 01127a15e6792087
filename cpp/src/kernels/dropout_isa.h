// dropout_isa.h: the serial per-ISA bodies of dropout (dropout.h).
//
// out[i] = in[i] * (keep(first + i) ? scale : 0) for i < n, where element j of the
// whole array is kept iff (rng::bits(key, j) >> 40) >= threshold: its 24-bit
// uniform integer u_j, with u_j 2^-24 >= p  <=>  u_j >= threshold = ceil(p 2^24).
// All sets compute exactly this integer mask, so masks agree bit for bit across
// ISAs, thread counts and block boundaries. A multiply, not a select, so NaN/inf in
// dropped units propagate as in PyTorch. out may alias in.
#pragma once

#include <cstdint>

#include "fastnn/common.h"

namespace fastnn::kernels {

namespace scalar {
void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale);
}
namespace avx2 {
void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale);
}
namespace avx512emu {
void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale);
}
namespace avx512 {
void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale);
}

}  // namespace fastnn::kernels
