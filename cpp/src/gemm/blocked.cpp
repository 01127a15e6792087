// blocked.cpp: the BLIS five-loop GEMM over packed micro-panels, threaded
// BLIS-style: the team packs each B block (or, for few rows, A) together, then splits
// the ic / jr loops.
//
// Serial loops (one thread, or one thread's block in the skinny-M split below):
//   for jc in N step nc:                    B block columns
//     for pc in K step kc:                  K blocks, ascending (fixes the order over K)
//       pack op(B)[pc:pc+kc, jc:jc+nc]
//       for ic in M step mc:
//         pack op(A)[ic:ic+mc, pc:pc+kc]
//         for jr in nc step nr:             macro-kernel
//           for ir in mc step mr:
//             micro-kernel: C tile = alpha * A panel @ B panel + beta_k * C tile
//
// Threads (run_shared): for each (jc, pc) block the team packs the B block into
// one shared buffer (groups of B panels handed out by an atomic counter), meets
// at one barrier, then takes work units, each thread those of its own range first,
// then what is left of the others' (Team: the same C tiles stay with the same thread
// from block to block): a unit is a range
// of C rows (a multiple of mr, at most mc) times a range of the block's B panels;
// it packs A for its own rows only, into its thread's buffer, and runs the
// macro-kernel. B is double-buffered, so that one barrier per block is the only
// synchronization (the block after next reuses a buffer; everyone has finished
// with it by then). The dynamic hand-out keeps the property the previous
// barrier-free 2-D split had: a thread delayed by another process holds up the
// others only for the unit it is in and at the next barrier, since its remaining
// units go to whoever is free. Barrier cost: docs/performance.md (Zen 4, "Threads").
//
// Few rows (run_shared_a): when all of op(A) is one mc block and C is at least as
// wide as tall (an MLP layer at batch 128), the roles swap: the team packs the A
// block of each K block together, meets at the barrier, then takes column units (a
// few B panels, times all rows or, for a narrow C, a range of at least 8 A panels),
// each packing its own B panels. Sharing B there made every 8-row unit read the
// whole shared B block from other cores' caches for little work: on a 16-core Xeon
// the 128x784x512 products ran at 250-300 GFLOP/s on 8 and 16 threads (0.4-0.7x
// NumPy); sharing A gave 410-500, and 460-775 (1.1-1.5x NumPy) with the thread rule of
// util/parallel_thresholds.h. On 2 cores (Zen 4) either way was within 6%.
//
// When M is at most kDirectPanels tiles (B read in place, no packing to share), the
// threads instead split C into column blocks, each with its own loops and no
// barrier (run_block).
//
// One column of C (N == 1: x @ w.T for w of shape (1, K), a Linear(K, 1) head) would
// use one lane of 16 (and pack 48 floats per k for one): a row-major op(A) goes to the
// arch's gemv (gemv_tile.h, lanes along k, its own fixed order, chosen by N and the
// layout only). 1 thread, this Xeon, against NumPy: 1000x500 @ 500x1 148 -> 31 us
// (NumPy 31), 128x784 @ (1x784)^T 27.4 -> 3.4 us (3.9), the K = 4096 dot product 40.5
// -> 0.9 us (0.7). Two to four columns (Linear(K, 2..4) heads) take it too when deep
// enough (takes_gemv), us a call before -> after: 256x1000 @ 1000x2 97-105 -> 28-29
// (NumPy 17-20), 17x4096 @ (2x4096)^T 44-48 -> 6.4, 100x784 @ 784x2 33-35 -> 9.1,
// 1000x784 @ (3x784)^T 333-337 -> 167, 1000x784 @ (4x784)^T 325-336 -> 191-197.
//
// Fewer columns of C than a vector has lanes, op(A) transposed (A^T @ B: the weight
// gradient of a layer with 2 to 15 inputs, or one column of anything): the product
// C^T = op(B)^T A, whose lanes run along M and whose op(A)^T = A is read row by row
// with no transposing pack (run_transposed; the same FMAs, so this file's bits).
// 1 thread, Xeon, us a call before -> after: (1000x256)^T @ 1000x2 99-109 -> 20-24
// (NumPy about 17), (64x4096)^T @ 64x2 107-121 -> 26-29, (784x100)^T @ 784x2 30-31 ->
// 13-15, (784x128)^T @ (10x784)^T 35-37 -> 22-24. With a row-major op(A) the same trick
// moves the transposing pack of A from 8-wide into 48-wide panels: 1000x784 @
// (10x784)^T went from 347 to 597 us, so those keep the direct product.
//
// One to eight rows of op(A) (either layout) times op(B) = W^T with W row-major (x @ W^T
// on a few samples: a Linear layer's forward at batch 1 to 8) on the native avx512 rows
// and the avx2 row: few_rows_avx512.cpp / few_rows_avx2.cpp read W in place and
// transpose it in registers, with this file's K blocks and write-back (the same bits);
// the packing of W^T was half the time.
// 1 thread, Xeon, us a call before -> after (NumPy): 1x1000 @ (64x1000)^T 21 -> 8.2
// (4.7), 1x1000 @ (10x1000)^T 9.4 -> 2.9 (1.5), 4x784 @ (512x784)^T 148 -> 92 (236),
// 3x4096 @ (4000x4096)^T 12.9 -> 3.3 ms (12.8 ms), 7x1000 @ (10x1000)^T 10-11 -> 4.5-5.2
// (3.2), 8x784 @ (512x784)^T 149-158 -> 119-132 (307), (4096x1)^T @ (16x4096)^T 34 ->
// 8.4 (4.1).
//
// One to four rows of op(A) times a row-major op(B) (x @ W: a Linear layer's input
// gradient at batch 1 to 4) stream B along its rows (stream_rows_tile.h, takes_stream).
//
// beta_k is beta for the first K block and 1 afterwards, so C accumulates the K
// blocks in ascending order. The epilogue (gemm.h) runs on each tile right after
// the micro-kernel wrote its last K block, while the tile is in L1 (the caller
// passes only the per-tile part: epilogue.h). Every C element sees the same
// operations in the same order whichever thread or unit computes it (tile
// boundaries are multiples of mr and nr from the origin in every split), so
// results are bit-identical at any thread count.
#include "gemm/blocked.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>

