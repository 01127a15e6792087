// cpu_features.cpp: cpuid + xgetbv detection of AVX2/FMA and AVX-512 (see cpu_features.h).
//
// xgetbv is issued through inline assembly rather than _xgetbv() so this file
// builds with baseline flags (GCC only declares _xgetbv under -mxsave).
#include "util/cpu_features.h"

#include <cstdint>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <immintrin.h>
#include <intrin.h>
#define FASTNN_X86 1
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define FASTNN_X86 1
#endif

namespace fastnn {

namespace {

#ifdef FASTNN_X86

struct Regs {
  std::uint32_t eax, ebx, ecx, edx;
};

Regs cpuid(std::uint32_t leaf, std::uint32_t subleaf) {
  Regs r{};
#if defined(_MSC_VER)
  int v[4];
  __cpuidex(v, static_cast<int>(leaf), static_cast<int>(subleaf));
  r = {static_cast<std::uint32_t>(v[0]), static_cast<std::uint32_t>(v[1]),
       static_cast<std::uint32_t>(v[2]), static_cast<std::uint32_t>(v[3])};
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0: which register states the OS saves (bit 1 SSE, 2 AVX, 5-7 AVX-512).
std::uint64_t xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  std::uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
#endif
}

bool bit(std::uint32_t reg, int b) { return (reg >> b) & 1u; }

CpuFeatures detect() {
  CpuFeatures f;
  const Regs l0 = cpuid(0, 0);
  // "GenuineIntel" in ebx, edx, ecx
  f.intel = l0.ebx == 0x756e6547u && l0.edx == 0x49656e69u && l0.ecx == 0x6c65746eu;
  if (l0.eax < 7) return f;
  const Regs l1 = cpuid(1, 0);
  const bool fma = bit(l1.ecx, 12), osxsave = bit(l1.ecx, 27), avx = bit(l1.ecx, 28);
  if (!osxsave || !avx) return f;  // xgetbv itself is unavailable without OSXSAVE
  const std::uint64_t xcr = xcr0();
  const bool ymm_state = (xcr & 0x6) == 0x6;         // SSE + AVX state
  const bool zmm_state = (xcr & 0xE6) == 0xE6;       // + opmask, ZMM_Hi256, Hi16_ZMM
  const Regs l7 = cpuid(7, 0);
  const bool avx2 = bit(l7.ebx, 5);
  const bool avx512 = bit(l7.ebx, 16) && bit(l7.ebx, 17) && bit(l7.ebx, 30) && bit(l7.ebx, 31);
  f.avx2_fma = avx2 && fma && ymm_state;
  f.avx512 = f.avx2_fma && avx512 && zmm_state;
  return f;
}

#else

CpuFeatures detect() { return {}; }  // not x86: scalar only

#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace fastnn
