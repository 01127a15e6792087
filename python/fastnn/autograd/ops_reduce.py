"""Reductions: ``sum``, ``mean``, ``prod``, ``var``/``std``, ``max``/``min``, ``norm``, ...

``dim`` is ``None`` (all elements), an int, or a tuple of ints; ``keepdim`` keeps
the reduced dimensions with size 1. ``max(dim)`` / ``min(dim)`` return
``(values, indices)`` as PyTorch does, with the gradient routed to the chosen
index; the full ``max()`` / ``min()`` split it evenly among ties.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from .grad_mode import _state
from .graph import RERUN_VJPS
from .tensor import Tensor, _check_dim, _result, as_int, check_dims, named, stamp

_F32 = np.dtype(np.float32)

values_indices = namedtuple("values_indices", ["values", "indices"])


def axes_of(dim: Any, ndim: int, func: str) -> tuple[int, ...] | None:
    """``dim`` as a sorted tuple of non-negative axes (``None``: all)."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return None
    axes = tuple(sorted(check_dims(dim, ndim, func)))
    if ndim == 0:
        return None
    return axes


def _expand(g: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None,
            keepdim: bool) -> np.ndarray:
    """The gradient of a reduction's output, broadcast back to the input's ``shape``
    (a read-only view, as ``np.broadcast_to`` gives)."""
    if g.size == 1 and type(g) is np.ndarray:
        # One value (a full reduction, the usual loss): the zero-stride view directly,
        # 0.5 us where np.broadcast_to takes 1.9 (per-op-bound code on small Tensors).
        out = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if not keepdim and axes is not None and len(shape):
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _sum_vjp(node, g):
    shape, axes, keepdim, dtype = node.saved
    g = _expand(g, shape, axes, keepdim)
    return (g if g.dtype is dtype else g.astype(dtype),)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (all elements by default); ``dtype`` casts the input first, as
    PyTorch (a float32 Tensor summed as float64 accumulates in float64)."""
    if dtype is not None:  # and the result in dtype (integers would widen to int64)
        from .dtypes import as_dtype
        dt = as_dtype(dtype, "sum()")
        return sum(x.to(dt), dim, keepdim).to(dt)
    d = x._data
    axes = None if dim is None else axes_of(dim, d.ndim, "sum")
    value = d.sum(axis=axes, keepdims=keepdim)
    kind = d.dtype.kind
    if kind in "bi" or (kind == "u"):
        value = value.astype(np.int64, copy=False)
    elif type(value) is not np.ndarray:
        value = np.asarray(value, d.dtype)
    if x._rg and _state.enabled:  # PyTorch: SumBackward1 for a sum over dims
        return named(_result(value, _sum_vjp, (x,), (d.shape, axes, keepdim, d.dtype)),
                     None if axes is None else "SumBackward1")
    return _result(value, None, ())


def _mean_vjp(node, g):
    shape, axes, keepdim, count = node.saved
    return (_expand(g / count, shape, axes, keepdim),)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (all elements by default); floating Tensors only, as in PyTorch."""
    d = x._data
    if dtype is not None:
        from .dtypes import as_dtype
        d = d.astype(as_dtype(dtype, "mean()"))
    if d.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {d.dtype}")
    axes = axes_of(dim, d.ndim, "mean")
    count = d.size if axes is None else int(np.prod([d.shape[a] for a in axes]))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.mean(d, axis=axes, keepdims=keepdim, dtype=d.dtype) if d.size else \
            np.full(np.sum(d, axis=axes, keepdims=keepdim).shape, np.nan, d.dtype)
    if _state.enabled and x._rg:
        return named(_result(np.asarray(value, d.dtype), _mean_vjp, (x,),
                             (d.shape, axes, keepdim, d.dtype.type(builtins.max(count, 1)))),
                     None if axes is None else "MeanBackward1")
    return _result(np.asarray(value, d.dtype), None, ())