#include "fastnn/threads.h"
#include "gemm/epilogue.h"
#include "gemm/pack.h"
#include "gemm/pack_buffer.h"
#include "util/parallel_thresholds.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn::gemm_detail {

namespace {

// Operands read by at most this many micro-panels of the other are used in place
// (run_block).
constexpr index_t kDirectPanels = 4;

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }
index_t min_i(index_t a, index_t b) { return a < b ? a : b; }
index_t max_i(index_t a, index_t b) { return a > b ? a : b; }

// How many work units to cut `panels` micro-panels into for `threads` threads: about
// 4 per thread (so a delayed thread's share can move), at most max_panels panels per
// unit, and a multiple of the thread count where the panels allow, so that equal
// threads get equal work (unit u is panels [panels u / units, panels (u + 1) / units),
// sizes differing by at most one panel). 49 AVX2 panels in units of at most 7 on 2
// threads were 7 units, 4 for one thread and 3 for the other: 128x512x784 ran at
// 0.82x NumPy on 2 Zen 5 cores, 1.0x once the units were 8.
index_t work_units(index_t panels, index_t threads, index_t max_panels) {
  index_t units = max_i(min_i(4 * threads, panels), ceil_div(panels, max_i(max_panels, 1)));
  units = ceil_div(units, threads) * threads;
  return max_i(min_i(units, panels), 1);
}

