// arch.cpp: the per-ISA table and the once-only choice among its rows (see arch.h).
#include "gemm/arch.h"

#include <cstdlib>
#include <cstring>

#include "util/cpu_features.h"

namespace fastnn::gemm_detail {

namespace {

// mc, kc, nc here are the fallbacks and the kernels' preferred kc: the blocks in use
// come from derive_blocking (arch.h) and this CPU's cache sizes. On the 2-core Zen 4
// (L1d 32 KiB, L2 1 MiB, L3 32 MiB) that gives avx512 mc 336, kc 384, nc 8160 and avx2
// mc 510, kc 256, nc 8192; with a 48 KiB L1d (Zen 5, Intel since Ice Lake) avx2 kc 384.
// Best first, down to scalar (which always runs); rows after scalar are chosen
// only by name (FASTNN_ARCH, or the tests' _matmul_arch) or as a tall tile
// (dispatched_arch).
//   avx512 (Zen 4 / Skylake-X class): 8 x 48 tile; A block 224 x 384 x 4 B = 336 KiB
//     (L2 1 MiB), B micro-panel 384 x 48 x 4 B = 72 KiB (streams from L2: kc 384 beat
//     kc 128 and 192 by 3-8% on Zen 4), B block 384 x 4080 = 6 MiB (L3). Packing
//     reuses the AVX2 routines (every AVX-512 CPU has AVX2).
//   avx512emu: the same kernel and blocks on ymm pairs (AVX2 CPUs; for the tests).
//   avx512x64 / avx512emux64: the 6 x 64 tile (ukernel_avx512.cpp), natively / on
//     ymm pairs: the tall-product tile on Intel CPUs (dispatched_arch).
//   avx2 (Zen 3 / Haswell class): A block 144 x 256 x 4 B = 144 KiB (L2 512 KiB),
//     B micro-panel 256 x 16 x 4 B = 16 KiB (half of a 32 KiB L1d), B block 256 x 4080 =
//     4 MiB (L3). The B micro-panel keeps to half of L1d (b_panel_in_l1), so a 48 KiB
//     L1d gives kc 384 (the table's cap): on a Xeon (48 KiB L1d, the avx2 path forced,
//     1 thread, 7 interleaved rounds) 1024^2 105.9 -> 109.3 and 2048^2 108.1 -> 110.5
//     GFLOP/s, the 128-row MLP products within 1% either way, at 2 threads all within 1%.
//   scalar (SSE2): the same budget with the smaller 4 x 8 tile (B micro-panel in L1d too).
constexpr GemmArch kArchs[] = {
#if FASTNN_X86_SIMD
    {"avx512", Isa::avx512, avx512::kMR, avx512::kNR, 224, 384, 4080, &avx512::ukernel,
     &avx2::pack_block, &avx512::ukernel_edge, 16, false, &avx512::gemv,
     &avx512::few_rows_nt, &avx512::stream_rows},
    {"avx2", Isa::avx2, avx2::kMR, avx2::kNR, 144, 384, 4080, &avx2::ukernel, &avx2::pack_block,
     &avx2::ukernel_edge, 8, true, &avx512emu::gemv, &avx2::few_rows_nt, &avx2::stream_rows},
#endif
    {"scalar", Isa::scalar, scalar::kMR, scalar::kNR, 128, 256, 2048, &scalar::ukernel,
     &scalar::pack_block, nullptr, 0, true, nullptr, nullptr, nullptr},
#if FASTNN_X86_SIMD
    {"avx512emu", Isa::avx2, avx512emu::kMR, avx512emu::kNR, 224, 384, 4080, &avx512emu::ukernel,
     &avx2::pack_block, &avx512emu::ukernel_edge, 16, false, &avx512emu::gemv, nullptr,
     &avx512emu::stream_rows},
    {"avx512x64", Isa::avx512, avx512x64::kMR, avx512x64::kNR, 222, 384, 4096,
     &avx512x64::ukernel, &avx2::pack_block, &avx512x64::ukernel_edge, 16, false,
     &avx512::gemv, &avx512::few_rows_nt, &avx512::stream_rows},
    {"avx512emux64", Isa::avx2, avx512emux64::kMR, avx512emux64::kNR, 222, 384, 4096,
     &avx512emux64::ukernel, &avx2::pack_block, &avx512emux64::ukernel_edge, 16, false,
     &avx512emu::gemv, nullptr, &avx512emu::stream_rows},
#endif
};

constexpr bool table_is_consistent() {
  for (const GemmArch& g : kArchs)
    if (g.mr * g.nr > kMaxTile || g.mc % g.mr != 0 || g.nc % g.nr != 0 ||
        (g.lanes != 0 && g.nr % g.lanes != 0))
      return false;
  return true;
}
static_assert(table_is_consistent(),
              "kArchs: tile too large, blocks not tile multiples, or lanes not dividing nr");

// Rows with a tall-product tile, and that tile's row (arch.h: dispatched_arch).
struct TallPair {
  const char* row;
  const char* tall;
};
constexpr TallPair kTall[] = {{"avx512", "avx512x64"}, {"avx512emu", "avx512emux64"}};

bool is_tall_row(const GemmArch& g) {
  for (const TallPair& p : kTall)
    if (std::strcmp(g.name, p.tall) == 0) return true;
  return false;
}

// FASTNN_ARCH names a path (isa.h), not a tall tile: those rows are reached by
// dispatched_arch, and by name only through find_arch (the tests).
const GemmArch& choose() {
  const char* requested = std::getenv("FASTNN_ARCH");
  if (requested != nullptr)
    for (const GemmArch& g : kArchs)
      if (std::strcmp(g.name, requested) == 0 && g.level <= cpu_isa() && !is_tall_row(g))
        return g;
  for (const GemmArch& g : kArchs)
    if (g.level <= active_isa()) return g;
  return kArchs[0];  // unreachable: the scalar row always runs
}

index_t round_down(index_t v, index_t step, index_t floor) {
  const index_t r = v / step * step;
  return r < floor ? floor : r;
}

constexpr std::size_t kRows = sizeof(kArchs) / sizeof(kArchs[0]);

}  // namespace

Blocking derive_blocking(const GemmArch& g, const CacheInfo& c) {
  constexpr index_t f = sizeof(float);
  Blocking b{g.mc, g.kc, g.nc};
  if (c.l1d > 0 && g.mr * g.kc * f > c.l1d / 2) b.kc = c.l1d / 2 / (g.mr * f);
  const index_t b_budget = g.b_panel_in_l1 ? c.l1d / 2 : c.l2 / 4;
  if (b_budget > 0 && b.kc * g.nr * f > b_budget) b.kc = b_budget / (g.nr * f);
  b.kc = round_down(b.kc, 8, 16);
  if (c.l2 > 0) b.mc = round_down(c.l2 / 2 / (b.kc * f), g.mr, g.mr);
  if (c.l3 > 0) {
    const index_t nc = c.l3 / 2 / (b.kc * f);
    b.nc = round_down(nc < 8192 ? nc : 8192, g.nr, g.nr);
  }
  return b;
}

const Blocking& arch_blocking(const GemmArch& g) {
  static const auto blocks = [] {
    struct All {
      Blocking b[kRows];
    } all{};
    for (std::size_t i = 0; i < kRows; ++i) all.b[i] = derive_blocking(kArchs[i], cache_info());
    return all;
  }();
  return blocks.b[&g - kArchs];
}

const GemmArch& active_arch() {
  static const GemmArch& chosen = choose();
  return chosen;
}

const GemmArch* tall_arch(const GemmArch& g) {
#if FASTNN_X86_SIMD
  if (!cpu_features().intel) return nullptr;
  for (const TallPair& p : kTall) {
    if (std::strcmp(g.name, p.row) != 0) continue;
    const GemmArch* t = find_arch(p.tall);
    // The same K blocks, hence the same bits; a CPU whose caches give the two tiles
    // different kc keeps the row's tile.
    if (t != nullptr && arch_blocking(*t).kc == arch_blocking(g).kc) return t;
  }
#else
  (void)g;
#endif
  return nullptr;
}

const GemmArch& dispatched_arch(index_t M) {
  static const GemmArch* const tall = tall_arch(active_arch());
  return M >= kTallRows && tall != nullptr ? *tall : active_arch();
}

const GemmArch* find_arch(const char* name) {
  for (const GemmArch& g : kArchs)
    if (std::strcmp(g.name, name) == 0) return g.level <= cpu_isa() ? &g : nullptr;
  return nullptr;
}

}  // namespace fastnn::gemm_detail
