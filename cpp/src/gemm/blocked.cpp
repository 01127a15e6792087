// blocked.cpp: the BLIS five-loop GEMM over packed micro-panels.
//
//   for jc in N step nc:                    B block columns      (serial)
//     for pc in K step kc:                  K blocks, ascending  (serial: fixes the order over K)
//       pack op(B)[pc:pc+kc, jc:jc+nc]      shared, panels split over threads
//       for (ic, column group) tasks:       M blocks x groups of B panels (OpenMP)
//         pack op(A)[ic:ic+mc, pc:pc+kc]    per thread (reused across its groups)
//         for jr in group step nr:          macro-kernel
//           for ir in mc step mr:
//             micro-kernel: C tile = alpha * A panel @ B panel + beta_k * C tile
//
// beta_k is beta for the first K block and 1 afterwards, so C accumulates the K
// blocks in ascending order. The epilogue (gemm.h) runs on each tile right after
// the micro-kernel wrote its last K block, while the tile is in L1 (the caller
// passes only the per-tile part: epilogue.h). Threads split only the M and N loops: every C
// element sees the same operations in the same order at any thread count, so
// results are bit-identical at 1 and N threads.
#include "gemm/blocked.h"

#include "gemm/epilogue.h"
#include "gemm/pack.h"
#include "gemm/pack_buffer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastnn::gemm_detail {

namespace {

// Below this many multiply-adds a parallel region costs more than it saves.
constexpr double kParallelMinMacs = 1 << 20;

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }
index_t min_i(index_t a, index_t b) { return a < b ? a : b; }

// C = beta * C, the whole product when K == 0 (beta == 0 writes zeros).
void scale_c(index_t M, index_t N, float beta, float* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

// Packed B panels [p0, p1) times the packed mc x kc A block, into C at (ic, jc).
// Edge tiles go through an on-stack tile, then the same write-back as ukernel.h.
// Tile (ir, jr) is C[ic + ir, jc + jr]: the epilogue needs its global position.
// active: this is the last K block and the epilogue does something.
struct EpilogueStep {
  const GemmEpilogue& ep;
  bool active;
  index_t ic, jc;
};

void macro_kernel(const GemmArch& g, index_t mc, index_t nc, index_t kc, index_t p0, index_t p1,
                  const float* apack, const float* bpack, float alpha, float beta, float* C,
                  index_t ldc, const EpilogueStep& es) {
  alignas(64) float tile[kMaxTile];
  for (index_t p = p0; p < p1; ++p) {
    const index_t jr = p * g.nr;
    const index_t nr = min_i(g.nr, nc - jr);
    const float* bp = bpack + p * g.nr * kc;
    for (index_t ir = 0; ir < mc; ir += g.mr) {
      const index_t mr = min_i(g.mr, mc - ir);
      const float* ap = apack + ir * kc;
      float* c = C + ir * ldc + jr;
      if (mr == g.mr && nr == g.nr) {
        g.ukernel(kc, ap, bp, alpha, beta, c, ldc);
      } else {
        g.ukernel(kc, ap, bp, 1.0f, 0.0f, tile, g.nr);
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

#ifdef _OPENMP
index_t max_threads() { return omp_get_max_threads(); }
index_t thread_index() { return omp_get_thread_num(); }
index_t team_size() { return omp_get_num_threads(); }
#else
index_t max_threads() { return 1; }
index_t thread_index() { return 0; }
index_t team_size() { return 1; }
#endif

// Waits for the whole team; nothing to wait for when alone.
void team_barrier(index_t nthreads) {
  if (nthreads > 1) {
#pragma omp barrier
  }
}

// One product's arguments, with op(X)[r, c] = X[r * rs + c * cs] (pack.h).
struct Job {
  const GemmArch& g;
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
  float* bpack;          // the caller's B buffer, shared by the team
  std::size_t a_floats;  // size of each thread's A buffer
};

// Thread `tid` of `nthreads`' share of the product: B panels and (M block, panel
// group) tasks are split statically; every thread runs the same loop nest, so the
// barriers match.
void run_share(const Job& j, index_t tid, index_t nthreads) {
  const GemmArch& g = j.g;
  static thread_local PackBuffer a_buffer;  // each team thread's own
  float* const apack = a_buffer.get(j.a_floats);
  for (index_t jc = 0; jc < j.N; jc += g.nc) {
    const index_t nc = min_i(g.nc, j.N - jc);
    const index_t n_panels = ceil_div(nc, g.nr);
    const index_t n_ic = ceil_div(j.M, g.mc);
    // Enough tasks (about 4 per thread) to balance edges; 1 thread: one per M block.
    const index_t groups = nthreads == 1 ? 1 : min_i(n_panels, ceil_div(4 * nthreads, n_ic));
    const index_t n_tasks = n_ic * groups;
    for (index_t pc = 0; pc < j.K; pc += g.kc) {
      const index_t kc = min_i(g.kc, j.K - pc);
      const float beta_k = pc == 0 ? j.beta : 1.0f;
      const float* b = j.B + pc * j.rsb + jc * j.csb;
      for (index_t p = n_panels * tid / nthreads; p < n_panels * (tid + 1) / nthreads; ++p)
        pack_b_panel(g.pack, kc, nc, p, b, j.rsb, j.csb, g.nr, j.bpack + p * g.nr * kc);
      team_barrier(nthreads);  // B is packed before anyone reads it

      index_t packed_ic = -1;
      for (index_t t = n_tasks * tid / nthreads; t < n_tasks * (tid + 1) / nthreads; ++t) {
        const index_t ic = (t / groups) * g.mc;
        const index_t group = t % groups;
        const index_t mc = min_i(g.mc, j.M - ic);
        if (ic != packed_ic) {
          pack_a(g.pack, mc, kc, j.A + ic * j.rsa + pc * j.csa, j.rsa, j.csa, g.mr, apack);
          packed_ic = ic;
        }
        const EpilogueStep es{j.ep, j.ep_active && pc + kc >= j.K, ic, jc};
        macro_kernel(g, mc, nc, kc, group * n_panels / groups, (group + 1) * n_panels / groups,
                     apack, j.bpack, j.alpha, beta_k, j.C + ic * j.ldc + jc, j.ldc, es);
      }
      team_barrier(nthreads);  // nobody still reads B when the next pc repacks it
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
  const index_t rsa = trans_a ? 1 : lda, csa = trans_a ? lda : 1;
  const index_t rsb = trans_b ? 1 : ldb, csb = trans_b ? ldb : 1;
  const index_t kc_max = min_i(g.kc, K);
  const index_t mc_max = min_i(g.mc, ceil_div(M, g.mr) * g.mr);
  const index_t nc_max = min_i(g.nc, ceil_div(N, g.nr) * g.nr);

  static thread_local PackBuffer b_buffer;  // the caller's; shared with the team
  const Job job{g, M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb, C, ldc, ep,
                ep_active, b_buffer.get(static_cast<std::size_t>(kc_max * nc_max)),
                static_cast<std::size_t>(mc_max * kc_max)};
  // Below the threshold, or with one thread, no parallel region at all: even an
  // inactive one costs a few microseconds, comparable to a small product.
  const bool parallel = static_cast<double>(M) * N * K >= kParallelMinMacs && max_threads() > 1;
  if (!parallel) {
    run_share(job, 0, 1);
    return;
  }
#pragma omp parallel
  run_share(job, thread_index(), team_size());
}

}  // namespace fastnn::gemm_detail