// C = beta * C, the whole product when K == 0 (beta == 0 writes zeros).
void scale_c(index_t M, index_t N, float beta, float* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

// Tile (ir, jr) of a macro-kernel call is C[ic + ir, jc + jr]: the epilogue needs
// its global position. active: this is the last K block and the epilogue does
// something.
struct EpilogueStep {
  const GemmEpilogue& ep;
  bool active;
  index_t ic, jc;
};

// Where the macro-kernel finds its micro-panels: the A panel of rows [ir, ir + mr)
// starts at a + ir * a_step with element (i, k) at [i * rsa + k * csa]; the B panel
// of columns [jr, jr + nr) at b + jr * b_step with element (k, j) at [k * rsb + j].
// Packed: a_step = kc, (rsa, csa) = (1, mr); b_step = kc, rsb = nr. Direct (in
// place): the operand's own strides; its edge panels, too short for a full tile,
// are packed into a_edge / b_edge first.
struct Panels {
  const float* a;
  index_t a_step, rsa, csa;
  const float* b;
  index_t b_step, rsb;
  bool a_direct, b_direct;
  const float* a_edge;  // the packed last A panel when a_direct and mc % mr != 0
  float* b_edge;        // scratch for one packed B panel when b_direct (row-major B)
};

// Depth at or below which the macro-kernel walks C row panel by row panel (see below).
constexpr index_t kRowOrderDepth = 32;

// B panels times A panels (B outer: one B panel stays in L1 while the A panels
// stream through), into C at (ic, jc). Edge tiles go to the kernel's masked edge
// entry when it has one, else through an on-stack tile and the same write-back
// as ukernel.h. A shallow block (kc <= kRowOrderDepth: the weight gradient at batch 1-32,
// an outer product) is bound by C's write-back, not by B's reuse: it runs the A panels
// outer instead, so consecutive tiles write on along C's rows. B outer walked down a
// 48-column strip of C, and with rows a multiple of 4 KiB apart (ldc 1024) every row's
// lines fell into the same few L1 and L2 sets. 2-core Zen 4, 1 thread, us, before ->
// after (NumPy): (1x1024)^T @ 1x1024 228 -> 113 (1157), (1x1000)^T @ 1x1000 98 -> 90,
// (4x1024)^T @ 4x1024 240 -> 163 (559), (1x4096)^T @ 1x4096 6.4 -> 2.9 ms (18.5), K = 32:
// 1024x1024 698 -> 677 (964); K = 64 gained 1-2% more, within the noise. Each tile is
// computed alike in either order.
void macro_kernel(const GemmArch& g, index_t mc, index_t nc, index_t kc, const Panels& pn,
                  float alpha, float beta, float* C, index_t ldc, const EpilogueStep& es) {
  // A partial B row in place is not NR floats long: the masked edge tile reads exactly
  // its nr floats (ukernel_tile.h); a kernel without one gets that last panel packed.
  // 32x64 @ 64x64 spent 16% of its time packing its 16-column edge (avx512), and 2x1000
  // @ 1000x10 (a Linear(10, 1000) layer's dX at batch 2) 48 floats per k for 10: 13 ->
  // 8 us (Xeon, 1 thread; NumPy 2.5).
  const index_t last_jr = (nc - 1) / g.nr * g.nr;
  const bool pack_edge =
      pn.b_direct && nc - last_jr < g.nr && (g.edge == nullptr || g.lanes == 0);
  if (pack_edge)
    pack_b(g.pack, kc, nc - last_jr, pn.b + last_jr * pn.b_step, pn.rsb, 1, g.nr, pn.b_edge);
  alignas(64) float tile[kMaxTile];
  const auto run_tile = [&](index_t ir, index_t jr) {
    const index_t nr = min_i(g.nr, nc - jr), mr = min_i(g.mr, mc - ir);
    const bool b_packed_edge = pack_edge && jr == last_jr;
    const float* bp = b_packed_edge ? pn.b_edge : pn.b + jr * pn.b_step;
    const index_t rsb = b_packed_edge ? g.nr : pn.rsb;
    const bool a_edge = pn.a_direct && mr < g.mr;
    const float* ap = a_edge ? pn.a_edge : pn.a + ir * pn.a_step;
    const index_t rsa = a_edge ? 1 : pn.rsa, csa = a_edge ? g.mr : pn.csa;
    float* c = C + ir * ldc + jr;
    if (mr == g.mr && nr == g.nr) {
      g.ukernel(kc, ap, rsa, csa, bp, rsb, alpha, beta, c, ldc);
    } else if (g.edge != nullptr) {
      g.edge(mr, nr, kc, ap, rsa, csa, bp, rsb, alpha, beta, c, ldc, pn.b_direct);
    } else {
      g.ukernel(kc, ap, rsa, csa, bp, rsb, 1.0f, 0.0f, tile, g.nr);
      for (index_t i = 0; i < mr; ++i)
        for (index_t j = 0; j < nr; ++j) {
          const float v = alpha * tile[i * g.nr + j];
          c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
        }
    }
    if (es.active) apply_tile_epilogue(es.ep, mr, nr, c, ldc, es.ic + ir, es.jc + jr);
  };
  if (kc > kRowOrderDepth) {
    for (index_t jr = 0; jr < nc; jr += g.nr)
      for (index_t ir = 0; ir < mc; ir += g.mr) run_tile(ir, jr);
  } else {
    for (index_t ir = 0; ir < mc; ir += g.mr)
      for (index_t jr = 0; jr < nc; jr += g.nr) run_tile(ir, jr);
  }
}

// One product's arguments, with op(X)[r, c] = X[r * rs + c * cs] (pack.h).
struct Job {
  const GemmArch& g;
  Blocking bk;  // mc, kc, nc for this CPU's caches (arch.h)
  index_t M, N, K;
  float alpha, beta;
  const float* A;
  index_t rsa, csa;
  const float* B;
  index_t rsb, csb;
  float* C;
  index_t ldc;
  const GemmEpilogue& ep;
  bool ep_active;
};

// Thread-local pack buffers (pack_buffer.h), reused across calls.
thread_local PackBuffer t_apack, t_bpack;

// pn's A side for the mc x kc block of op(A) at `a`: packed into apack, or, when
// pn->a_direct, read in place with only its edge panel (if any) packed into apack.
void set_a(const Job& j, const float* a, index_t mc, index_t kc, float* apack, Panels* pn) {
  const GemmArch& g = j.g;
  if (pn->a_direct) {
    pn->a = a;
    pn->a_step = j.rsa;
    pn->rsa = j.rsa;
    pn->csa = j.csa;
    const index_t full = mc / g.mr * g.mr;  // the edge panel, if any, packed
    if (full < mc) pack_a(g.pack, mc - full, kc, a + full * j.rsa, j.rsa, j.csa, g.mr, apack);
  } else {
    pack_a(g.pack, mc, kc, a, j.rsa, j.csa, g.mr, apack);
  }
}

// The serial loops over the block C[m0:m1, n0:n1], with this thread's buffers.
// An operand block that few micro-kernel calls will read costs more to pack than
// to read in place: A when at most kDirectPanels B panels use it, B (row-major
// only: its rows must be contiguous) when at most kDirectPanels A panels do.
void run_block(const Job& j, index_t m0, index_t m1, index_t n0, index_t n1) {
  const GemmArch& g = j.g;
  const Blocking& bk = j.bk;
  const index_t M = m1 - m0, N = n1 - n0;
  if (M <= 0 || N <= 0) return;
  const index_t kc_max = min_i(bk.kc, j.K);
  const bool a_direct = ceil_div(min_i(bk.nc, N), g.nr) <= kDirectPanels;
  const bool b_direct = j.csb == 1 && ceil_div(min_i(bk.mc, M), g.mr) <= kDirectPanels;
  float* const apack = t_apack.get(static_cast<std::size_t>(
      (a_direct ? g.mr : min_i(bk.mc, ceil_div(M, g.mr) * g.mr)) * kc_max));
  float* const bpack = t_bpack.get(static_cast<std::size_t>(
      (b_direct ? g.nr : min_i(bk.nc, ceil_div(N, g.nr) * g.nr)) * kc_max));
  for (index_t jc = n0; jc < n1; jc += bk.nc) {
    const index_t nc = min_i(bk.nc, n1 - jc);
    for (index_t pc = 0; pc < j.K; pc += bk.kc) {
      const index_t kc = min_i(bk.kc, j.K - pc);
      const float beta_k = pc == 0 ? j.beta : 1.0f;
      const float* b = j.B + pc * j.rsb + jc * j.csb;
      if (!b_direct) pack_b(g.pack, kc, nc, b, j.rsb, j.csb, g.nr, bpack);
      for (index_t ic = m0; ic < m1; ic += bk.mc) {
        const index_t mc = min_i(bk.mc, m1 - ic);
        const float* a = j.A + ic * j.rsa + pc * j.csa;
        Panels pn{apack, kc, 1, g.mr, bpack, kc, g.nr, a_direct, b_direct, apack, bpack};
        set_a(j, a, mc, kc, apack, &pn);
        if (b_direct) {
          pn.b = b;
          pn.b_step = 1;
          pn.rsb = j.rsb;
        }
        const EpilogueStep es{j.ep, j.ep_active && pc + kc >= j.K, ic, jc};
        macro_kernel(g, mc, nc, kc, pn, j.alpha, beta_k, j.C + ic * j.ldc + jc, j.ldc, es);
      }
    }
  }
}

#ifdef _OPENMP
// What the team of one shared-operand product shares besides the packed block: the
// work counters, one set per block in a rotation of three (the set of block it + 2
// is reset after block it's barrier, when no thread can still be using it: its last
// use was block it - 1, finished before that barrier), and the first error.
// Members are called from inside the parallel region by every thread.
//
// Work units go out by affinity: thread t first takes the units of its own range,
// [units t / T, units (t + 1) / T), the same C rows or columns in every block, then
// takes what is left of the others' ranges (each range has its own counter, so every
// unit runs once). A C tile that a block accumulates into is then, block after block,
// in the L2 of the core that wrote it last; with one counter for all, consecutive
// blocks handed the same tile to different threads, whose core fetched it from the
// other's cache: on 2 Xeon cores 128x512 @ 512x784 ran at 233-240 GFLOP/s, with
// affinity at 264-267 (128x784 @ (512x784)^T 228 -> 238, 1024^2 287 -> 294). A thread
// delayed by another process still holds up the others for at most the unit it is in:
// its remaining units go to whoever is free. A team of more than kMaxRanges threads
// has kMaxRanges ranges, thread t owning range t % kMaxRanges with the others of that
// residue.
class Team {
 public:
  // This thread's own pack buffer of n floats, or nullptr after recording the
  // failure (an exception must not leave an OpenMP region: rethrow() raises it
  // after the region); ends with a barrier, so ok() agrees on every thread.
  float* own_buffer(PackBuffer& buffer, index_t n) {
    float* p = nullptr;
    try {
      p = buffer.get(static_cast<std::size_t>(n));
    } catch (...) {
#pragma omp critical(fastnn_gemm_error)
      if (!error_) error_ = std::current_exception();
      failed_.store(true);
    }
#pragma omp barrier
    return p;
  }
  bool ok() const { return !failed_.load(); }

  // Block it's shared packing: the team runs pack_task(q) for q < tasks, each task
  // once, then meets at the block's barrier.
  template <class PackTask>
  void pack_together(index_t it, index_t tasks, PackTask pack_task) {
    const int slot = static_cast<int>(it % 3);
    for (index_t q; (q = pack_next_[slot].fetch_add(1)) < tasks;) pack_task(q);
#pragma omp barrier
    if (omp_get_thread_num() == 0) {
      pack_next_[(it + 2) % 3].store(0);
      for (Counter& c : unit_next_[(it + 2) % 3]) c.n.store(0);
    }
  }

  // Block it's work units: run_unit(u) for u < units, each unit once (by affinity:
  // the class comment).
  template <class RunUnit>
  void share_units(index_t it, index_t units, RunUnit run_unit) {
    Counter* const counters = unit_next_[it % 3];
    const index_t team = omp_get_num_threads();
    const index_t ranges = min_i(team, kMaxRanges), mine = omp_get_thread_num() % ranges;
    for (index_t i = 0; i < ranges; ++i) {
      const index_t r = (mine + i) % ranges;
      const index_t begin = units * r / ranges, end = units * (r + 1) / ranges;
      for (index_t u; (u = claim(counters[r], begin, end, i == 0)) >= 0;) run_unit(u);
    }
  }

  // After the region, on the calling thread.
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // One work counter per thread's range, each on its own cache line: how many units
  // the owner took from the front of the range (low 32 bits) and others from its back
  // (high 32 bits).
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> n{0};
  };

  // A unit of the range [begin, end) whose counter is c: from the front for its owners,
  // from the back for the others (so the owner keeps its first units, the same C tiles
  // block after block, and the last ones go to whoever is free); -1 when none is left.
  static index_t claim(Counter& c, index_t begin, index_t end, bool front) {
    std::uint64_t v = c.n.load(std::memory_order_relaxed);
    for (;;) {
      const index_t taken_front = static_cast<index_t>(v & 0xffffffffu);
      const index_t taken_back = static_cast<index_t>(v >> 32);
      if (begin + taken_front + taken_back >= end) return -1;
      const std::uint64_t next = v + (front ? 1u : (std::uint64_t{1} << 32));
      if (c.n.compare_exchange_weak(v, next))
        return front ? begin + taken_front : end - 1 - taken_back;
    }
  }
  static constexpr index_t kMaxRanges = 64;

  std::atomic<index_t> pack_next_[3] = {{0}, {0}, {0}};
  Counter unit_next_[3][kMaxRanges];
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

// The shared-B parallel loops (file comment), on `threads` threads.
void run_shared(const Job& j, index_t threads) {
  const GemmArch& g = j.g;
  const Blocking& bk = j.bk;
  const index_t kc_max = min_i(bk.kc, j.K);
  const index_t nc_max = min_i(bk.nc, ceil_div(j.N, g.nr) * g.nr);
  // Row units (work_units), at most mc rows each.
  const index_t m_panels = ceil_div(j.M, g.mr);
  const index_t mu = work_units(m_panels, threads, bk.mc / g.mr);
  const index_t unit_rows = ceil_div(m_panels, mu) * g.mr;  // the largest unit
  // Column units too when there are few row units (a wide, short C).
  index_t nu = 1;
  if (mu < 2 * threads) nu = min_i(ceil_div(2 * threads, mu), ceil_div(nc_max, g.nr));
  float* const bbase = t_bpack.get(static_cast<std::size_t>(2 * kc_max * nc_max));
  float* const bufs[2] = {bbase, bbase + kc_max * nc_max};
  Team team;
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    float* const apack = team.own_buffer(t_apack, unit_rows * kc_max);
    index_t it = 0;
    for (index_t jc = 0; jc < j.N && team.ok(); jc += bk.nc) {
      const index_t nc = min_i(bk.nc, j.N - jc);
      const index_t np = ceil_div(nc, g.nr);
      const index_t group = ceil_div(np, 4 * threads);  // B panels per pack task
      for (index_t pc = 0; pc < j.K; pc += bk.kc, ++it) {
        const index_t kc = min_i(bk.kc, j.K - pc);
        const float beta_k = pc == 0 ? j.beta : 1.0f;
        float* const bp = bufs[it % 2];
        const float* b = j.B + pc * j.rsb + jc * j.csb;
        team.pack_together(it, ceil_div(np, group), [&](index_t q) {
          const index_t p0 = q * group, p1 = min_i(np, p0 + group);
          pack_b(g.pack, kc, min_i(nc, p1 * g.nr) - p0 * g.nr, b + p0 * g.nr * j.csb, j.rsb,
                 j.csb, g.nr, bp + p0 * g.nr * kc);
        });
        team.share_units(it, mu * nu, [&](index_t u) {
          const index_t r = u / nu, c = u % nu;
          const index_t q0 = np * c / nu, q1 = np * (c + 1) / nu;
          if (q0 == q1) return;
          const index_t ic = m_panels * r / mu * g.mr;
          const index_t mc = min_i(j.M, m_panels * (r + 1) / mu * g.mr) - ic;
          const index_t j0 = q0 * g.nr, ncu = min_i(nc, q1 * g.nr) - j0;
          Panels pn{apack, kc, 1, g.mr, bp + q0 * g.nr * kc, kc, g.nr,
                    q1 - q0 <= kDirectPanels, false, apack, nullptr};
          set_a(j, j.A + ic * j.rsa + pc * j.csa, mc, kc, apack, &pn);
          const EpilogueStep es{j.ep, j.ep_active && pc + kc >= j.K, ic, jc + j0};
          macro_kernel(g, mc, ncu, kc, pn, j.alpha, beta_k, j.C + ic * j.ldc + jc + j0, j.ldc, es);
        });
      }
    }
  }
  team.rethrow();
}

