// arch.cpp: the per-ISA table and the once-only choice among its rows (see arch.h).
#include "gemm/arch.h"

#include <cstring>

namespace fastnn::gemm_detail {

namespace {

// Best first. An AVX-512 row goes on top when its kernel exists.
//   avx2 (Zen 3 / Haswell class): A block 144 x 256 x 4 B = 144 KiB (L2 512 KiB),
//     B micro-panel 256 x 16 x 4 B = 16 KiB (L1 32 KiB), B block 256 x 4080 = 4 MiB (L3).
//   scalar (SSE2): the same budget with the smaller 4 x 8 tile.
constexpr GemmArch kArchs[] = {
#if FASTNN_X86_SIMD
    {"avx2", Isa::avx2, avx2::kMR, avx2::kNR, 144, 256, 4080, &avx2::ukernel, &avx2::pack_block},
#endif
    {"scalar", Isa::scalar, scalar::kMR, scalar::kNR, 128, 256, 2048, &scalar::ukernel,
     &scalar::pack_block},
};

constexpr bool table_is_consistent() {
  for (const GemmArch& g : kArchs)
    if (g.mr * g.nr > kMaxTile || g.mc % g.mr != 0 || g.nc % g.nr != 0) return false;
  return true;
}
static_assert(table_is_consistent(), "kArchs: tile too large or blocks not tile multiples");

const GemmArch& choose() {
  for (const GemmArch& g : kArchs)
    if (g.level <= active_isa()) return g;
  return kArchs[sizeof(kArchs) / sizeof(kArchs[0]) - 1];  // scalar: always runs
}

}  // namespace

const GemmArch& active_arch() {
  static const GemmArch& chosen = choose();
  return chosen;
}

const GemmArch* find_arch(const char* name) {
  for (const GemmArch& g : kArchs)
    if (std::strcmp(g.name, name) == 0) return g.level <= cpu_isa() ? &g : nullptr;
  return nullptr;
}

}  // namespace fastnn::gemm_detail
