// arch.h: the per-ISA GEMM table (micro-kernel + block sizes) and its dispatch.
//
// Block sizes follow BLIS (Goto's algorithm): a kc x nr micro-panel of B stays
// in L1 while the micro-kernel streams an mc x kc block of packed A from L2; the
// kc x nc block of packed B lives in L3. mc is a multiple of mr, nc of nr.
#pragma once

#include "fastnn/common.h"
#include "gemm/few_rows.h"
#include "gemm/pack.h"
#include "gemm/ukernel.h"
#include "util/cache_info.h"
#include "util/isa.h"

namespace fastnn::gemm_detail {

struct GemmArch {
  const char* name;  // "scalar", "avx2", ... (FASTNN_ARCH values)
  Isa level;         // what the CPU must support to run `ukernel`
  index_t mr, nr;    // register tile (must equal the kernel's kMR, kNR)
  index_t mc, kc, nc;  // cache blocks: the fallbacks when the cache sizes are unknown
  UKernel ukernel;
  PackBlock pack;    // the block packing for this ISA
  UKernelEdge edge;  // masked edge tiles, or nullptr: the macro-kernel's on-stack tile
  index_t lanes;     // floats per vector of `edge`: an edge tile nr wide reads
                     // ceil(nr / lanes) * lanes floats of each B row (0 where no edge;
                     // not checked against `edge` at compile time: a function address
                     // is no constant expression under -fsanitize)
  bool b_panel_in_l1;  // the B micro-panel (kc x nr) is to stay in L1d (derive_blocking)
  Gemv gemv;           // products with 1 to 4 columns and A row-major (blocked.cpp), or
                       // nullptr: the blocked loops
  FewRows few_rows;    // A (<= kFewRows rows) times a row-major W^T, or nullptr
  StreamRows stream_rows;  // A (<= kStreamRows rows) times a row-major B, or nullptr
};

// The cache blocks one product runs with (mc a multiple of mr, nc of nr).
struct Blocking {
  index_t mc, kc, nc;
};

// The row's blocks fitted to the caches `c` (a size of 0 keeps the row's value):
//   kc = the row's kc (the depth its kernel was tuned for: a longer kc spreads the
//        C tile's load and store over more FMAs), at most what keeps the A micro-panel
//        (mr x kc) in half of L1d and the B micro-panel (kc x nr) in a quarter of L2,
//        or, for a row with b_panel_in_l1, in half of L1d;
//   mc = the A block (mc x kc) in half of L2 (the rest: B micro-panels, C tiles);
//   nc = the B block (kc x nc) in half of L3, at most 8192 columns.
// Rounded down to multiples of 8 (kc), mr (mc), nr (nc); never below one tile.
Blocking derive_blocking(const GemmArch& g, const CacheInfo& c);

// derive_blocking(g, cache_info()), computed once per table row (thread-safe).
const Blocking& arch_blocking(const GemmArch& g);

// Largest mr * nr of any kernel: the macro-kernel's on-stack edge tile.
constexpr index_t kMaxTile = 512;

// The kernel used by gemm(), chosen once on first use (thread-safe): the row
// FASTNN_ARCH names when this CPU runs it (e.g. avx512emu, the 16-lane kernel on
// ymm pairs), otherwise the best one at or below active_isa() (util/isa.h: CPU
// and OS support, capped by FASTNN_ARCH=scalar|avx2|avx512). A level this build
// has no kernel for falls back to the best kernel below it.
const GemmArch& active_arch();

// The row gemm() runs a product of M rows on: the 6 x 64 tile (avx512x64 /
// avx512emux64) for M >= kTallRows on an Intel CPU when active_arch() is avx512 /
// avx512emu, otherwise active_arch(). Both tiles do the same FMAs in the same order with the same
// K blocks (the tall row is used only when its kc equals g's), so the choice never
// changes a result. Why Intel only: ukernel_avx512.cpp (on a Xeon 6 x 64 ran 256-row
// and taller products 3-13% faster, 128-row ones 3-7% slower; on Zen 4 8 x 48 was as
// fast or faster: 2048^2 99.9 vs 95.1, 512x128 @ 128x784 96.6 vs 90.1 GFLOP/s).
constexpr index_t kTallRows = 256;
const GemmArch& dispatched_arch(index_t M);

// The tall-product row for g on this CPU (see dispatched_arch), or nullptr.
const GemmArch* tall_arch(const GemmArch& g);

// The kernel named `name` if this CPU can run it, otherwise nullptr.
const GemmArch* find_arch(const char* name);

}  // namespace fastnn::gemm_detail
