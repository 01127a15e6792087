"""``matmul``: the float32 GEMM on NumPy arrays, or the autograd op when given Tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from .autograd import ops_nn
from .autograd.tensor import Tensor


def matmul(a: Any, b: Any, *, trans_a: bool = False, trans_b: bool = False,
           out: np.ndarray | None = None) -> np.ndarray:
    r"""Matrix product of two 2-D arrays in float32, with optional transposes.

    .. math::
        \text{out} = \operatorname{op}(a) \operatorname{op}(b), \qquad
        \operatorname{op}(x) = x^\top \text{ if the flag is set, else } x

    The result equals ``a @ b`` (with the transposes applied) to float32 rounding.
    It runs fastnn's packed, cache-blocked GEMM (SIMD path in ``fastnn.info()["simd"]``)
    on ``fastnn.get_num_threads()`` threads (at most one per CPU,
    ``fastnn.info()["cpus"]``); results are bit-identical at any thread count.
    Transposes are read through strides, never copied: prefer
    ``matmul(x, w, trans_b=True)`` to ``matmul(x, w.T.copy())``.

    Args:
        a (array_like): left operand, 2-D, any real numeric dtype. float32
            C- or F-contiguous arrays (e.g. ``x.T``) are used without a copy;
            anything else is converted to float32 once.
        b (array_like): right operand, 2-D, same rules as ``a``.
        trans_a (bool, optional): use :math:`a^\top` instead of ``a``. Default: ``False``.
        trans_b (bool, optional): use :math:`b^\top` instead of ``b``. Default: ``False``.
        out (numpy.ndarray, optional): float32 C-contiguous array of shape
            :math:`(M, N)` to write the result into (its contents are ignored);
            must not share memory with ``a`` or ``b``. Default: ``None``
            (a new array is allocated).

    Returns:
        numpy.ndarray: the float32 product of shape :math:`(M, N)` (``out`` when given).

    Raises:
        ValueError: an operand is not 2-D, the inner dimensions differ (both
            shapes are named), or ``out`` has the wrong shape, is not
            C-contiguous, or overlaps an operand.
        TypeError: an operand has a non-numeric dtype (bool, complex, object,
            str), or ``out`` is not a float32 ndarray.

    Shape:
        - op(a): :math:`(M, K)`, i.e. ``a`` is :math:`(M, K)`, or :math:`(K, M)` with ``trans_a``.
        - op(b): :math:`(K, N)`, i.e. ``b`` is :math:`(K, N)`, or :math:`(N, K)` with ``trans_b``.
        - Output: :math:`(M, N)`.

    Examples::

        >>> import numpy as np
        >>> from fastnn.functional import matmul
        >>> x = np.ones((4, 3), dtype=np.float32)
        >>> w = np.full((5, 3), 2.0, dtype=np.float32)
        >>> y = matmul(x, w, trans_b=True)  # x @ w.T, as in nn.Linear
        >>> y.shape, float(y[0, 0])
        ((4, 5), 6.0)
        >>> out = np.empty((3, 5), dtype=np.float32)
        >>> matmul(x, y, trans_a=True, out=out) is out  # x.T @ y
        True
    """
    if type(trans_a) is not bool or type(trans_b) is not bool:
        trans_a, trans_b = _flag(trans_a, "trans_a"), _flag(trans_b, "trans_b")
    if isinstance(a, Tensor) or isinstance(b, Tensor):  # the autograd op (PyTorch's matmul)
        if trans_a:
            a = a.t() if isinstance(a, Tensor) else np.asarray(a).T
        if trans_b:
            b = b.t() if isinstance(b, Tensor) else np.asarray(b).T
        result = ops_nn.matmul(a, b)
        if out is not None:
            if result.requires_grad:  # an out= array can't carry the graph
                raise RuntimeError("matmul(): functions with out=... arguments don't support "
                                   "automatic differentiation, but one of the arguments "
                                   "requires grad")
            _check_out(out, result)
            out.copy_(result) if isinstance(out, Tensor) else np.copyto(out, result._data)
            return out
        return result
    return _core.matmul(a, b, trans_a, trans_b, out)


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))
                                               and value in (0, 1)):
        return bool(value)
    raise TypeError(f"matmul(): argument '{name}' must be a bool, got {type(value).__name__}")


def _check_out(out: Any, result: Tensor) -> None:
    """``out`` for a product computed on Tensors: a float Tensor or ndarray of its shape."""
    if not isinstance(out, (Tensor, np.ndarray)):
        raise TypeError(f"matmul(): argument 'out' must be a Tensor or numpy.ndarray, got "
                        f"{type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape):
        raise ValueError(f"matmul(): argument 'out' must have shape {tuple(result.shape)}, got "
                         f"{tuple(out.shape)}")
    if np.dtype(out.dtype).kind != "f":
        raise TypeError(f"matmul(): argument 'out' must be a float array, got {out.dtype}")
    data = out._data if isinstance(out, Tensor) else out
    if not data.flags.writeable:  # NumPy's copy said only "assignment destination is read-only"
        raise ValueError("matmul(): argument 'out' must be writeable (it is a read-only array)")
