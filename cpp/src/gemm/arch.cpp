// arch.cpp: the per-ISA table and the once-only choice among its rows (see arch.h).
#include "gemm/arch.h"

#include <cstdlib>
#include <cstring>

namespace fastnn::gemm_detail {

namespace {

// Best first, down to scalar (which always runs); rows after scalar are chosen
// only by name (FASTNN_ARCH, or the tests' _matmul_arch).
//   avx512 (Zen 4 / Skylake-X class): 8 x 48 tile; A block 224 x 384 x 4 B = 336 KiB
//     (L2 1 MiB), B micro-panel 384 x 48 x 4 B = 72 KiB (streams from L2: kc 384 beat
//     kc 128 and 192 by 3-8% on Zen 4), B block 384 x 4080 = 6 MiB (L3). Packing
//     reuses the AVX2 routines (every AVX-512 CPU has AVX2).
//   avx512emu: the same kernel and blocks on ymm pairs (AVX2 CPUs; for the tests).
//   avx2 (Zen 3 / Haswell class): A block 144 x 256 x 4 B = 144 KiB (L2 512 KiB),
//     B micro-panel 256 x 16 x 4 B = 16 KiB (L1 32 KiB), B block 256 x 4080 = 4 MiB (L3).
//   scalar (SSE2): the same budget with the smaller 4 x 8 tile.
constexpr GemmArch kArchs[] = {
#if FASTNN_X86_SIMD
    {"avx512", Isa::avx512, avx512::kMR, avx512::kNR, 224, 384, 4080, &avx512::ukernel,
     &avx2::pack_block, &avx512::ukernel_edge},
    {"avx2", Isa::avx2, avx2::kMR, avx2::kNR, 144, 256, 4080, &avx2::ukernel, &avx2::pack_block,
     nullptr},
#endif
    {"scalar", Isa::scalar, scalar::kMR, scalar::kNR, 128, 256, 2048, &scalar::ukernel,
     &scalar::pack_block, nullptr},
#if FASTNN_X86_SIMD
    {"avx512emu", Isa::avx2, avx512emu::kMR, avx512emu::kNR, 224, 384, 4080, &avx512emu::ukernel,
     &avx2::pack_block, &avx512emu::ukernel_edge},
#endif
};

constexpr bool table_is_consistent() {
  for (const GemmArch& g : kArchs)
    if (g.mr * g.nr > kMaxTile || g.mc % g.mr != 0 || g.nc % g.nr != 0) return false;
  return true;
}
static_assert(table_is_consistent(), "kArchs: tile too large or blocks not tile multiples");

const GemmArch& choose() {
  const char* requested = std::getenv("FASTNN_ARCH");
  if (requested != nullptr)
    for (const GemmArch& g : kArchs)
      if (std::strcmp(g.name, requested) == 0 && g.level <= cpu_isa()) return g;
  for (const GemmArch& g : kArchs)
    if (g.level <= active_isa()) return g;
  return kArchs[0];  // unreachable: the scalar row always runs
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
