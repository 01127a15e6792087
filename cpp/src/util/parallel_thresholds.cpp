// parallel_thresholds.cpp: the work sizes of parallel_thresholds.h, read once.
#include "util/parallel_thresholds.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace fastnn {

namespace {

// Defaults. GEMM: at 2 threads on a 2-core Zen 4, 512K multiply-adds per thread made
// 200x64x100 and 128^3 products 2.5-3.4x slower than one thread (and `fastnn train`
// 1.9x slower); 200x200x256 (10M) alone runs in 0.84-0.90 of the 1-thread time, but a
// training step of such products (200-256-128-10) ran slower at 2 threads than at 1
// until they stayed serial; 256^3 (17M) and up: 0.57-0.81 of the 1-thread time.
// Once split (gemm_threads), on a 16-core Xeon: 8M per thread gave the
// 51M-multiply-add MLP products 6 threads and 128x512x256 (17M) 2, at 0.4-0.7x NumPy on
// 8 and 16 threads; one thread per 2M gave 1.1-1.5x (per 1M was no faster). On 2 cores
// nothing changes: every product from 16M took both threads already.
struct Thresholds {
  double macs = 1 << 23;
  index_t elements = 1 << 18;
  const char* source = "default";
};

// "MACS,ELEMENTS", two positive integers up to 2^53 (exact as doubles, and far above any
// product); anything else (out of range included: strtoll saturates) keeps the defaults.
Thresholds read() {
  Thresholds t;
  const char* env = std::getenv("FASTNN_PARALLEL_THRESHOLDS");
  if (env == nullptr) return t;
  constexpr long long kMax = 1LL << 53;
  char* end = nullptr;
  errno = 0;
  const long long macs = std::strtoll(env, &end, 10);
  if (end == env || *end != ',' || macs <= 0 || macs > kMax || errno == ERANGE) return t;
  const char* rest = end + 1;
  const long long elements = std::strtoll(rest, &end, 10);
  if (end == rest || *end != '\0' || elements <= 0 || elements > kMax || errno == ERANGE)
    return t;
  return Thresholds{static_cast<double>(macs), static_cast<index_t>(elements), "env"};
}

const Thresholds& thresholds() {
  static const Thresholds t = read();  // thread-safe initialisation
  return t;
}

}  // namespace

double gemm_min_macs_per_thread() { return thresholds().macs; }

double gemm_macs_per_extra_thread() {
  const double quarter = std::floor(thresholds().macs / 4);
  return quarter < 1 ? 1 : quarter;
}

index_t gemm_threads(double macs, index_t max_threads) {
  if (max_threads <= 1 || macs < 2 * thresholds().macs) return 1;
  const double threads = macs / gemm_macs_per_extra_thread();  // at least 8 here
  return threads >= static_cast<double>(max_threads) ? max_threads
                                                     : static_cast<index_t>(threads);
}
index_t elementwise_threshold() { return thresholds().elements; }
const char* parallel_thresholds_source() { return thresholds().source; }

}  // namespace fastnn
