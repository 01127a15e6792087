// simd_vec.h: Vec16, a 16-lane float vector written once and compiled two ways,
// and Vec8, the plain 8-lane AVX2 vector it is built from.
//
//   compiled with -mavx512f (files *_avx512.cpp): Vec16 is one native __m512,
//     masks are __mmask16 and masked loads/stores are single instructions
//     (util/simd_vec16_zmm.h, namespace simd_zmm);
//   compiled with -mavx2 only (files *_avx2.cpp): Vec16 is two Vec8 halves (lo =
//     lanes 0-7, hi = lanes 8-15), masks are lane masks for vmaskmovps / vblendvps
//     (util/simd_vec16_ymm2.h and util/simd_vec8.h, namespace simd_ymm2).
//
// Kernels written over Vec16 (the 16-lane GEMM micro-kernel, ukernel_tile.h; the
// element-wise kernels, which are templates over the vector type and also run
// on Vec8) therefore run the exact same lane loops and tail masks on every x86-64
// machine with AVX2: natively where the CPU has AVX-512, emulated by ymm pairs
// elsewhere, so the tests exercise the 16-lane code path everywhere.
// Every operation is lane-wise and identical in all forms (same instruction, same
// rounding, same NaN and signed-zero rules), so all forms give bit-identical
// results lane by lane (a NaN stays a NaN, though its sign and payload may differ:
// the compiler may swap the operands of + and *); the only cross-lane operations
// (hmax; the double sums of Sum8d) fold the lanes in one fixed order shared by all
// forms.
//
// The interface, for V = Vec8 or Vec16 (M = V::Mask, I = V::Int, S = V::Sum):
//   V::zero(), V::splat(x), V::bcast(p), V::load(p), V::load(p, m), v.store(p),
//   v.store(p, m), M::first_n(n), I::splat(i); + - * / and unary - on V;
//   fmadd, fnmadd, sqrt, min, max, round_nearest; bit_and, bit_andnot, bit_or,
//   bit_xor; lt, le, gt, eq, not_lt, unordered -> M, m | m, m & m, any(m),
//   select(m, a, b);
//   to_int, to_float, bits, from_bits; + - & | on I, shl(i, k), shr_logical(i, k),
//   shr_arith(i, k) (k a constant), gt(I, I) -> M; hmax(v); S (eight double
//   accumulators) with accumulate(s, v), accumulate_product(s, a, b) and total(s);
//   V::ViaF64, the same lanes computed in double without subnormal assists
//   (util/simd_via_f64.h).
//
// Include only from a per-ISA translation unit. Everything here sits in an
// anonymous namespace inside a namespace named after the form, so the AVX-512
// and AVX2 copies of these inline functions can never be merged by the linker
// (no AVX-512 code can leak into an AVX2 caller or vice versa).
#pragma once

#if defined(__AVX512F__)
#define FASTNN_VEC16_NATIVE 1
#include "util/simd_vec16_zmm.h"
#else
#define FASTNN_VEC16_NATIVE 0
#include "util/simd_vec16_ymm2.h"
#endif
#include "util/simd_via_f64.h"