// The shared-A parallel loops (file comment), on `threads` threads: all of op(A)'s
// rows are one ic block (M <= mc).
void run_shared_a(const Job& j, index_t threads) {
  const GemmArch& g = j.g;
  const Blocking& bk = j.bk;
  const index_t kc_max = min_i(bk.kc, j.K);
  const index_t m_panels = ceil_div(j.M, g.mr), n_panels = ceil_div(j.N, g.nr);
  // Column units (work_units), each packing at most mc / (2 nr) B panels (a quarter
  // of the L2 budget, beside the A block).
  const index_t nu = work_units(n_panels, threads, bk.mc / (2 * g.nr));
  const index_t unit_panels = ceil_div(n_panels, nu);  // the largest unit
  // Row units too when there are few column units (a narrow C), of at least 8 A
  // panels each: every row unit of a column unit packs its B panels again.
  const index_t mu =
      nu < 2 * threads ? max_i(1, min_i(ceil_div(2 * threads, nu), m_panels / 8)) : 1;
  const index_t a_size = m_panels * g.mr * kc_max;
  float* const abase = t_apack.get(static_cast<std::size_t>(2 * a_size));
  float* const bufs[2] = {abase, abase + a_size};
  const index_t group = ceil_div(m_panels, 4 * threads);  // A panels per pack task
  Team team;
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    float* const bpack = team.own_buffer(t_bpack, unit_panels * g.nr * kc_max);
    index_t it = 0;
    for (index_t pc = 0; pc < j.K && team.ok(); pc += bk.kc, ++it) {
      const index_t kc = min_i(bk.kc, j.K - pc);
      const float beta_k = pc == 0 ? j.beta : 1.0f;
      float* const ap = bufs[it % 2];
      const float* a = j.A + pc * j.csa;
      team.pack_together(it, ceil_div(m_panels, group), [&](index_t q) {
        const index_t p0 = q * group, p1 = min_i(m_panels, p0 + group);
        pack_a(g.pack, min_i(j.M, p1 * g.mr) - p0 * g.mr, kc, a + p0 * g.mr * j.rsa, j.rsa,
               j.csa, g.mr, ap + p0 * g.mr * kc);
      });
      team.share_units(it, mu * nu, [&](index_t u) {
        const index_t c = u / mu, r = u % mu;
        const index_t q0 = n_panels * c / nu, q1 = n_panels * (c + 1) / nu;
        const index_t p0 = m_panels * r / mu, p1 = m_panels * (r + 1) / mu;
        const index_t j0 = q0 * g.nr, ncu = min_i(j.N, q1 * g.nr) - j0;
        const index_t ic = p0 * g.mr, mc = min_i(j.M, p1 * g.mr) - ic;
        pack_b(g.pack, kc, ncu, j.B + pc * j.rsb + j0 * j.csb, j.rsb, j.csb, g.nr, bpack);
        const Panels pn{ap + ic * kc, kc, 1, g.mr, bpack, kc, g.nr, false, false, nullptr,
                        nullptr};
        const EpilogueStep es{j.ep, j.ep_active && pc + kc >= j.K, ic, j0};
        macro_kernel(g, mc, ncu, kc, pn, j.alpha, beta_k, j.C + ic * j.ldc + j0, j.ldc, es);
      });
    }
  }
  team.rethrow();
}

