"""Argument checks shared by the Python API (the C++ bindings check their own).

Every error names the function, the argument, the expected and the actual value.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np


def shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class NamedInput:
    """Calls a model on batches of one argument, and names that argument in the shape
    errors the model raises.

    A layer's own message names its operands (``linear(): mat1 and mat2 shapes cannot
    be multiplied``, ``argument 'input'``) and a batch's shape; the error raised instead
    starts with the function, the argument and its shape (API.md: a shape error names
    the argument), followed by the layer's message. Only fastnn's ``ShapeError`` (a
    ``ValueError``, which the layers raise for shapes) is reworded; any other exception
    (a ``ValueError`` about something else, a user's own error) propagates as raised.

    Args:
        func (str): the public function, e.g. ``"fit()"``.
        name (str): the argument the batches come from, e.g. ``"X"``.
        shape (tuple of int, optional): that argument's shape; ``None``: the batch's.
    """

    def __init__(self, func: str, name: str, shape: tuple[int, ...] | None = None) -> None:
        self.func, self.name = func, name
        self.shape = None if shape is None else tuple(shape)

    def call(self, model: Any, xb: Any) -> Any:
        """``model(xb)``, with a shape error reworded as described above."""
        try:
            return model(xb)
        except ValueError as err:
            from .autograd.errors import ShapeError  # fastnn.autograd imports this module

            if type(err) is not ShapeError:
                raise
            shape = self.shape if self.shape is not None else np.shape(xb)
            raise ShapeError(f"{self.func}: the model cannot take argument '{self.name}' of "
                             f"shape {shape_str(shape)}: {err}") from err


def as_array(x: Any, func: str, arg: str) -> np.ndarray:
    """``np.asarray(x)``, with NumPy's error for a ragged nested list (rows of
    different lengths) re-raised as a ``ValueError`` that names the argument."""
    try:
        return np.asarray(x)
    except ValueError as e:
        raise ValueError(
            f"{func}: argument '{arg}' is not a rectangular array (nested sequences of "
            f"different lengths?): {e}"
        ) from None


def as_float32(x: Any, func: str, arg: str, ndim: int | None = None) -> np.ndarray:
    """Returns ``x`` as a float32 C-contiguous array, copying only when needed.

    float64 (and integer) inputs are converted once here; bool, complex, object
    and string dtypes raise ``TypeError``; a wrong ndim or a ragged nested list
    raises ``ValueError``.
    """
    if (type(x) is np.ndarray and x.dtype == np.float32 and x.flags.c_contiguous
            and (ndim is None or x.ndim == ndim)):
        return x  # already what the kernels take (the call of every layer on small arrays)
    a = as_array(x, func, arg)
    if a.dtype.kind not in "fiu":
        raise TypeError(
            f"{func}: argument '{arg}' must have a real numeric dtype (float32 preferred), "
            f"got {a.dtype}"
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(
            f"{func}: argument '{arg}' must have {ndim} dimension(s), "
            f"got {a.ndim} with shape {shape_str(a.shape)}"
        )
    return np.asarray(a, dtype=np.float32, order="C")  # keeps 0-d arrays 0-d


def check_number(value: Any, func: str, arg: str, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False,
                 high_open: bool = False) -> float:
    """Checks that ``value`` is a real number in the given interval and returns it as float.

    ``low_open``/``high_open`` exclude the bound. Raises ``TypeError`` for a
    non-number and ``ValueError`` naming the interval otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{func}: argument '{arg}' must be a number, got {type(value).__name__}")
    v = float(value)
    bad = v != v  # NaN
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{func}: argument '{arg}' must be in {lo}, {hi}, got {value!r}")
    return v


def check_int(value: Any, func: str, arg: str, *, low: int | None = None) -> int:
    """Checks that ``value`` is an int (not bool) >= ``low`` and returns it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: argument '{arg}' must be an int, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{func}: argument '{arg}' must be >= {low}, got {value}")
    return int(value)


def check_flag(value: Any, func: str, arg: str) -> bool:
    """Checks that ``value`` is a bool (NumPy's included) and returns it; ``TypeError``
    otherwise (a string such as ``"no"`` would otherwise read as true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: argument '{arg}' must be a bool, got {type(value).__name__}")
    return bool(value)
