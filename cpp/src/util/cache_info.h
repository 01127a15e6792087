// cache_info.h: the data-cache sizes of this CPU (per core: L1d, L2; L3 whole),
// read once at run time, for the GEMM block sizes (gemm/arch.h).
//
// Sources, first that answers: FASTNN_CACHE_SIZES="L1,L2,L3" (bytes, with an
// optional K or M suffix, e.g. "32K,1M,32M": for tests and experiments), cpuid
// (leaf 4 on Intel, 0x8000001D on AMD: the deterministic cache parameters), and
// Linux sysfs (/sys/devices/system/cpu/cpu0/cache). A size no source gives is 0,
// and the GEMM then keeps its table's block size for it.
#pragma once

#include <cstdint>

namespace fastnn {

struct CacheInfo {
  std::int64_t l1d = 0, l2 = 0, l3 = 0;  // bytes; 0: unknown
  const char* source = "none";           // "env", "cpuid", "sysfs" or "none"
};

// Parses a FASTNN_CACHE_SIZES value; false (and *out untouched) when malformed.
bool parse_cache_sizes(const char* value, CacheInfo* out);

// This CPU's caches (computed once, then cached; thread-safe).
const CacheInfo& cache_info();

}  // namespace fastnn