// Which operand the team shares. B (run_shared) unless all of op(A) is one ic block
// and C is at least as wide as tall: then every row unit of run_shared would read the
// whole shared B block (from other cores' caches) for a few rows of work, while
// sharing A lets each thread pack and keep only its own B columns.
// FASTNN_GEMM_SHARE=a|b forces one where it applies (read once; for tests and
// benchmarks).
bool share_a(const Job& j) {
  static const char forced = [] {
    const char* env = std::getenv("FASTNN_GEMM_SHARE");
    return env != nullptr && (env[0] == 'a' || env[0] == 'b') && env[1] == '\0' ? env[0] : '\0';
  }();
  if (j.M > j.bk.mc) return false;
  if (forced != '\0') return forced == 'a';
  return j.M <= j.N;
}
#endif

// The tm x tn thread grid (tm * tn = threads) that packs the least per thread,
// in floats per K: ceil(M_panels / tm) * mr + ceil(N_panels / tn) * nr.
void choose_grid(const GemmArch& g, index_t threads, index_t m_panels, index_t n_panels,
                 index_t* tm, index_t* tn) {
  index_t best = -1;
  for (index_t r = 1; r <= threads; ++r) {
    if (threads % r != 0) continue;
    const index_t c = threads / r;
    const index_t cost = ceil_div(m_panels, r) * g.mr + ceil_div(n_panels, c) * g.nr;
    if (best < 0 || cost < best) {
      best = cost;
      *tm = r;
      *tn = c;
    }
  }
}

