// blocked.cpp: the BLIS five-loop GEMM over packed micro-panels, threaded by a
// 2-D split of C.
//
// Threads: C is cut into a tm x tn grid of blocks (rows in multiples of mr,
// columns in multiples of nr), one block per thread, with tm * tn = threads
// chosen to minimize what each thread packs ((M / tm + N / tn) * K floats). Each
// thread runs the serial loops below on its block with its own pack buffers: no
// shared state and no barriers, so a thread delayed by another process never
// stalls the others mid-product, and skinny training shapes (M = 128) still
// split over every core (along N).
//
// Serial loops (one block):
//   for jc in N step nc:                    B block columns
//     for pc in K step kc:                  K blocks, ascending (fixes the order over K)
//       pack op(B)[pc:pc+kc, jc:jc+nc]
//       for ic in M step mc:
//         pack op(A)[ic:ic+mc, pc:pc+kc]
//         for jr in nc step nr:             macro-kernel
//           for ir in mc step mr:
//             micro-kernel: C tile = alpha * A panel @ B panel + beta_k * C tile
//
// beta_k is beta for the first K block and 1 afterwards, so C accumulates the K
// blocks in ascending order. The epilogue (gemm.h) runs on each tile right after
// the micro-kernel wrote its last K block, while the tile is in L1 (the caller
// passes only the per-tile part: epilogue.h). Every C element sees the same
// operations in the same order whatever block it falls in, so results are
// bit-identical at any thread count.
#include "gemm/blocked.h"

#include <exception>

#include "fastnn/threads.h"
#include "gemm/epilogue.h"
#include "gemm/pack.h"
#include "gemm/pack_buffer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn::gemm_detail {

namespace {

// Each thread gets at least this many multiply-adds, and a product smaller than
// twice this runs on the calling thread alone: below it a parallel region costs
// more than it saves.
constexpr double kMinMacsPerThread = 1 << 19;

// Operands read by at most this many micro-panels of the other are used in place
// (run_block).
constexpr index_t kDirectPanels = 4;

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }
index_t min_i(index_t a, index_t b) { return a < b ? a : b; }

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

// B panels times A panels (B outer: one B panel stays in L1 while the A panels
// stream through), into C at (ic, jc). Edge tiles go to the kernel's masked edge
// entry when it has one, else through an on-stack tile and the same write-back
// as ukernel.h.
void macro_kernel(const GemmArch& g, index_t mc, index_t nc, index_t kc, const Panels& pn,
                  float alpha, float beta, float* C, index_t ldc, const EpilogueStep& es) {
  alignas(64) float tile[kMaxTile];
  for (index_t jr = 0; jr < nc; jr += g.nr) {
    const index_t nr = min_i(g.nr, nc - jr);
    const float* bp = pn.b + jr * pn.b_step;
    index_t rsb = pn.rsb;
    if (pn.b_direct && nr < g.nr) {  // a partial B row is not NR floats long: pack it
      pack_b(g.pack, kc, nr, bp, pn.rsb, 1, g.nr, pn.b_edge);
      bp = pn.b_edge;
      rsb = g.nr;
    }
    for (index_t ir = 0; ir < mc; ir += g.mr) {
      const index_t mr = min_i(g.mr, mc - ir);
      const bool a_edge = pn.a_direct && mr < g.mr;
      const float* ap = a_edge ? pn.a_edge : pn.a + ir * pn.a_step;
      const index_t rsa = a_edge ? 1 : pn.rsa, csa = a_edge ? g.mr : pn.csa;
      float* c = C + ir * ldc + jr;
      if (mr == g.mr && nr == g.nr) {
        g.ukernel(kc, ap, rsa, csa, bp, rsb, alpha, beta, c, ldc);
      } else if (g.edge != nullptr) {
        g.edge(mr, nr, kc, ap, rsa, csa, bp, rsb, alpha, beta, c, ldc);
      } else {
        g.ukernel(kc, ap, rsa, csa, bp, rsb, 1.0f, 0.0f, tile, g.nr);
        for (index_t i = 0; i < mr; ++i)
          for (index_t j = 0; j < nr; ++j) {
            const float v = alpha * tile[i * g.nr + j];
            c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
          }
      }
      if (es.active)
        apply_tile_epilogue(es.ep, mr, nr, c, ldc, es.ic + ir, es.jc + jr);
    }
  }
}

index_t max_threads() { return get_num_threads(); }

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
  static thread_local PackBuffer a_buffer, b_buffer;
  float* const apack = a_buffer.get(static_cast<std::size_t>(
      (a_direct ? g.mr : min_i(bk.mc, ceil_div(M, g.mr) * g.mr)) * kc_max));
  float* const bpack = b_buffer.get(static_cast<std::size_t>(
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
        if (a_direct) {
          pn.a = a;
          pn.a_step = j.rsa;
          pn.rsa = j.rsa;
          pn.csa = j.csa;
          const index_t full = mc / g.mr * g.mr;  // the edge panel, if any, packed
          if (full < mc) pack_a(g.pack, mc - full, kc, a + full * j.rsa, j.rsa, j.csa, g.mr, apack);
        } else {
          pack_a(g.pack, mc, kc, a, j.rsa, j.csa, g.mr, apack);
        }
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
  const Job job{g,     arch_blocking(g), M, N, K, alpha, beta, A, trans_a ? 1 : lda,
                trans_a ? lda : 1, B, trans_b ? 1 : ldb, trans_b ? ldb : 1, C, ldc, ep, ep_active};
  // Threads: at most one per kMinMacsPerThread of work, and none at all below
  // that (even an inactive parallel region costs a few microseconds).
  const double macs = static_cast<double>(M) * N * K;
  const index_t m_panels = ceil_div(M, g.mr), n_panels = ceil_div(N, g.nr);
  index_t threads = min_i(max_threads(), static_cast<index_t>(macs / kMinMacsPerThread));
  threads = min_i(threads, m_panels * n_panels);
  if (threads <= 1) {
    run_block(job, 0, M, 0, N);
    return;
  }
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
