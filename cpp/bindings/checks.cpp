// checks.cpp: argument validation shared by every binding (see checks.h).
#include "checks.h"

#include <sstream>

namespace fastnn::bind {

namespace {

std::string where(const char* func, const char* arg) {
  return std::string(func) + "(): argument '" + arg + "'";
}

char dtype_kind(const py::array& a) { return a.dtype().kind(); }

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

FloatArray float_input(const py::handle& obj, const char* func, const char* arg) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::type_error(where(func, arg) + " must be a numeric array, got " +
                               std::string(py::str(py::type::of(obj))));
  const char k = dtype_kind(a);
  if (k != 'f' && k != 'i' && k != 'u')
    throw py::type_error(where(func, arg) + " must have a real numeric dtype (float32 preferred), got " +
                         std::string(py::str(a.dtype())));
  FloatArray out = FloatArray::ensure(a);  // no copy if already float32 C-contiguous
  if (!out) throw py::error_already_set();  // e.g. MemoryError from the conversion
  return out;
}

LabelArray label_input(const py::handle& obj, const char* func, const char* arg) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::type_error(where(func, arg) + " must be an integer array of class labels, got " +
                               std::string(py::str(py::type::of(obj))));
  const char k = dtype_kind(a);
  if (k != 'i' && k != 'u')
    throw py::type_error(where(func, arg) + " must have an integer dtype (class indices), got " +
                         std::string(py::str(a.dtype())));
  LabelArray out = LabelArray::ensure(a);
  if (!out) throw py::error_already_set();
  return out;
}

FloatArray float_output(const py::handle& obj, const char* func, const char* arg) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(where(func, arg) + " must be a numpy.ndarray, got " +
                         std::string(py::str(py::type::of(obj))));
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>()))
    throw py::type_error(where(func, arg) + " must have dtype float32, got " +
                         std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(where(func, arg) + " must be C-contiguous");
  if (!a.writeable()) throw py::value_error(where(func, arg) + " must be writeable");
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

}  // namespace fastnn::bind