// Columns of C that g.gemv takes (gemv_tile.h) with op(A) row-major: one always; two
// to kGemvColumns when K >= 32 N (each element ends in a 16-lane fold, which on shallower
// products costs more than the blocked path's padding lanes: 1 thread, Xeon, 4096 rows,
// us blocked / gemv: N = 2, K = 64: 87 / 53; N = 4, K = 64: 85-91 / 95, K = 128: 196 /
// 162-171; N = 3, K = 128: 150-192 / 134-145). Chosen by N, K and the layout, never by
// M, so a row's bits do not depend on its batch.
constexpr index_t kGemvColumns = 4;

bool takes_gemv(const GemmArch& g, bool trans_a, index_t N, index_t K) {
  return !trans_a && g.gemv != nullptr && (N == 1 || (N <= kGemvColumns && K >= 32 * N));
}

// Units [0, units) of a product of `macs` multiply-adds, one contiguous range of them per
// thread: f(u0, u1) for each range, on at most one thread per 4 units (gemm_threads:
// serial below the threshold). For the paths whose units (rows, column groups) each do
// their own arithmetic, so any split gives the same bits.
template <class F>
void split_units(double macs, index_t units, const F& f) {
  const index_t threads = min_i(gemm_threads(macs, team_threads()), ceil_div(units, 4));
  if (threads <= 1) {
    f(index_t{0}, units);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(threads))
  for (index_t t = 0; t < threads; ++t) f(units * t / threads, units * (t + 1) / threads);
#endif
}

