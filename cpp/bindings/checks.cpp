// checks.cpp: argument validation shared by every binding (see checks.h).
#include "checks.h"

#include <cstdint>
#include <sstream>

namespace fastnn::bind {

namespace {

std::string where(const char* func, const char* arg) {
  return std::string(func) + "(): argument '" + arg + "'";
}

char dtype_kind(const py::array& a) { return a.dtype().kind(); }

bool aligned(const py::array& a) {
  return (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
}

// `a` as the aligned C-contiguous array type `Array`: no copy when it already is one,
// else a copy by numpy.array(a, dtype, copy=True, order="C"). Not Array::ensure(),
// which clears the Python error on failure: an allocation failure must reach Python
// as MemoryError, not as pybind11's "error_already_set called while Python error
// indicator not set" RuntimeError. ensure() also keeps misaligned buffers (e.g.
// np.frombuffer at an odd offset), which the kernels must not read as float*.
template <class Array>
Array converted(const py::array& a) {
  if (Array::check_(a) && aligned(a)) return py::reinterpret_borrow<Array>(a);
  py::object c = py::module_::import("numpy").attr("array")(
      a, py::dtype::of<typename Array::value_type>(), py::arg("copy") = true,
      py::arg("order") = "C");  // raises (error_already_set) on failure
  return py::reinterpret_borrow<Array>(c);
}

}  // namespace

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s << ", ";
    s << a.shape(i);
  }
  if (a.ndim() == 1) s << ",";
  s << ")";
  return s.str();
}

// What py::array::ensure could not convert: a ragged nested sequence (NumPy's
// "inhomogeneous shape" ValueError, swallowed by ensure) is a shape problem, ValueError
// as in the Python layer (_validation.as_array); anything else a TypeError.
[[noreturn]] static void not_an_array(const py::handle& obj, const char* func, const char* arg,
                                      const char* what) {
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj))
    throw py::value_error(where(func, arg) + " is not a rectangular array (nested sequences "
                                             "of different lengths?)");
  throw py::type_error(where(func, arg) + " must be " + what + ", got " +
                       std::string(py::str(py::type::of(obj))));
}

FloatArray float_input(const py::handle& obj, const char* func, const char* arg) {
  py::array a = py::array::ensure(obj);
  if (!a) not_an_array(obj, func, arg, "a numeric array");
  const char k = dtype_kind(a);
  if (k != 'f' && k != 'i' && k != 'u')
    throw py::type_error(where(func, arg) + " must have a real numeric dtype (float32 preferred), got " +
                         std::string(py::str(a.dtype())));
  return converted<FloatArray>(a);
}

LabelArray label_input(const py::handle& obj, const char* func, const char* arg) {
  py::array a = py::array::ensure(obj);
  if (!a) not_an_array(obj, func, arg, "an integer array of class labels");
  const char k = dtype_kind(a);
  if (k != 'i' && k != 'u')
    throw py::type_error(where(func, arg) + " must have an integer dtype (class indices), got " +
                         std::string(py::str(a.dtype())));
  if (k == 'u' && a.itemsize() == 8 && a.size() > 0) {  // above INT64_MAX: would wrap
    const auto largest = a.attr("max")().cast<unsigned long long>();
    if (largest > static_cast<unsigned long long>(INT64_MAX))
      throw py::index_error(where(func, arg) + ": Target " + std::to_string(largest) +
                            " is out of bounds");
  }
  return converted<LabelArray>(a);
}

FloatArray float_output(const py::handle& obj, const char* func, const char* arg) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(where(func, arg) + " must be a numpy.ndarray, got " +
                         std::string(py::str(py::type::of(obj))));
  auto a = py::reinterpret_borrow<py::array>(obj);
  // equal, not is: an unpickled array has a dtype object of its own (a byte-swapped one
  // is not equal).
  if (!a.dtype().equal(py::dtype::of<float>()))
    throw py::type_error(where(func, arg) + " must have dtype float32, got " +
                         std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(where(func, arg) + " must be C-contiguous");
  if (!a.writeable()) throw py::value_error(where(func, arg) + " must be writeable");
  if (!aligned(a)) throw py::value_error(where(func, arg) + " must be aligned to float32");
  return py::reinterpret_borrow<FloatArray>(a);
}

void require_ndim(const py::array& a, py::ssize_t ndim, const char* func, const char* arg) {
  if (a.ndim() != ndim)
    throw py::value_error(where(func, arg) + " must have " + std::to_string(ndim) +
                          " dimension(s), got " + std::to_string(a.ndim()) + " with shape " +
                          shape_str(a));
}

void require_shape(const py::array& a, std::initializer_list<py::ssize_t> expected,
                   const char* func, const char* arg) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(expected.size());
  py::ssize_t i = 0;
  for (auto e : expected) {
    if (!ok) break;
    ok = (e < 0 || a.shape(i) == e);
    ++i;
  }
  if (ok) return;
  std::ostringstream s;
  s << "(";
  i = 0;
  for (auto e : expected) {
    if (i++) s << ", ";
    if (e < 0) s << "*"; else s << e;
  }
  if (expected.size() == 1) s << ",";
  s << ")";
  throw py::value_error(where(func, arg) + " must have shape " + s.str() + ", got " + shape_str(a));
}

void require_no_overlap(const py::array& out, const py::array& in, const char* func,
                        const char* out_arg, const char* in_arg) {
  const auto* o = static_cast<const char*>(out.data());
  const auto* i = static_cast<const char*>(in.data());
  if (o < i + in.nbytes() && i < o + out.nbytes())
    throw py::value_error(std::string(func) + "(): arguments '" + out_arg + "' and '" + in_arg +
                          "' must not share memory");
}

void require_one_param_activation(Activation act, const char* func) {
  if (act == Activation::softplus)
    throw py::value_error(std::string(func) +
                          "(): activation softplus takes two parameters (beta, threshold) and "
                          "cannot be fused here; apply activation_forward after the product");
}

}  // namespace fastnn::bind
