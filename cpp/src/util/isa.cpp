// isa.cpp: the once-only choice of the SIMD level (see isa.h).
#include "util/isa.h"

#include <cstdlib>
#include <cstring>

#include "util/cpu_features.h"

namespace fastnn {

Isa cpu_isa() {
  if (!FASTNN_X86_SIMD) return Isa::scalar;  // no SIMD kernels in this build
  const CpuFeatures& f = cpu_features();
  if (f.avx512) return Isa::avx512;
  if (f.avx2_fma) return Isa::avx2;
  return Isa::scalar;
}

Isa isa_cap(const char* value) {
  if (value == nullptr) return Isa::avx512;
  if (std::strcmp(value, "scalar") == 0) return Isa::scalar;
  if (std::strcmp(value, "avx2") == 0) return Isa::avx2;
  // The 16-lane GEMM kernel emulated on ymm pairs: AVX2 instructions only.
  if (std::strcmp(value, "avx512emu") == 0) return Isa::avx2;
  return Isa::avx512;
}

Isa active_isa() {
  static const Isa level = [] {
    const Isa cpu = cpu_isa(), cap = isa_cap(std::getenv("FASTNN_ARCH"));
    return cpu < cap ? cpu : cap;
  }();
  return level;
}

const char* ew_isa_name(EwIsa isa) {
  switch (isa) {
    case EwIsa::scalar:
      return "scalar";
    case EwIsa::avx2:
      return "avx2";
    case EwIsa::avx512emu:
      return "avx512emu";
    case EwIsa::avx512:
      return "avx512";
  }
  return "scalar";
}

bool ew_isa_runs(EwIsa isa) {
  switch (isa) {
    case EwIsa::scalar:
      return true;
    case EwIsa::avx2:
    case EwIsa::avx512emu:
      return cpu_isa() >= Isa::avx2;
    case EwIsa::avx512:
      return cpu_isa() >= Isa::avx512;
  }
  return false;
}

EwIsa elementwise_isa() {
  static const EwIsa path = [] {
    const char* requested = std::getenv("FASTNN_ARCH");
    if (requested != nullptr && std::strcmp(requested, "avx512emu") == 0 &&
        ew_isa_runs(EwIsa::avx512emu))
      return EwIsa::avx512emu;
    switch (active_isa()) {
      case Isa::avx512:
        return EwIsa::avx512;
      case Isa::avx2:
        return EwIsa::avx2;
      case Isa::scalar:
        break;
    }
    return EwIsa::scalar;
  }();
  return path;
}

}  // namespace fastnn
