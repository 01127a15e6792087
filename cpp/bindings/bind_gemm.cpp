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
    if (a.ndim() == 2 && f_only && a.dtype().is(py::dtype::of<float>())) {
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

// Validates everything, then runs `kernel(trans_a, trans_b, M, N, K, A, lda, B, ldb, C)`
// with the GIL released. Returns `out` (allocated when None).
template <class Kernel>
py::object run(const py::handle& a_obj, const py::handle& b_obj, bool trans_a, bool trans_b,
               py::object out, float beta, Kernel kernel) {
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
  {
    py::gil_scoped_release release;
    kernel(a.trans, b.trans, M, N, K, A, lda, B, ldb, C, static_cast<index_t>(N));
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
                          "(scalar, avx2, avx512); using '" + chosen + "'",
                      py::module_::import("builtins").attr("RuntimeWarning"));

  m.def(
      "matmul",
      [](const py::handle& a, const py::handle& b, bool trans_a, bool trans_b, py::object out,
         float alpha, float beta) {
        return run(a, b, trans_a, trans_b, std::move(out), beta,
                   [=](bool ta, bool tb, index_t M, index_t N, index_t K, const float* A,
                       index_t lda, const float* B, index_t ldb, float* C, index_t ldc) {
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
         bool trans_b, py::object out, float alpha, float beta) {
        if (!gemm_arch_supported(arch.c_str()))
          throw py::value_error("_matmul_arch(): argument 'arch' must be a GEMM path this CPU "
                                "runs ('reference', 'scalar', 'avx2', ...), got '" + arch + "'");
        return run(a, b, trans_a, trans_b, std::move(out), beta,
                   [&](bool ta, bool tb, index_t M, index_t N, index_t K, const float* A,
                       index_t lda, const float* B, index_t ldb, float* C, index_t ldc) {
                     gemm_with_arch(arch.c_str(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
                                    C, ldc);
                   });
      },
      py::arg("arch"), py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("out") = py::none(), py::arg("alpha") = 1.0f,
      py::arg("beta") = 0.0f,
      "For tests: _core.matmul through one named path ('reference' or a packed kernel), "
      "at any size.");

  m.def(
      "_cpu_features",
      [] {
        const CpuFeatures& f = cpu_features();
        py::dict d;
        d["avx2_fma"] = f.avx2_fma;
        d["avx512"] = f.avx512;  // detected for the AVX-512 kernel to come; no kernel yet
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
