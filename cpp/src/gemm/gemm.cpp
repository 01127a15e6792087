// gemm.cpp: GEMM entry points: the dispatched blocked path, and the by-name paths the
// tests use to check every kernel.
//
// Every product, however small, runs the blocked path (or, with one to four columns of
// C and a row-major op(A), its gemv: chosen by N, K and the layout, never by M): a row of
// C then gets the same arithmetic whatever M is and whatever rows share the call, so a
// model's output for a sample does not depend on the batch it is in (scikit-learn's
// estimator checks ask this of predict). A tiny-size shortcut through the reference loop saved
// under a microsecond and broke that.
#include "fastnn/gemm.h"

#include <cstring>

#include "gemm/arch.h"
#include "gemm/blocked.h"
#include "gemm/epilogue.h"

namespace fastnn {

namespace {

// The whole epilogue over C after the reference product.
void finish_reference(const GemmEpilogue& ep, index_t M, index_t N, float* C, index_t ldc) {
  const GemmEpilogue tile = gemm_detail::tile_epilogue(ep);
  if (gemm_detail::epilogue_active(tile)) gemm_detail::apply_tile_epilogue(tile, M, N, C, ldc, 0, 0);
  gemm_detail::apply_deferred_activation(ep, M, N, C, ldc);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, float alpha,
          const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C,
          index_t ldc, const GemmEpilogue& epilogue) {
  gemm_detail::gemm_blocked(gemm_detail::dispatched_arch(M), trans_a, trans_b, M, N, K, alpha, A,
                            lda, B, ldb, beta, C, ldc, gemm_detail::tile_epilogue(epilogue));
  gemm_detail::apply_deferred_activation(epilogue, M, N, C, ldc);
}

bool gemm_with_arch(const char* arch, bool trans_a, bool trans_b, index_t M, index_t N,
                    index_t K, float alpha, const float* A, index_t lda, const float* B,
                    index_t ldb, float beta, float* C, index_t ldc,
                    const GemmEpilogue& epilogue) {
  if (std::strcmp(arch, "reference") == 0) {
    gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    finish_reference(epilogue, M, N, C, ldc);
    return true;
  }
  const gemm_detail::GemmArch* g = gemm_detail::find_arch(arch);
  if (g == nullptr) return false;
  gemm_detail::gemm_blocked(*g, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                            gemm_detail::tile_epilogue(epilogue));
  gemm_detail::apply_deferred_activation(epilogue, M, N, C, ldc);
  return true;
}

bool gemm_arch_supported(const char* arch) {
  return std::strcmp(arch, "reference") == 0 || gemm_detail::find_arch(arch) != nullptr;
}

const char* gemm_arch() { return gemm_detail::active_arch().name; }

GemmBlockingInfo gemm_blocking_info() {
  const gemm_detail::GemmArch& g = gemm_detail::active_arch();
  const gemm_detail::Blocking& b = gemm_detail::arch_blocking(g);
  const CacheInfo& c = cache_info();
  const gemm_detail::GemmArch* t = gemm_detail::tall_arch(g);
  return {g.mr, g.nr, b.mc, b.kc, b.nc, t ? t->mr : 0, t ? t->nr : 0,
          t ? gemm_detail::kTallRows : 0, c.l1d, c.l2, c.l3, c.source};
}

}  // namespace fastnn
