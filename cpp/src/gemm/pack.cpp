// pack.cpp: A and B block packing, and the portable block copy (see pack.h).
#include "gemm/pack.h"

namespace fastnn::gemm_detail {

namespace scalar {

void pack_block(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst) {
  for (index_t p0 = 0; p0 < n; p0 += w, dst += w * kc) {
    const index_t lines = n - p0 < w ? n - p0 : w;
    const float* s0 = src + p0 * ts;
    for (index_t k = 0; k < kc; ++k)
      for (index_t t = 0; t < w; ++t) dst[k * w + t] = t < lines ? s0[t * ts + k * ks] : 0.0f;
  }
}

}  // namespace scalar

void pack_a(PackBlock pack, index_t mc, index_t kc, const float* a, index_t rs, index_t cs,
            index_t mr, float* dst) {
  pack(kc, mc, a, rs, cs, mr, dst);
}

void pack_b(PackBlock pack, index_t kc, index_t nc, const float* b, index_t rs, index_t cs,
            index_t nr, float* dst) {
  pack(kc, nc, b, cs, rs, nr, dst);
}

}  // namespace fastnn::gemm_detail
