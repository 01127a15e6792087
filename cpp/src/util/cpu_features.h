// cpu_features.h: which SIMD instruction sets this CPU *and* its OS support.
//
// An instruction set is usable only if cpuid reports it and the OS saves the
// matching register state on context switch (OSXSAVE + xgetbv): YMM state for
// AVX2, ZMM/opmask state for AVX-512. Detected once, on first use.
#pragma once

namespace fastnn {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA3, with YMM state enabled by the OS
  bool avx512 = false;    // AVX-512 F/DQ/BW/VL, with ZMM state enabled by the OS
  bool intel = false;     // cpuid vendor "GenuineIntel" (GEMM tile choice, gemm/arch.h;
                          // subnormal assists, optim/optimizer_step.cpp)
};

// The features of the CPU this process runs on (computed once, then cached).
const CpuFeatures& cpu_features();

}  // namespace fastnn