// A product with N <= kGemvColumns columns and op(A) row-major: g.gemv, 16 lanes along
// k (gemv_tile.h), rows split over the threads (each row's arithmetic is its own, so any
// split gives the same bits). The columns of op(B) are read in place when contiguous
// (op(B) = B^T with B of shape (N, K), or one column with ldb 1), else copied.
void run_gemv(const GemmArch& g, bool trans_b, index_t M, index_t N, index_t K, float alpha,
              const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C,
              index_t ldc) {
  const float* x = B;  // column c of op(B) at x + c * ldx
  index_t ldx = ldb;
  if (!trans_b && !(N == 1 && ldb == 1)) {  // B is K x N: its columns are strided
    float* copy = t_bpack.get(static_cast<std::size_t>(N * K));
    for (index_t k = 0; k < K; ++k)
      for (index_t c = 0; c < N; ++c) copy[c * K + k] = B[k * ldb + c];
    x = copy;
    ldx = K;
  }
  split_units(static_cast<double>(M) * N * K, ceil_div(M, 4), [&](index_t q0, index_t q1) {
    const index_t m0 = 4 * q0, m1 = min_i(M, 4 * q1);  // units of 4 rows
    g.gemv(m1 - m0, N, K, A + m0 * lda, lda, x, ldx, alpha, beta, C + m0 * ldc, ldc);
  });
}

thread_local PackBuffer t_ctrans;

// A product whose C has fewer columns than a vector has lanes (N < g.lanes) and more
// rows than columns, as C^T = op(B)^T op(A)^T: N rows and M columns, so the lanes run
// along M (the file comment). Directly, the lanes covered N of 16 (avx512), and op(B)
// was packed into panels 48 wide, 48 - N of them zeros. Every element gets the same FMAs
// over the same K blocks and the same write-back (fl(fl(alpha * acc) + fl(beta * C))) as
// in the direct product, so the bits are the same, for any M. C^T is written to a
// scratch matrix (C^T of C, when beta reads it) and copied back; a single column with
// ldc 1 is its own transpose.
void run_transposed(const GemmArch& g, bool trans_a, bool trans_b, index_t M, index_t N,
                    index_t K, float alpha, const float* A, index_t lda, const float* B,
                    index_t ldb, float beta, float* C, index_t ldc) {
  const bool in_place = N == 1 && ldc == 1;
  float* const t = in_place ? C : t_ctrans.get(static_cast<std::size_t>(M * N));
  if (!in_place && beta != 0.0f)
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) t[j * M + i] = C[i * ldc + j];
  // op(B)^T is B read with the other transpose flag (one row of it: any leading
  // dimension will do, K is always a valid one), op(A)^T likewise.
  const GemmEpilogue none{};
  gemm_blocked(g, !trans_b, !trans_a, N, M, K, alpha, B, N == 1 && trans_b ? K : ldb, A, lda,
               beta, t, M, none);
  if (!in_place)
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) C[i * ldc + j] = t[j * M + i];
}

// A product of at most kFewRows rows (op(A) either way, read through its strides) with
// op(B) = W^T, W row-major (x @ W^T on a few samples): g.few_rows (few_rows.h), column
// groups of 16 split over the threads, the K blocks of the blocked path (so its bits).
void run_few_rows(const GemmArch& g, index_t kc, index_t M, index_t N, index_t K, float alpha,
                  const float* A, index_t rsa, index_t csa, const float* W, index_t ldw,
                  float beta, float* C, index_t ldc) {
  split_units(static_cast<double>(M) * N * K, ceil_div(N, 16), [&](index_t g0, index_t g1) {
    g.few_rows(M, N, K, kc, alpha, A, rsa, csa, W, ldw, beta, C, ldc, g0, g1);
  });
}

// Rows of op(A) times a row-major op(B) that g.stream_rows takes: one row always; two to
// kStreamRows when B holds at least 2^20 floats (4 MiB, beyond L2), where the blocked
// path's tiles wait on B's rows from L3 or memory. On B blocks that L2 holds, its register
// tiles win from two rows on. 2-core Zen 4, 1 thread, us a call, blocked -> streamed
// (NumPy): 1x512 @ 512x784 30 -> 19-21 (19-21), 1x256 @ 256x512 10 -> 5.8 (6.7), 1x1024 @
// 1024x1024 140 -> 51 (54), 1x4096 @ 4096x4096 6.3 -> 2.8 ms (2.6), 2x1024 @ 1024x1024 137
// -> 78 (409), 4x1024 @ 1024x4096 957 -> 448-484 (2013); but 2x512 @ 512x784 30 -> 33
// (28), 2x512 @ 512x256 6.9 -> 10.8, 3x512 @ 512x784 35 -> 48.
constexpr double kStreamLargeB = 1 << 20;

bool takes_stream(index_t M, index_t N, index_t K) {
  return M == 1 || (M <= kStreamRows && static_cast<double>(N) * K >= kStreamLargeB);
}