def _var_vjp(node, g):
    xd, axes, keepdim, denom, std = node.saved
    centered = xd - xd.mean(axis=axes, keepdims=True)
    if std is not None:  # d std = d var / (2 std); 0 where std is 0, as PyTorch (not NaN)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(std == 0, 0, g / (2 * std)).astype(g.dtype, copy=False)
    g = _expand(g, xd.shape, axes, keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((2 / denom) * g * centered,)


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None, _std: bool = False) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    if isinstance(dim, bool) and unbiased is None:  # x.var(False): PyTorch's unbiased flag
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    d = x._data
    func = "std" if _std else "var"
    if d.dtype.kind != "f":  # NumPy gave float64 (std) or a truncated int64 (var)
        raise RuntimeError(f"{func}(): std and var only support floating point dtypes, got "
                           f"{d.dtype}")
    axes = axes_of(dim, d.ndim, func)
    count = d.size if axes is None else int(np.prod([d.shape[a] for a in axes]))
    denom = builtins.max(count - correction, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if denom > 0:
            value = np.var(d, axis=axes, keepdims=keepdim, ddof=correction, dtype=d.dtype)
        elif count:  # the squared deviations over 0 samples, as torch: inf, NaN where all
            dev = d - np.mean(d, axis=axes, keepdims=True, dtype=d.dtype)  # are equal
            value = np.sum(dev * dev, axis=axes, keepdims=keepdim) / d.dtype.type(0)
        else:
            value = np.full(np.sum(d, axis=axes, keepdims=keepdim).shape, np.nan, d.dtype)
        value = np.asarray(value, d.dtype)
        if _std:
            value = np.sqrt(value)
    if _state.enabled and x._rg:
        out = _result(value, _var_vjp, (x,),
                      (d, axes, keepdim, d.dtype.type(denom), value if _std else None),
                      (stamp(x),))
        if _std:  # the backward of std reads the output too
            out.grad_fn.stamps += (stamp(out),)
        return named(out, "StdBackward0" if _std else "VarBackward0")
    return _result(value, None, ())


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` with Bessel's correction by default."""
    return var(x, dim, unbiased, keepdim, correction=correction, _std=True)


def _exclusive_prod(d: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of the others along ``axis`` (zero-safe)."""
    ones = np.ones_like(np.take(d, [0], axis=axis))
    left = np.concatenate([ones, np.cumprod(d, axis=axis)], axis=axis)
    left = np.take(left, range(d.shape[axis]), axis=axis)
    flipped = np.flip(d, axis=axis)
    right = np.concatenate([ones, np.cumprod(flipped, axis=axis)], axis=axis)
    right = np.flip(np.take(right, range(d.shape[axis]), axis=axis), axis=axis)
    return left * right


def _prod_vjp(node, g):
    xd, axis, keepdim = node.saved
    if axis is None:
        others = _exclusive_prod(xd.reshape(-1), 0).reshape(xd.shape) if xd.size else xd
        return (g * others,)
    if xd.shape[axis] == 0:  # an empty product: nothing to differentiate into
        return (np.zeros(xd.shape, g.dtype),)
    if not keepdim:
        g = np.expand_dims(g, axis)
    return (g * _exclusive_prod(xd, axis),)


def prod(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over one ``dim`` or over all elements; ``dtype`` casts the input first, as
    PyTorch (``[1.5, 2.5]`` as int64 multiplies 1 by 2)."""
    if dtype is not None:  # and the result in dtype (integers would widen to int64)
        from .dtypes import as_dtype
        dt = as_dtype(dtype, "prod()")
        return prod(x.to(dt), dim, keepdim).to(dt)
    d = x._data
    axis = None if dim is None else _check_dim(dim, d.ndim, "prod")
    if d.ndim == 0:  # dim 0 (or -1) of a 0-d Tensor: the value itself, as all elements
        axis = None
    value = np.prod(d, axis=axis, keepdims=keepdim)
    value = np.asarray(value, d.dtype if d.dtype.kind == "f" else np.int64)
    if _state.enabled and x._rg:
        out = _result(value, _prod_vjp, (x,), (d, axis, keepdim), (stamp(x),))
        out.grad_fn.stamps += (stamp(out),)  # PyTorch's ProdBackward saves the result too
        return named(out, None if dim is None else "ProdBackward1")
    return _result(value, None, ())


def _extreme_all_vjp(node, g):
    xd, value = node.saved
    hit = _hits(xd, value)  # the share filled in, not multiplied in (torch's masked_fill):
    share = np.asarray(g / np.count_nonzero(hit), g.dtype)  # an inf gradient gave NaN
    return (np.where(hit, share, np.zeros((), g.dtype)),)     # elsewhere


def _hits(xd: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The elements equal to the extreme ``value``, NaNs where it is NaN (PyTorch shares the
    gradient among them; ``xd == NaN`` matches nothing and gave NaN everywhere)."""
    hit = xd == value
    if np.isnan(value).any():
        hit |= np.isnan(xd) & np.isnan(value)
    return hit


def _extreme_dim_vjp(node, g):
    shape, axis, keepdim, idx = node.saved
    out = np.zeros(shape, g.dtype)
    gi = g if keepdim else np.expand_dims(g, axis)
    ii = idx if keepdim else np.expand_dims(idx, axis)
    np.put_along_axis(out, ii, gi, axis=axis)
    return (out,)


def _extreme(x: Tensor, dim: Any, keepdim: bool, largest: bool, func: str) -> Any:
    d = x._data
    if isinstance(dim, Tensor):  # fn.max(a, b): the element-wise form
        from .ops_math import maximum, minimum
        return (maximum if largest else minimum)(x, dim)
    if dim is None:
        if d.size == 0:
            raise RuntimeError(f"{func}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        value = np.asarray(d.max() if largest else d.min())
        if _state.enabled and x._rg:
            out = _result(value, _extreme_all_vjp, (x,), (d, value), (stamp(x),))
            out.grad_fn.stamps += (stamp(out),)  # the backward reads the output too
            return named(out, f"{func.capitalize()}Backward1")
        return _result(value, None, ())
    axis = _check_dim(dim, d.ndim, func)
    _check_nonempty(d, axis, func)
    if d.ndim == 0:  # the value itself, on the graph as PyTorch's is
        from .ops_math import clone
        values = named(clone(x), f"{func.capitalize()}Backward0")
        return values_indices(values, _result(np.asarray(0), None, ()))
    idx = np.argmax(d, axis=axis) if largest else np.argmin(d, axis=axis)
    idx_k = np.expand_dims(idx, axis)
    value = np.take_along_axis(d, idx_k, axis=axis)
    if not keepdim:
        value = value.squeeze(axis)
    else:
        idx = idx_k
    indices = _result(idx.astype(np.int64), None, ())
    if _state.enabled and x._rg:
        values = named(_result(value, _extreme_dim_vjp, (x,), (d.shape, axis, keepdim, idx)),
                       f"{func.capitalize()}Backward0")
    else:
        values = _result(value, None, ())
    return values_indices(values, indices)


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The maximum; with ``dim``, ``(values, indices)`` along it."""
    return _extreme(x, dim, keepdim, True, "max")


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The minimum; with ``dim``, ``(values, indices)`` along it."""
    return _extreme(x, dim, keepdim, False, "min")


def _amax_vjp(node, g):
    xd, kept, axes, keepdim = node.saved
    hit = _hits(xd, kept)
    gk = g if keepdim or axes is None else np.expand_dims(g, axes)
    return (gk * hit / np.count_nonzero(hit, axis=axes, keepdims=True),)


def _extreme_values(x: Tensor, dim: Any, keepdim: bool, largest: bool, func: str) -> Tensor:
    """amax / amin over ``dim`` (an int, a tuple of ints, or all elements): the gradient
    is shared equally among the elements equal to the result, as in PyTorch (``max(dim)``
    sends it to the one index it returns)."""
    d = x._data
    axes = axes_of(dim, d.ndim, func)
    if axes is None:  # all elements (also any dim of a 0-d Tensor)
        return max(x) if largest else min(x)
    if builtins.any(d.shape[a] == 0 for a in axes):
        raise IndexError(f"{func}(): Expected reduction dim {dim} to have non-zero size.")
    kept = d.max(axis=axes, keepdims=True) if largest else d.min(axis=axes, keepdims=True)
    value = kept if keepdim else kept.squeeze(axes)
    if _state.enabled and x._rg:
        out = _result(value, _amax_vjp, (x,), (d, kept, axes, keepdim), (stamp(x),))
        out.grad_fn.stamps += (stamp(out),)  # the backward reads the result (its view kept)
        return out
    return _result(value, None, ())


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (int or tuple; all elements by default), without indices."""
    return _extreme_values(x, dim, keepdim, True, "amax")


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The minimum over ``dim`` (int or tuple; all elements by default), without indices."""
    return _extreme_values(x, dim, keepdim, False, "amin")


def _check_nonempty(d: np.ndarray, axis: int | None, func: str) -> None:
    """An arg-extreme over no elements has no answer: torch's IndexError (NumPy's
    ValueError said "empty sequence")."""
    if axis is None and d.size == 0:
        raise IndexError(f"{func}(): Expected reduction dim to be specified for "
                         "input.numel() == 0.")
    if axis is not None and d.ndim and d.shape[axis] == 0:
        raise IndexError(f"{func}(): Expected reduction dim {axis} to have non-zero size.")


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (of the flattened Tensor when ``dim`` is ``None``)."""
    d = x._data
    if dim is None:
        _check_nonempty(d, None, "argmax")
        index = np.asarray(np.argmax(d), np.int64)  # keepdim: every dimension kept as 1
        return _result(index.reshape((1,) * d.ndim) if keepdim else index, None, ())
    axis = _check_dim(dim, d.ndim, "argmax")
    _check_nonempty(d, axis, "argmax")
    return _result(np.argmax(d, axis=axis, keepdims=keepdim).astype(np.int64), None, ())


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the minimum (of the flattened Tensor when ``dim`` is ``None``)."""
    d = x._data
    if dim is None:
        _check_nonempty(d, None, "argmin")
        index = np.asarray(np.argmin(d), np.int64)  # keepdim: every dimension kept as 1
        return _result(index.reshape((1,) * d.ndim) if keepdim else index, None, ())
    axis = _check_dim(dim, d.ndim, "argmin")
    _check_nonempty(d, axis, "argmin")
    return _result(np.argmin(d, axis=axis, keepdims=keepdim).astype(np.int64), None, ())


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (along ``dim``) is non-zero, as a bool Tensor."""
    axes = axes_of(dim, x._data.ndim, "any")
    return _result(np.any(x._data, axis=axes, keepdims=keepdim), None, ())


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (along ``dim``) is non-zero, as a bool Tensor."""
    axes = axes_of(dim, x._data.ndim, "all")
    return _result(np.all(x._data, axis=axes, keepdims=keepdim), None, ())


def _norm2_vjp(node, g):
    xd, axes, keepdim, value = node.saved
    v = value if keepdim or axes is None else np.expand_dims(value, axes)
    gg = g if keepdim or axes is None else np.expand_dims(g, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(v == 0, 0, gg / v)
    return ((scale * xd).astype(xd.dtype, copy=False),)


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (2-norm by default; the gradient at 0 is 0)."""
    if x._data.dtype.kind != "f":  # as torch (NumPy gave an int64 norm)
        raise RuntimeError(f"norm(): Expected a floating point tensor as input, got "
                           f"{x._data.dtype}")
    if p in ("fro", 2, 2.0):
        d = x._data
        axes = axes_of(dim, d.ndim, "norm")
        value = np.asarray(np.sqrt(np.sum(d * d, axis=axes, keepdims=keepdim)), d.dtype)
        if _state.enabled and x._rg:
            out = _result(value, _norm2_vjp, (x,), (d, axes, keepdim, value), (stamp(x),))
            out.grad_fn.stamps += (stamp(out),)  # the backward reads the output too
            return out
        return _result(value, None, ())
    from . import ops_math
    if p in (float("inf"), "inf"):
        return amax(ops_math.abs(x), dim, keepdim)
    return ops_math.pow(sum(ops_math.pow(ops_math.abs(x), p), dim, keepdim), 1.0 / p)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))`` computed stably."""
    from . import ops_math
    axes = axes_of(dim, x._data.ndim, "logsumexp")  # first: errors name logsumexp
    m = amax(x, dim, keepdim=True).detach()
    m = ops_math.where_finite(m)
    out = ops_math.add(ops_math.log(sum(ops_math.exp(ops_math.sub(x, m)), dim, keepdim=True)), m)
    return out if keepdim else _squeeze_dims(out, axes)


def _squeeze_dims(t: Tensor, axes: tuple[int, ...] | None) -> Tensor:
    from .ops_shape import reshape
    shape = tuple(n for i, n in enumerate(t.shape) if axes is None or i not in axes)
    return reshape(t, shape)


# -- ordering: sort, argsort, topk ----------------------------------------------
def _order(d: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort ``d`` along ``axis``, stably; NaN counts as the largest value
    (last ascending, first descending), as in PyTorch."""
    moved = np.moveaxis(d, axis, -1)
    if not descending:
        idx = np.argsort(moved, axis=-1, kind="stable")
    elif moved.dtype.kind == "f":
        nan = np.isnan(moved)
        idx = np.lexsort((-np.where(nan, 0, moved), ~nan), axis=-1)
    else:  # bool, int, uint: ~v reverses the order without overflow (~v = -v - 1, MAX - v)
        idx = np.argsort(~moved, axis=-1, kind="stable")
    return np.moveaxis(idx, -1, axis)


def _take_vjp(node, g):
    shape, axis, idx = node.saved
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, idx, g, axis=axis)
    return (out,)


def _taken(x: Tensor, idx: np.ndarray, axis: int) -> Any:
    value = np.take_along_axis(x._data, idx, axis=axis)
    indices = _result(idx.astype(np.int64), None, ())
    if _state.enabled and x._rg:
        return values_indices(_result(value, _take_vjp, (x,), (x.shape, axis, idx)), indices)
    return values_indices(_result(value, None, ()), indices)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)`` sorted along ``dim`` (always stably); gradients flow to the
    values' original places."""
    if x.ndim == 0:
        return values_indices(x.clone() if x._rg else _result(x._data.copy(), None, ()),
                              _result(np.asarray(0, np.int64), None, ()))
    axis = _check_dim(dim, x.ndim, "sort")
    return _taken(x, _order(x._data, axis, descending), axis)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (int64, no gradient)."""
    if x.ndim == 0:
        return _result(np.asarray(0, np.int64), None, ())
    axis = _check_dim(dim, x.ndim, "argsort")
    return _result(_order(x._data, axis, descending).astype(np.int64), None, ())


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest
    first; gradients flow to those values' places."""
    k = as_int(k, "topk", "k")
    if x.ndim == 0:
        if k not in (0, 1):
            raise RuntimeError(f"topk(): selected index k out of range (k = {k}, size 1)")
        return sort(x) if k == 1 else _taken(x.reshape(1), np.zeros(0, np.int64), 0)
    axis = _check_dim(dim, x.ndim, "topk")
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k = {k}, size {n} along "
                           f"dim {dim})")
    idx = np.take(_order(x._data, axis, largest), np.arange(k), axis=axis)
    return _taken(x, idx, axis)


def _cumsum_vjp(node, g):
    axis = node.saved[0]
    if axis is None:
        return (g,)
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``; integers and bools sum as int64, as in PyTorch."""
    d = x._data
    if dtype is not None:  # cast first, as torch (1.5 + 2.5 as int64 is 1 + 2)
        from .dtypes import as_dtype
        d = d.astype(as_dtype(dtype, "cumsum()"))
    if d.ndim == 0:
        _check_dim(dim, 1, "cumsum")
        axis, value = None, d.copy()
    else:
        axis = _check_dim(dim, d.ndim, "cumsum")
        value = np.cumsum(d, axis=axis)
    if d.dtype.kind in "biu" and dtype is None:
        value = value.astype(np.int64, copy=False)
    if _state.enabled and x._rg and value.dtype.kind == "f":
        return _result(value, _cumsum_vjp, (x,), (axis,))
    return _result(value, None, ())


# Nodes that read no saved values run again in a second backward (graph.RERUN_VJPS).
RERUN_VJPS.update(dict.fromkeys((_sum_vjp, _mean_vjp, _cumsum_vjp)))
