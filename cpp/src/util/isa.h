// isa.h: the SIMD level fastnn's kernels may use, chosen once per process.
//
// active_isa() = min(what this CPU and OS support (cpu_features.h),
//                    the cap FASTNN_ARCH=scalar|avx2|avx512 when set).
// An unset or unknown FASTNN_ARCH means no cap. The environment is read once, on
// the first call; later changes to it have no effect.
//
// Each kernel family then runs the best implementation it has at or below that
// level: the element-wise kernels (activations, softmax, losses, dropout) have
// scalar and AVX2 versions, so elementwise_isa() is avx2 or scalar.
#pragma once

// Whether this build has the x86 SIMD kernels (the *_avx2.cpp files): x86-64
// targets, unless CMake's FASTNN_SIMD=OFF (or a non-x86 target) defined
// FASTNN_NO_X86_SIMD. Without them every kernel family runs its portable code.
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(FASTNN_NO_X86_SIMD)
#define FASTNN_X86_SIMD 1
#else
#define FASTNN_X86_SIMD 0
#endif

namespace fastnn {

// Instruction-set levels, ordered: a CPU at level L runs every kernel <= L.
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

// "scalar", "avx2", "avx512": the FASTNN_ARCH spelling of a level.
const char* isa_name(Isa isa);

// The best level this CPU and OS support.
Isa cpu_isa();

// The level named by a FASTNN_ARCH value; nullptr (unset) or an unknown name
// gives avx512, i.e. no cap. "avx512emu" (the 16-lane GEMM kernel on ymm pairs,
// gemm/arch.h) caps at avx2.
Isa isa_cap(const char* value);

// min(cpu_isa(), isa_cap(getenv("FASTNN_ARCH"))), computed once (thread-safe).
Isa active_isa();

// The level of the element-wise kernels: the best of {avx2, scalar} <= active_isa().
Isa elementwise_isa();

}  // namespace fastnn