// Rows of op(A) times a row-major op(B) that takes_stream chose: g.stream_rows
// (stream_rows_tile.h), columns split over the threads in multiples of 64, the K blocks of
// the blocked path (so its bits).
void run_stream_rows(const GemmArch& g, index_t kc, index_t M, index_t N, index_t K,
                     float alpha, const float* A, index_t rsa, index_t csa, const float* B,
                     index_t ldb, float beta, float* C, index_t ldc) {
  split_units(static_cast<double>(M) * N * K, ceil_div(N, 64), [&](index_t u0, index_t u1) {
    g.stream_rows(M, 64 * u0, min_i(N, 64 * u1), K, kc, alpha, A, rsa, csa, B, ldb, beta, C,
                  ldc);  // units of 64 columns
  });
}

}  // namespace

void gemm_blocked(const GemmArch& g, bool trans_a, bool trans_b, index_t M, index_t N,
                  index_t K, float alpha, const float* A, index_t lda, const float* B,
                  index_t ldb, float beta, float* C, index_t ldc, const GemmEpilogue& ep) {
  if (M <= 0 || N <= 0) return;
  const bool ep_active = epilogue_active(ep);
  if (K <= 0) {
    scale_c(M, N, beta, C, ldc);
    if (ep_active) apply_tile_epilogue(ep, M, N, C, ldc, 0, 0);
    return;
  }
  if (takes_gemv(g, trans_a, N, K)) {  // x @ w.T with w of shape (1..4, K), ...
    run_gemv(g, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (ep_active) apply_tile_epilogue(ep, M, N, C, ldc, 0, 0);
    return;
  }
  // op(A) read along its rows; not where C^T would take the gemv (its own bits).
  if (trans_a && g.lanes > 0 && N < g.lanes && M > N && !takes_gemv(g, !trans_b, M, K)) {
    run_transposed(g, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (ep_active) apply_tile_epilogue(ep, M, N, C, ldc, 0, 0);
    return;
  }
  // K blocks of equal depth: K = 784 with kc 384 runs as 264 + 264 + 256, not 384 + 384
  // + 16, whose last block would pay a whole C read-modify-write pass and a packing
  // pass for 16 multiply-adds per element. Depends on K and the blocks only, so every
  // thread count and path splits K alike.
  Blocking bk = arch_blocking(g);
  const index_t k_blocks = ceil_div(K, bk.kc);
  bk.kc = min_i(bk.kc, ceil_div(ceil_div(K, k_blocks), 8) * 8);
  if (trans_b && M <= kFewRows && g.few_rows != nullptr) {  // x @ W^T, few rows
    run_few_rows(g, bk.kc, M, N, K, alpha, A, trans_a ? 1 : lda, trans_a ? lda : 1, B, ldb,
                 beta, C, ldc);
    if (ep_active) apply_tile_epilogue(ep, M, N, C, ldc, 0, 0);
    return;
  }
  if (!trans_b && g.stream_rows != nullptr && takes_stream(M, N, K)) {  // x @ W, few rows
    run_stream_rows(g, bk.kc, M, N, K, alpha, A, trans_a ? 1 : lda, trans_a ? lda : 1, B, ldb,
                    beta, C, ldc);
    if (ep_active) apply_tile_epilogue(ep, M, N, C, ldc, 0, 0);
    return;
  }
  const Job job{g,     bk, M, N, K, alpha, beta, A, trans_a ? 1 : lda,
                trans_a ? lda : 1, B, trans_b ? 1 : ldb, trans_b ? ldb : 1, C, ldc, ep, ep_active};
  // Threads: serial below 16M multiply-adds, then one per 2M (by default:
  // util/parallel_thresholds.h), at most one per C tile.
  const double macs = static_cast<double>(M) * N * K;
  const index_t m_panels = ceil_div(M, g.mr), n_panels = ceil_div(N, g.nr);
  const index_t threads = min_i(gemm_threads(macs, team_threads()), m_panels * n_panels);
  if (threads <= 1) {
    run_block(job, 0, M, 0, N);
    return;
  }
#ifdef _OPENMP
  if (!(job.csb == 1 && m_panels <= kDirectPanels)) {
    if (share_a(job))
      run_shared_a(job, threads);
    else
      run_shared(job, threads);
    return;
  }
#endif
  // Skinny M, row-major B (read in place, nothing to share): column blocks per thread.
  index_t tm = 1, tn = threads;
  choose_grid(g, threads, m_panels, n_panels, &tm, &tn);
  // An exception must not leave an OpenMP region (that terminates the process): a
  // failed pack-buffer allocation is caught per thread and rethrown here, so the
  // caller sees std::bad_alloc (MemoryError in Python).
  std::exception_ptr error;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (index_t t = 0; t < tm * tn; ++t) {
    const index_t r = t / tn, c = t % tn;
    try {
      run_block(job, m_panels * r / tm * g.mr, min_i(M, m_panels * (r + 1) / tm * g.mr),
                n_panels * c / tn * g.nr, min_i(N, n_panels * (c + 1) / tn * g.nr));
    } catch (...) {
#pragma omp critical(fastnn_gemm_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace fastnn::gemm_detail
