// bind_gemm.cpp: _core.matmul (the float32 GEMM behind fastnn.functional.matmul)
// and the private hooks the tests use to run every GEMM path.
//
//   out[M, N] = alpha * op(a)[M, K] @ op(b)[K, N] + beta * out
//
// Inputs are used without copies when possible: a float32 C-contiguous array
// as is, a float32 F-contiguous one (e.g. x.T) as the C-contiguous array it is
// the transpose of, with the transpose flag flipped. Anything else (other
// strides, float64, ints) is converted once to float32 C-contiguous.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdlib>
#include <string>

#include "checks.h"
#include "gil.h"
#include "fastnn/gemm.h"
#include "util/cpu_features.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

constexpr const char* kFunc = "matmul";

// A 2-D float32 C-contiguous operand and whether the kernel must transpose it.
struct Operand {
  FloatArray array;
  bool trans;
  py::ssize_t rows, cols;  // shape of op(operand) as the caller sees it
};

Operand operand(const py::handle& obj, bool trans, const char* arg) {
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    const bool f_only = (a.flags() & py::array::f_style) && !(a.flags() & py::array::c_style);
    if (a.ndim() == 2 && f_only && a.dtype().equal(py::dtype::of<float>())) {
      FloatArray t = float_input(a.attr("T"), kFunc, arg);  // a view, no copy
      return {t, !trans, trans ? a.shape(1) : a.shape(0), trans ? a.shape(0) : a.shape(1)};
    }
  }
  FloatArray a = float_input(obj, kFunc, arg);
  require_ndim(a, 2, kFunc, arg);
  return {a, trans, trans ? a.shape(1) : a.shape(0), trans ? a.shape(0) : a.shape(1)};
}

// "a of shape (2, 3)" or, transposed, "a.T of shape (3, 2)".
std::string op_shape(const char* arg, bool trans, py::ssize_t rows, py::ssize_t cols) {
  return std::string(arg) + (trans ? ".T" : "") + " of shape (" + std::to_string(rows) + ", " +
         std::to_string(cols) + ")";
}

// The fused write-back's arrays for _matmul_arch, validated against (M, N) and kept
// alive for the call.
struct EpilogueArgs {
  py::handle bias, aux_x, aux_y;
  Activation act = Activation::identity;
  float param = 0.0f;
  bool derivative = false;
  FloatArray bias_arr, x_arr, y_arr;

  GemmEpilogue prepare(py::ssize_t M, py::ssize_t N) {
    GemmEpilogue ep;
    ep.act = act;
    ep.act_param = param;
    ep.derivative = derivative;
    ep.ld_aux = N;
    if (!bias.is_none()) {
      bias_arr = float_input(bias, kFunc, "bias");
      require_shape(bias_arr, {N}, kFunc, "bias");
      ep.bias = bias_arr.data();
    }
    if (!aux_x.is_none()) {
      x_arr = float_input(aux_x, kFunc, "aux_x");
      require_shape(x_arr, {M, N}, kFunc, "aux_x");
      ep.aux_x = x_arr.data();
    }
    if (!aux_y.is_none()) {
      y_arr = float_input(aux_y, kFunc, "aux_y");
      require_shape(y_arr, {M, N}, kFunc, "aux_y");
      ep.aux_y = y_arr.data();
    }
    const bool needs_x = activation_backward_reads_x(act);
    const bool needs_y = activation_backward_reads_y(act);
    if (derivative && ((needs_x && ep.aux_x == nullptr) || (needs_y && ep.aux_y == nullptr)))
      throw py::value_error(std::string(kFunc) + "(): the derivative of this activation needs "
                            "argument '" + (needs_x ? "aux_x" : "aux_y") + "'");
    return ep;
  }
};

// Validates everything, then runs `kernel(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ep)`
// with the GIL released. Returns `out` (allocated when None).
template <class Kernel>
py::object run(const py::handle& a_obj, const py::handle& b_obj, bool trans_a, bool trans_b,
               py::object out, float beta, Kernel kernel, EpilogueArgs* epilogue = nullptr) {
  Operand a = operand(a_obj, trans_a, "a");
  Operand b = operand(b_obj, trans_b, "b");
  if (a.cols != b.rows)
    throw py::value_error(std::string(kFunc) + "(): inner dimensions differ: " +
                          op_shape("a", trans_a, a.rows, a.cols) + " and " +
                          op_shape("b", trans_b, b.rows, b.cols) + " (op(a) has " +
                          std::to_string(a.cols) + " columns, op(b) has " +
                          std::to_string(b.rows) + " rows)");
  const py::ssize_t M = a.rows, N = b.cols, K = a.cols;
  if (out.is_none()) {
    if (beta != 0.0f)
      throw py::value_error(std::string(kFunc) +
                            "(): argument 'beta' must be 0 when 'out' is None, got " +
                            std::to_string(beta));
    out = FloatArray({M, N});
  }
  FloatArray c = float_output(out, kFunc, "out");
  require_shape(c, {M, N}, kFunc, "out");
  require_no_overlap(c, a.array, kFunc, "out", "a");
  require_no_overlap(c, b.array, kFunc, "out", "b");

  const float* A = a.array.data();
  const float* B = b.array.data();
  float* C = c.mutable_data();
  const index_t lda = a.array.shape(1), ldb = b.array.shape(1);
  const GemmEpilogue ep = epilogue != nullptr ? epilogue->prepare(M, N) : GemmEpilogue{};
  {
    ReleasedGil release;
    kernel(a.trans, b.trans, M, N, K, A, lda, B, ldb, C, static_cast<index_t>(N), ep);
  }
  return out;
}

}  // namespace

