// pack.cpp: block packing over panels, and the portable panel copy (see pack.h).
#include "gemm/pack.h"

namespace fastnn::gemm_detail {

namespace scalar {

void pack_panel(index_t kc, index_t n, const float* src, index_t ts, index_t ks, index_t w,
                float* dst) {
  if (ts == 1) {  // the panel's rows are contiguous in memory: copy row by row
    for (index_t k = 0; k < kc; ++k) {
      const float* s = src + k * ks;
      float* d = dst + k * w;
      for (index_t t = 0; t < n; ++t) d[t] = s[t];
      for (index_t t = n; t < w; ++t) d[t] = 0.0f;
    }
    return;
  }
  // Contiguous along k: read each line sequentially, scatter into the panel.
  for (index_t t = 0; t < n; ++t) {
    const float* s = src + t * ts;
    for (index_t k = 0; k < kc; ++k) dst[k * w + t] = s[k * ks];
  }
  for (index_t k = 0; k < kc; ++k)
    for (index_t t = n; t < w; ++t) dst[k * w + t] = 0.0f;
}

}  // namespace scalar

void pack_a(PackPanel pack, index_t mc, index_t kc, const float* a, index_t rs, index_t cs,
            index_t mr, float* dst) {
  for (index_t i = 0; i < mc; i += mr) {
    const index_t n = mc - i < mr ? mc - i : mr;
    pack(kc, n, a + i * rs, rs, cs, mr, dst);
    dst += mr * kc;
  }
}

void pack_b_panel(PackPanel pack, index_t kc, index_t nc, index_t p, const float* b, index_t rs,
                  index_t cs, index_t nr, float* dst) {
  const index_t j = p * nr;
  const index_t n = nc - j < nr ? nc - j : nr;
  pack(kc, n, b + j * cs, cs, rs, nr, dst);
}

}  // namespace fastnn::gemm_detail
