// isa.h: the SIMD level fastnn's kernels may use, chosen once per process.
//
// active_isa() = min(what this CPU and OS support (cpu_features.h),
//                    the cap FASTNN_ARCH=scalar|avx2|avx512 when set).
// An unset or unknown FASTNN_ARCH means no cap. The environment is read once, on
// the first call; later changes to it have no effect.
//
// Each kernel family then runs the best implementation it has at or below that
// level. The GEMM has its own table (gemm/arch.h); the element-wise kernels
// (activations, softmax, losses, dropout, optimizer updates) have four paths,
// elementwise_isa() below.
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

// The best level this CPU and OS support.
Isa cpu_isa();

// The level named by a FASTNN_ARCH value; nullptr (unset) or an unknown name
// gives avx512, i.e. no cap. "avx512emu" (the 16-lane GEMM kernel on ymm pairs,
// gemm/arch.h) caps at avx2.
Isa isa_cap(const char* value);

// min(cpu_isa(), isa_cap(getenv("FASTNN_ARCH"))), computed once (thread-safe).
Isa active_isa();

// The paths of the element-wise kernels. All but scalar are one source written over
// a vector type (util/simd_vec.h), so they give the same bits:
//   scalar     portable C++ with libm's maths
//   avx2       8 lanes, Vec8 (AVX2 + FMA)
//   avx512emu  16 lanes, Vec16 as ymm pairs: the avx512 code on any AVX2 CPU (tests)
//   avx512     16 lanes, Vec16 as one zmm (AVX-512)
enum class EwIsa : int { scalar = 0, avx2 = 1, avx512emu = 2, avx512 = 3 };

// "scalar", "avx2", "avx512emu", "avx512": the FASTNN_ARCH spelling of a path.
const char* ew_isa_name(EwIsa isa);

// Whether this build has `isa` and this CPU runs it (avx512emu needs AVX2).
bool ew_isa_runs(EwIsa isa);

// The path of the element-wise kernels, computed once (thread-safe):
//   FASTNN_ARCH=avx512emu: avx512emu (scalar on a CPU without AVX2);
//   otherwise by active_isa(): scalar -> scalar, avx2 -> avx2, avx512 -> avx512.
//
// avx512 is the default on every AVX-512 CPU, Zen 4 included, although Zen 4 runs
// a 512-bit operation as two 256-bit halves: it issues half the instructions, has
// native masked tails and, for dropout's hash, a 64-bit multiply (vpmullq). Measured
// on a 2-core AMD EPYC (Zen 4), 1 thread, 1M floats, median of 6 interleaved
// process rounds, time on avx2 / time on avx512 (> 1: zmm faster):
//   exp 1.46, log 1.62, tanh 1.54, sigmoid 1.52, erf 1.39; forward sigmoid 1.53,
//   tanh 1.61, gelu 1.47, gelu_tanh 1.59; backward gelu 1.45, gelu_tanh 1.62;
//   softmax 1.51, cross-entropy forward + backward 1.52, dropout 2.47; the
//   memory-bound ones (relu, sigmoid/tanh/softmax backward) 0.98-1.01, Adam 1.06.
// A whole TrainStep (784-512-256-10, batch 128, GELU + dropout, Adam; the GEMM on
// avx512 in both) changed within the noise (0.95-1.13): the GEMM dominates it.
EwIsa elementwise_isa();

}  // namespace fastnn
