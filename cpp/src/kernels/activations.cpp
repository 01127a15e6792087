// activations.cpp: element-wise activations, forward and backward (activations.h).
//
// Dispatch: the scalar or one of the SIMD bodies (activations_isa.h), chosen once
// on first use from util/isa.h's elementwise_isa() and kept in a function-local
// static, so a call on a short row (n = 16 in a GEMM epilogue) costs a switch and
// the loop. Large arrays are
// split into blocks over threads; results are identical at any thread count.
#include "fastnn/activations.h"

#include "kernels/activations_isa.h"
#include "kernels/parallel.h"
#include "util/isa.h"

namespace fastnn {

namespace {

struct ActivationKernels {
  decltype(&kernels::scalar::activation_forward) forward;
  decltype(&kernels::scalar::activation_backward) backward;
};

const ActivationKernels& active_kernels() {
  static const ActivationKernels k = [] {
    switch (elementwise_isa()) {
#if FASTNN_X86_SIMD
      case EwIsa::avx512:
        return ActivationKernels{&kernels::avx512::activation_forward,
                                 &kernels::avx512::activation_backward};
      case EwIsa::avx512emu:
        return ActivationKernels{&kernels::avx512emu::activation_forward,
                                 &kernels::avx512emu::activation_backward};
      case EwIsa::avx2:
        return ActivationKernels{&kernels::avx2::activation_forward,
                                 &kernels::avx2::activation_backward};
#endif
      default:
        return ActivationKernels{&kernels::scalar::activation_forward,
                                 &kernels::scalar::activation_backward};
    }
  }();
  return k;
}

}  // namespace

void activation_forward(Activation act, float param, float param2, float* y, const float* x,
                        index_t n) {
  const auto forward = active_kernels().forward;
  detail::parallel_blocks(n, [&](index_t begin, index_t end) {
    forward(act, param, param2, y + begin, x + begin, end - begin);
  });
}

void activation_backward(Activation act, float param, float param2, float* dx, const float* dy,
                         const float* x, const float* y, index_t n) {
  const auto backward = active_kernels().backward;
  detail::parallel_blocks(n, [&](index_t begin, index_t end) {
    backward(act, param, param2, dx + begin, dy + begin, x ? x + begin : nullptr,
             y ? y + begin : nullptr, end - begin);
  });
}

const char* elementwise_arch() { return ew_isa_name(elementwise_isa()); }

bool activation_backward_reads_x(Activation act) {
  return act == Activation::relu || act == Activation::leaky_relu || act == Activation::gelu ||
         act == Activation::gelu_tanh || act == Activation::silu || act == Activation::elu ||
         act == Activation::softplus;
}

bool activation_backward_reads_y(Activation act) {
  return act == Activation::sigmoid || act == Activation::tanh;
}

}  // namespace fastnn
