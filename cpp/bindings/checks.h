// checks.h: argument validation shared by every binding.
//
// The binding layer is the only place that validates. Every error names the
// function, the argument, the expected and the actual value, and maps to the
// Python exception a NumPy/PyTorch user expects:
//   wrong ndim / shape        -> ValueError
//   non-numeric dtype         -> TypeError
//   output buffer not float32 C-contiguous writeable -> TypeError / ValueError
// Inputs of any real numeric dtype (float16/32/64, ints) and any strides are
// converted once to float32 C-contiguous; outputs must already be float32
// C-contiguous, since the kernel writes them in place.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <initializer_list>
#include <string>

#include "fastnn/activations.h"
#include "fastnn/common.h"

namespace fastnn::bind {

namespace py = pybind11;

// forcecast lets ensure() convert other numeric dtypes (float64, ints) instead of failing.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using LabelArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// "(2, 3)" for a shape.
std::string shape_str(const py::array& a);

// Converts a numeric array (or array-like) to float32 C-contiguous, copying only
// when needed. bool, complex, object and string dtypes raise TypeError.
FloatArray float_input(const py::handle& obj, const char* func, const char* arg);

// Converts integer class labels to int64 C-contiguous; other dtypes raise TypeError
// (the Python losses turn integral float targets into int64 first).
LabelArray label_input(const py::handle& obj, const char* func, const char* arg);

// A caller-owned output: must be a float32, C-contiguous, writeable ndarray.
FloatArray float_output(const py::handle& obj, const char* func, const char* arg);

void require_ndim(const py::array& a, py::ssize_t ndim, const char* func, const char* arg);

// Requires an exact shape; -1 in `expected` matches any extent.
void require_shape(const py::array& a, std::initializer_list<py::ssize_t> expected,
                   const char* func, const char* arg);

// Requires that `out` and `in` do not share memory where the kernel reads `in`
// after writing `out`.
void require_no_overlap(const py::array& out, const py::array& in, const char* func,
                        const char* out_arg, const char* in_arg);

// Requires an activation of one parameter, as the fused GEMM write-back and the
// training plan pass: softplus's threshold (param2) has no place there.
void require_one_param_activation(Activation act, const char* func);

}  // namespace fastnn::bind
