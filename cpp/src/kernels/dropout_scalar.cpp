// dropout_scalar.cpp: the portable dropout body (dropout_isa.h), splitmix64 per element.
#include "kernels/dropout_isa.h"
#include "util/rng.h"

namespace fastnn::kernels::scalar {

void dropout_apply(float* out, const float* in, index_t n, std::uint64_t first, std::uint64_t key,
                   std::uint32_t threshold, float scale) {
  for (index_t i = 0; i < n; ++i) {
    const bool keep = (rng::bits(key, first + static_cast<std::uint64_t>(i)) >> 40) >= threshold;
    out[i] = in[i] * (keep ? scale : 0.0f);
  }
}

}  // namespace fastnn::kernels::scalar
