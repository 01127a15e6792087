"""Tensor dtypes (NumPy dtypes under PyTorch's names) and the conversion of input data.

Values are float32; float64 input is converted once, unless float64 is asked for
by name. Integer data becomes int64 and booleans stay bool, as in PyTorch.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float = float32  # noqa: A001 - PyTorch's alias
double = float64
half = float16
long = int64
int = int32  # noqa: A001 - PyTorch's alias
short = int16

_BY_NAME = {"float32": float32, "float": float32, "float64": float64, "double": float64,
            "float16": float16, "half": float16, "int64": int64, "long": int64,
            "int32": int32, "int": int32, "int16": int16, "short": int16, "int8": int8,
            "uint8": uint8, "bool": bool_}


def as_dtype(dtype: Any, func: str = "tensor()") -> np.dtype:
    """``dtype`` (a NumPy dtype, a type such as ``float``, or a name) as a supported dtype."""
    if isinstance(dtype, str):
        name = dtype[6:] if dtype.startswith("torch.") else dtype
        if name in _BY_NAME:
            return _BY_NAME[name]
    else:
        if dtype is builtins.float:
            return float32
        if dtype is builtins.int:
            return int64
        try:
            d = np.dtype(dtype)
        except TypeError:
            d = None
        if d is not None and d.kind in "fiub" and d.itemsize <= 8:
            return d
    raise TypeError(f"{func}: unsupported dtype {dtype!r}; use fastnn.float32, float64, int64, "
                    "int32 or bool")


def convert(data: Any, dtype: np.dtype | None, func: str, copy: bool) -> np.ndarray:
    """``data`` as an array of ``dtype``, or of the default dtype for its kind.

    Default: floating -> float32, integer -> int64, bool -> bool. Strings, objects and
    complex numbers raise ``TypeError``.
    """
    if dtype is not None:
        dtype = as_dtype(dtype, func)
    arr = np.asarray(data)
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(f"{func}: can't convert data of dtype {arr.dtype} to a Tensor; only "
                        "numbers and booleans are supported")
    if dtype is None:
        if kind == "f":
            dtype = float32
        elif kind in "iu":
            dtype = int64
        else:
            dtype = bool_
    if kind == "u" and arr.dtype.itemsize == 8 and dtype == int64 and arr.size \
            and arr.max() > np.iinfo(np.int64).max:  # would wrap to a negative int64
        raise OverflowError(f"{func}: value {arr.max()} does not fit in int64 (the "
                            "integer Tensor dtype); values above 2**63 - 1 are not supported")
    if arr.dtype == dtype and not copy and arr.flags.c_contiguous:
        return arr
    return np.array(arr, dtype=dtype, order="C", copy=True)