void bind_gemm(py::module_& m) {
  // Choose the SIMD path (reading FASTNN_ARCH) once, at import, and say so when
  // the request could not be honoured.
  const std::string chosen = gemm_arch();
  const char* requested = std::getenv("FASTNN_ARCH");
  if (requested != nullptr && *requested != '\0' && chosen != requested)
    py::module_::import("warnings")
        .attr("warn")("FASTNN_ARCH='" + std::string(requested) +
                          "' is unknown or not supported by this CPU/build "
                          "(scalar, avx2, avx512, avx512emu); using '" + chosen + "'",
                      py::module_::import("builtins").attr("RuntimeWarning"));

  m.def(
      "matmul",
      [](const py::handle& a, const py::handle& b, bool trans_a, bool trans_b, py::object out,
         float alpha, float beta) {
        return run(a, b, trans_a, trans_b, std::move(out), beta,
                   [=](bool ta, bool tb, index_t M, index_t N, index_t K, const float* A,
                       index_t lda, const float* B, index_t ldb, float* C, index_t ldc,
                       const GemmEpilogue&) {
                     gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                   });
      },
      py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      py::arg("out") = py::none(), py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
      "out = alpha * op(a) @ op(b) + beta * out (float32; out allocated when None, "
      "which requires beta == 0). Returns out.");

  m.def(
      "_matmul_arch",
      [](const std::string& arch, const py::handle& a, const py::handle& b, bool trans_a,
         bool trans_b, py::object out, float alpha, float beta, const py::handle& bias,
         Activation act, float act_param, bool derivative, const py::handle& aux_x,
         const py::handle& aux_y) {
        if (!gemm_arch_supported(arch.c_str()))
          throw py::value_error("_matmul_arch(): argument 'arch' must be a GEMM path this CPU "
                                "runs ('reference', 'scalar', 'avx2', ...), got '" + arch + "'");
        require_one_param_activation(act, "_matmul_arch");
        EpilogueArgs ep_args{bias, aux_x, aux_y, act, act_param, derivative, {}, {}, {}};
        return run(
            a, b, trans_a, trans_b, std::move(out), beta,
            [&](bool ta, bool tb, index_t M, index_t N, index_t K, const float* A, index_t lda,
                const float* B, index_t ldb, float* C, index_t ldc, const GemmEpilogue& ep) {
              gemm_with_arch(arch.c_str(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                             ep);
            },
            &ep_args);
      },
      py::arg("arch"), py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("out") = py::none(), py::arg("alpha") = 1.0f,
      py::arg("beta") = 0.0f, py::arg("bias") = py::none(),
      py::arg("activation") = Activation::identity, py::arg("activation_param") = 0.0f,
      py::arg("derivative") = false, py::arg("aux_x") = py::none(),
      py::arg("aux_y") = py::none(),
      "For tests: _core.matmul through one named path ('reference' or a packed kernel), "
      "at any size, with the fused write-back (gemm.h GemmEpilogue): out = act(alpha op(a) "
      "op(b) + beta out + bias), or with derivative=True out = (...) * act'(aux_x, aux_y).");

  m.def(
      "_cpu_features",
      [] {
        const CpuFeatures& f = cpu_features();
        py::dict d;
        d["avx2_fma"] = f.avx2_fma;
        d["avx512"] = f.avx512;  // the avx512 GEMM row needs it
        d["intel"] = f.intel;    // the tall tile (gemm/arch.h) is chosen on Intel CPUs
        return d;
      },
      "Instruction sets this CPU and OS support (cpuid + xgetbv), whether or not "
      "fastnn has a kernel for them.");

  m.def(
      "_gemm_arch_supported",
      [](const std::string& arch) { return gemm_arch_supported(arch.c_str()); }, py::arg("arch"),
      "For tests: whether _matmul_arch can run `arch` on this CPU.");
}

}  // namespace fastnn::bind
