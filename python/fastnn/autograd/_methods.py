"""Binds the ops to ``Tensor`` as methods and operators (``x.sum()``, ``x + y``, ``x @ w``, ...).

Kept apart from ``tensor.py`` so that the class stays readable and each op
module depends on the class, never the reverse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops_math as m
from . import ops_nn as nn
from . import ops_reduce as r
from . import ops_shape as s
from .numpy_names import both_given, takes_dim, with_numpy_names
from .tensor import Tensor, _check_dim, _wrap


def _inplace(op: Any, ufunc: Any) -> Any:
    def method(self: Tensor, other: Any, **kwargs: Any) -> Tensor:
        if kwargs.get("alpha", 1) != 1:
            other = m.mul(other, kwargs["alpha"])
        return s.inplace(self, op, ufunc, other)
    method.__doc__ = (f"``{op.__name__}(self, other)`` written into ``self`` (recorded on the "
                      "graph when either requires grad); returns ``self``.")
    return method


def _via_op(op: Any) -> Any:
    """A ufunc-like ``f(a, b, out=, casting=)`` that writes ``op``'s result into ``out``: the
    untracked in-place path for ops whose semantics (PyTorch's integer powers, floor
    division and remainder) NumPy's ufunc does not share."""
    def ufunc(a: Any, b: Any, out: Any, casting: str) -> None:
        result = op(_wrap(a), b)._data
        if result.shape != out.shape:  # copyto would drop leading 1s: refused as by +=
            raise ValueError(f"the result's shape {result.shape} is not {out.shape}")
        np.copyto(out, result, casting=casting)
    return ufunc


def _subtract(a: Any, b: Any, out: Any, casting: str) -> None:
    """``np.subtract`` for ``x -= y`` / ``x.sub_(y)`` outside the graph, with PyTorch's
    refusal of bool operands (``m.sub`` raises the same for the recorded path)."""
    if m._is_bool(a) or m._is_bool(b):
        raise m.bool_subtraction_error(a, b)
    np.subtract(a, b, out=out, casting=casting)


def _equality(op: Any) -> Any:
    """``==`` / ``!=``: against a value that is no number, array or Tensor (``None``, a
    str) Python's default answers, ``False`` / ``True``, as in torch; ``fn.eq(t, None)``
    and ``t.eq(None)`` still raise TypeError, as torch's do."""
    def method(self: Tensor, other: Any) -> Any:
        try:
            return op(self, other)
        except TypeError:  # raised by operand(): not a numeric value
            return NotImplemented
    method.__name__ = op.__name__
    return method


