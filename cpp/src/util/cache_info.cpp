// cache_info.cpp: cache sizes from FASTNN_CACHE_SIZES, cpuid or sysfs (see cache_info.h).
#include "util/cache_info.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define FASTNN_CACHE_CPUID 1
#endif

namespace fastnn {

namespace {

// "32K" -> 32768; nullptr past the number on a bad value.
const char* parse_size(const char* s, std::int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || v <= 0) return nullptr;
  std::int64_t scale = 1;
  if (*end == 'K' || *end == 'k') scale = 1024, ++end;
  else if (*end == 'M' || *end == 'm') scale = 1024 * 1024, ++end;
  *out = static_cast<std::int64_t>(v) * scale;
  return end;
}

#ifdef FASTNN_CACHE_CPUID
// Walks the deterministic cache parameter leaf (4 or 0x8000001D): each subleaf is
// one cache; size = ways * partitions * line size * sets.
bool from_cpuid(CacheInfo* info) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
  const bool amd = b == 0x68747541u;  // "Auth" of "AuthenticAMD"
  unsigned leaf = 4;
  if (amd) {
    // AMD reports caches in 0x8000001D when TopologyExtensions (0x80000001 ECX bit 22) is set.
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d) || !((c >> 22) & 1u)) return false;
    leaf = 0x8000001Du;
  } else if (a < 4) {
    return false;
  }
  CacheInfo found;
  for (unsigned sub = 0; sub < 16; ++sub) {
    __cpuid_count(leaf, sub, a, b, c, d);
    const unsigned type = a & 0x1Fu, level = (a >> 5) & 0x7u;
    if (type == 0) break;  // no more caches
    if (type == 2) continue;  // instruction cache
    const std::int64_t size = static_cast<std::int64_t>((b >> 22) + 1) * (((b >> 12) & 0x3FFu) + 1) *
                              ((b & 0xFFFu) + 1) * (static_cast<std::int64_t>(c) + 1);
    if (level == 1) found.l1d = size;
    if (level == 2) found.l2 = size;
    if (level == 3) found.l3 = size;
  }
  if (found.l1d == 0 || found.l2 == 0) return false;
  found.source = "cpuid";
  *info = found;
  return true;
}
#endif

// Linux: /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size}.
bool from_sysfs(CacheInfo* info) {
  CacheInfo found;
  for (int i = 0; i < 8; ++i) {
    char path[96], text[32] = {};
    int level = 0;
    std::int64_t size = 0;
    auto read = [&](const char* name) {
      std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", i, name);
      std::FILE* f = std::fopen(path, "r");
      if (f == nullptr) return false;
      const bool ok = std::fgets(text, sizeof text, f) != nullptr;
      std::fclose(f);
      return ok;
    };
    if (!read("level")) break;
    level = std::atoi(text);
    if (!read("type") || std::strncmp(text, "Instruction", 11) == 0) continue;
    if (!read("size") || parse_size(text, &size) == nullptr) continue;
    if (level == 1) found.l1d = size;
    if (level == 2) found.l2 = size;
    if (level == 3) found.l3 = size;
  }
  if (found.l1d == 0 || found.l2 == 0) return false;
  found.source = "sysfs";
  *info = found;
  return true;
}

CacheInfo detect() {
  CacheInfo info;
  const char* env = std::getenv("FASTNN_CACHE_SIZES");
  if (env != nullptr && parse_cache_sizes(env, &info)) return info;
#ifdef FASTNN_CACHE_CPUID
  if (from_cpuid(&info)) return info;
#endif
  if (from_sysfs(&info)) return info;
  return CacheInfo{};
}

}  // namespace

bool parse_cache_sizes(const char* value, CacheInfo* out) {
  std::int64_t v[3];
  const char* s = value;
  for (int i = 0; i < 3; ++i) {
    s = parse_size(s, &v[i]);
    if (s == nullptr || *s != (i < 2 ? ',' : '\0')) return false;
    if (i < 2) ++s;
  }
  out->l1d = v[0];
  out->l2 = v[1];
  out->l3 = v[2];
  out->source = "env";
  return true;
}

const CacheInfo& cache_info() {
  static const CacheInfo info = detect();
  return info;
}

}  // namespace fastnn
