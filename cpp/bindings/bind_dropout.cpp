// bind_dropout.cpp: Python bindings for inverted dropout (dropout.h).
//
//   dropout_forward(y, x, p, seed)     1-D, y = x * keep / (1 - p)
//   dropout_backward(dx, dy, p, seed)  1-D, dx = dy * keep / (1 - p), same mask for one seed
// The output may be exactly the input (in place), but not overlap it otherwise.
// p must be in [0, 1): p == 1 would divide by zero (nothing kept), so it is rejected.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "checks.h"
#include "gil.h"
#include "fastnn/dropout.h"

namespace py = pybind11;

namespace fastnn::bind {

namespace {

using Kernel = void (*)(float*, const float*, index_t, double, std::uint64_t);

void run(Kernel kernel, const char* f, const char* out_name, const char* in_name,
         const py::handle& out_obj, const py::handle& in_obj, double p, std::uint64_t seed) {
  if (!(p >= 0.0 && p < 1.0))
    throw py::value_error(std::string(f) + "(): argument 'p' must be in [0, 1), got " +
                          std::to_string(p));
  FloatArray in = float_input(in_obj, f, in_name);
  require_ndim(in, 1, f, in_name);
  FloatArray out = float_output(out_obj, f, out_name);
  require_shape(out, {in.shape(0)}, f, out_name);
  if (out.data() != in.data()) require_no_overlap(out, in, f, out_name, in_name);
  ReleasedGil release;
  kernel(out.mutable_data(), in.data(), in.shape(0), p, seed);
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def(
      "dropout_forward",
      [](const py::handle& y, const py::handle& x, double p, std::uint64_t seed) {
        run(&dropout_forward, "dropout_forward", "y", "x", y, x, p, seed);
      },
      py::arg("y"), py::arg("x"), py::arg("p"), py::arg("seed"),
      "y = x * keep / (1 - p), keep[i] = uniform(seed, i) >= p (1-D).");
  m.def(
      "dropout_backward",
      [](const py::handle& dx, const py::handle& dy, double p, std::uint64_t seed) {
        run(&dropout_backward, "dropout_backward", "dx", "dy", dx, dy, p, seed);
      },
      py::arg("dx"), py::arg("dy"), py::arg("p"), py::arg("seed"),
      "dx = dy * keep / (1 - p) with the mask of dropout_forward for the same seed (1-D).");
}

}  // namespace fastnn::bind
