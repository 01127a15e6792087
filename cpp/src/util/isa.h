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

namespace fastnn {

// Instruction-set levels, ordered: a CPU at level L runs every kernel <= L.
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

// "scalar", "avx2", "avx512": the FASTNN_ARCH spelling of a level.
const char* isa_name(Isa isa);

// The best level this CPU and OS support.
Isa cpu_isa();

// The level named by a FASTNN_ARCH value; nullptr (unset) or an unknown name
// gives avx512, i.e. no cap.
Isa isa_cap(const char* value);

// min(cpu_isa(), isa_cap(getenv("FASTNN_ARCH"))), computed once (thread-safe).
Isa active_isa();

// The level of the element-wise kernels: the best of {avx2, scalar} <= active_isa().
Isa elementwise_isa();

}  // namespace fastnn