def _masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where the bool ``mask`` (broadcast) is true, ``self`` elsewhere."""
    return s.where(mask, value, self)


def _unary_inplace(op: Any) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace()
        return s.inplace_unary(self, op, *args, **kwargs)
    method.__doc__ = f"``{op.__name__.lstrip('_')}`` written into ``self``; returns ``self``."
    return method


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` reshaped to ``other``'s shape."""
    return s.reshape(self, other.shape)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` broadcast (a view) to ``other``'s shape."""
    return s.expand(self, other.shape)


def _where(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``self`` where ``condition`` is true, ``other`` elsewhere."""
    return s.where(condition, self, other)


def _clamp_min(self: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's names
    """``clamp(min=min)``."""
    return m.clamp(self, min=min)


def _clamp_max(self: Tensor, max: Any) -> Tensor:  # noqa: A002
    """``clamp(max=max)``."""
    return m.clamp(self, max=max)


def _new_zeros(self: Tensor, *size: Any, **kwargs: Any) -> Tensor:
    """Zeros of shape ``size``, of ``self``'s dtype unless ``dtype=`` says otherwise."""
    return _new(self, np.zeros, size, **kwargs)


def _new_ones(self: Tensor, *size: Any, **kwargs: Any) -> Tensor:
    """Ones of shape ``size``, of ``self``'s dtype unless ``dtype=`` says otherwise."""
    return _new(self, np.ones, size, **kwargs)


def _new_empty(self: Tensor, *size: Any, **kwargs: Any) -> Tensor:
    """A Tensor of shape ``size`` and ``self``'s dtype whose values are not to be relied on."""
    return _new(self, np.zeros, size, **kwargs)


def _new_full(self: Tensor, size: Any, fill_value: Any, **kwargs: Any) -> Tensor:
    """``fill_value`` in shape ``size``, of ``self``'s dtype unless ``dtype=`` says otherwise."""
    return _new(self, lambda shape, dtype: np.full(shape, fill_value, dtype), (size,), **kwargs)


def _equal(self: Tensor, other: Any) -> bool:
    """Whether ``other`` has ``self``'s shape and elements (a Python bool)."""
    return self.shape == other.shape and bool(
        np.array_equal(self._data, other._data if isinstance(other, Tensor) else other))


def _ravel(self: Tensor) -> Tensor:
    """``self`` flattened to one dimension."""
    return s.reshape(self, -1)


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    return m.floordiv(other, self)


def _rremainder(self: Tensor, other: Any) -> Tensor:
    return m.remainder(other, self)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    return nn.matmul(other, self)


def _pos(self: Tensor) -> Tensor:
    return self


def _new(x: Tensor, make: Any, size: tuple, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """``x.new_zeros(2, 3)`` and kin: a new Tensor of ``x``'s dtype unless ``dtype``."""
    from .creation import _finish, _size
    from .dtypes import as_dtype
    dt = x._data.dtype if dtype is None else as_dtype(dtype, "new_*()")
    return _finish(make(_size(size, "new_*"), dtype=dt), requires_grad, device)


def _new_tensor(x: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """A Tensor of ``data``, of ``x``'s dtype unless ``dtype`` says otherwise."""
    from .creation import tensor
    return tensor(data, dtype=x._data.dtype if dtype is None else dtype, device=device,
                  requires_grad=requires_grad)


def _nonzero(x: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero entries: ``(n, ndim)`` int64, or one 1-D Tensor per dim."""
    if x._data.ndim == 0:  # torch: (1, 0) for a non-zero scalar, (0, 0) for zero
        n = int(bool(x._data))
        return (_wrap(np.zeros(n, np.int64)),) if as_tuple else _wrap(np.zeros((n, 0), np.int64))
    idx = np.nonzero(x._data)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in idx)
    return _wrap(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64))


def _unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
            return_counts: bool = False, dim: Any = None) -> Any:
    """The distinct values (sorted), with ``inverse`` indices and ``counts`` on request."""
    d = x._data
    axis = None if dim is None else _check_dim(dim, d.ndim, "unique")
    values, inverse, counts = np.unique(d, return_inverse=True, return_counts=True, axis=axis)
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.reshape(d.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# NumPy ufuncs behind Python's operators: ``ndarray - tensor`` stays on the graph.
_OPERATOR_UFUNCS: dict[Any, Any] = {
    np.add: m.add, np.subtract: m.sub, np.multiply: m.mul, np.true_divide: m.div,
    np.power: m.pow, np.matmul: nn.matmul, np.equal: m.eq, np.not_equal: m.ne,
    np.less: m.lt, np.less_equal: m.le, np.greater: m.gt, np.greater_equal: m.ge,
}


def _array_ufunc(self: Tensor, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """NumPy ufuncs on Tensors: operators give Tensors on the graph; any other ufunc
    (``np.abs(t)``, ``np.add(a, t, out=a)``) runs on the values and gives arrays."""
    if method == "__call__" and not kwargs and ufunc in _OPERATOR_UFUNCS:
        return _OPERATOR_UFUNCS[ufunc](*inputs)
    args = [x._data if isinstance(x, Tensor) else x for x in inputs]
    out = kwargs.get("out")
    if out is not None:
        kwargs["out"] = tuple(o._data if isinstance(o, Tensor) else o for o in out)
    return getattr(ufunc, method)(*args, **kwargs)


def _alias_only(args: tuple, kwargs: dict[str, Any], func: str) -> None:
    """Raises when ``axis`` comes with a ``dim`` (positional or keyword), as PyTorch does."""
    if args or "dim" in kwargs:
        raise both_given(func)


def _numpy_kwargs(reduction: Any) -> Any:
    """``reduction`` also accepting NumPy's names (``axis``, ``keepdims``, ``out=None``), so
    that ``np.sum(t)``, ``np.all(t == 0)`` and friends work on Tensors, as on torch's."""
    def method(self: Tensor, *args: Any, axis: Any = None, keepdims: Any = None,
               out: Any = None, **kwargs: Any) -> Any:
        if out is not None:
            raise TypeError(f"{reduction.__name__}(): out= is not supported")
        if axis is not None:
            _alias_only(args, kwargs, reduction.__name__)
            kwargs["dim"] = axis
        if keepdims is not None:
            kwargs["keepdim"] = bool(keepdims)
        kwargs.pop("dtype", None) if kwargs.get("dtype", 0) is None else None
        return reduction(self, *args, **kwargs)
    method.__name__ = reduction.__name__
    method.__doc__ = reduction.__doc__
    return method


def _sum(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None, out: Any = None) -> Tensor:
    """``Tensor.sum``, also under NumPy's argument names (``np.sum(t)`` works)."""
    if axis is not None:
        _alias_only((dim,) if dim is not None else (), {}, "sum")
        dim = axis
    if keepdims is not None:
        keepdim = bool(keepdims)
    if out is not None:
        raise TypeError("sum(): out= is not supported")
    return r.sum(self, dim, keepdim, dtype=dtype)


_BINDINGS: dict[str, Any] = {
    "__array_ufunc__": _array_ufunc,
    # operators
    "__add__": m.add, "__radd__": m.add, "__sub__": m.sub, "__rsub__": m.rsub,
    "__mul__": m.mul, "__rmul__": m.mul, "__truediv__": m.div, "__rtruediv__": m.rdiv,
    "__floordiv__": m.floordiv, "__rfloordiv__": _rfloordiv,
    "__mod__": m.remainder, "__rmod__": _rremainder, "__pow__": m.pow, "__rpow__": m.rpow,
    "__matmul__": nn.matmul, "__rmatmul__": _rmatmul,
    "__neg__": m.neg, "__pos__": _pos, "__abs__": m.abs, "__invert__": m.bitwise_not,
    "__and__": m.bitwise_and, "__rand__": m.bitwise_and, "__or__": m.bitwise_or,
    "__ror__": m.bitwise_or, "__xor__": m.bitwise_xor, "__rxor__": m.bitwise_xor,
    "__eq__": _equality(m.eq), "__ne__": _equality(m.ne), "__lt__": m.lt, "__le__": m.le,
    "__gt__": m.gt, "__ge__": m.ge,
    "__iadd__": _inplace(m.add, np.add), "__isub__": _inplace(m.sub, _subtract),
    "__imul__": _inplace(m.mul, np.multiply), "__itruediv__": _inplace(m.div, np.true_divide),
    "__ipow__": _inplace(m.pow, _via_op(m.pow)),
    "__ifloordiv__": _inplace(m.floordiv, _via_op(m.floordiv)),
    "__imod__": _inplace(m.remainder, _via_op(m.remainder)),
    "__getitem__": s.getitem, "__setitem__": s.setitem,
    # arithmetic and maths
    "add": m.add, "sub": m.sub, "subtract": m.sub, "mul": m.mul, "multiply": m.mul,
    "div": m.div, "divide": m.div, "true_divide": m.div, "pow": m.pow,
    "remainder": m.remainder, "neg": m.neg, "negative": m.neg, "abs": m.abs,
    "exp": m.exp, "log": m.log, "sqrt": m.sqrt, "sin": m.sin, "cos": m.cos,
    "square": m.square, "clamp": m.clamp, "clip": m.clamp, "sign": m.sign,
    "floor": m.floor, "ceil": m.ceil, "round": m.round, "maximum": m.maximum,
    "minimum": m.minimum, "clone": m.clone,
    "eq": m.eq, "ne": m.ne, "lt": m.lt, "le": m.le, "gt": m.gt, "ge": m.ge,
    "logical_not": m.logical_not, "isnan": m.isnan, "isfinite": m.isfinite,
    "add_": _inplace(m.add, np.add), "sub_": _inplace(m.sub, _subtract),
    "mul_": _inplace(m.mul, np.multiply), "div_": _inplace(m.div, np.true_divide),
    "pow_": _inplace(m.pow, _via_op(m.pow)),
    "clamp_": _unary_inplace(m.clamp), "exp_": _unary_inplace(m.exp),
    "masked_fill": _masked_fill, "masked_fill_": _unary_inplace(_masked_fill),
    "log1p": m.log1p, "expm1": m.expm1, "log2": m.log2, "log10": m.log10,
    "clamp_min": _clamp_min, "clamp_max": _clamp_max, "new_zeros": _new_zeros,
    "new_ones": _new_ones, "new_empty": _new_empty, "new_full": _new_full,
    "new_tensor": _new_tensor,
    # reductions
    "sum": _sum, "mean": _numpy_kwargs(r.mean),
    **{name: _numpy_kwargs(f) for name, f in (
        ("prod", r.prod), ("var", r.var), ("std", r.std),
        ("max", r.max), ("min", r.min), ("amax", r.amax), ("amin", r.amin),
        ("argmax", r.argmax), ("argmin", r.argmin), ("any", r.any), ("all", r.all))},
    "sort": r.sort, "argsort": r.argsort, "topk": r.topk, "cumsum": r.cumsum,
    "nonzero": _nonzero, "unique": _unique, "equal": _equal,
    "norm": r.norm, "logsumexp": r.logsumexp,
    # shapes and indexing
    "reshape": s.reshape, "view": s.view, "view_as": _view_as, "reshape_as": _view_as,
    "flatten": s.flatten, "ravel": _ravel, "unsqueeze": s.unsqueeze,
    "squeeze": s.squeeze,
    "transpose": s.transpose, "t": s.t, "permute": s.permute, "expand": s.expand,
    "expand_as": _expand_as, "repeat": s.repeat, "chunk": s.chunk, "split": s.split,
    "where": _where, "flip": s.flip, "gather": s.gather, "index_select": s.index_select,
    # neural-network ops
    "matmul": nn.matmul, "mm": nn.matmul, "relu": nn.relu, "sigmoid": nn.sigmoid,
    "tanh": nn.tanh, "softmax": nn.softmax, "log_softmax": nn.log_softmax,
    # PyTorch's in-place forms of the element-wise maths
    **{f"{name}_": _unary_inplace(op) for name, op in (
        ("relu", nn.relu), ("sigmoid", nn.sigmoid), ("tanh", nn.tanh), ("neg", m.neg),
        ("abs", m.abs), ("log", m.log), ("sqrt", m.sqrt), ("square", m.square),
        ("clamp_min", _clamp_min), ("clamp_max", _clamp_max))},
}


def bind() -> None:
    """Installs every entry of ``_BINDINGS`` on ``Tensor`` (once, at import); a method
    with a ``dim`` also takes NumPy's ``axis`` (and ``keepdims``), as PyTorch's do."""
    for name, func in _BINDINGS.items():
        setattr(Tensor, name, with_numpy_names(func) if takes_dim(func) else func)
    Tensor.T = property(s.T)
    Tensor.mT = property(lambda self: s.transpose(self, -2, -1))
    Tensor.__hash__ = lambda self: id(self)  # __eq__ is element-wise: hash by identity
