"""Shape and indexing ops: views, ``permute``, indexing, in-place writes, ``cat``, ``where``.

Views (``view``/``reshape`` of contiguous data, ``transpose``, ``unsqueeze``,
basic indexing) share storage and the version counter with their base, as in
PyTorch. Indexing with integer arrays or boolean masks copies; its backward
scatter-adds (``np.add.at``), so repeated indices accumulate.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError, ShapeError, broadcast_error
from .grad_mode import _state
from .graph import RERUN_VJPS, VIEW_VJPS, op_vjp, unbroadcast
from .ops_math import operand
from .tensor import Tensor, _check_dim, _result, _share_vc, _wrap, as_int, check_dims, named

# -- views ---------------------------------------------------------------------


def _view_result(x: Tensor, value: np.ndarray, vjp: Any, saved: tuple) -> Tensor:
    if _state.enabled and x._rg:
        out = _result(value, vjp, (x,), saved)
    else:
        out = _result(value, None, ())
    if np.may_share_memory(value, x._data):
        out._vc = _share_vc(x)
    return out


def _reshape_vjp(node, g):
    return (g.reshape(node.saved[0]),)


def _shape_arg(shape: tuple[Any, ...], func: str, arg: str) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` as ``(2, 3)``; only integers (see ``as_int``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(as_int(s, func, arg, "a tuple of ints") for s in shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with a new shape (one entry may be -1); a view when the data allows."""
    out = _reshape(x, _shape_arg(shape, "reshape", "shape"))
    if out.grad_fn is None:
        return out
    # PyTorch's nodes: a view, or a copy (UnsafeView) of data that cannot be viewed
    viewed = np.may_share_memory(out._data, x._data) or not out._data.size
    return named(out, "ViewBackward0" if viewed else "UnsafeViewBackward0")


def _reshape(x: Tensor, new: tuple[int, ...]) -> Tensor:
    bad = [i for i, n in enumerate(new) if n < -1]
    if bad:  # NumPy takes any negative size for -1
        raise ShapeError(f"invalid shape dimension {new[bad[0]]} at index {bad[0]} of shape "
                         f"{list(new)}")
    if new.count(-1) > 1:
        raise ShapeError("only one dimension can be inferred")
    try:
        value = x._data.reshape(new)
    except ValueError:
        raise ShapeError(f"shape '{list(new)}' is invalid for input of size "
                         f"{x._data.size}") from None
    return _view_result(x, value, _reshape_vjp, (x._data.shape,))


def view(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with a new shape, sharing its storage (PyTorch's ``view``)."""
    # a dtype is a name, a type or an np.dtype; anything else is checked as a shape
    if len(shape) == 1 and isinstance(shape[0], (str, type, np.dtype)):
        from .dtypes import as_dtype  # view(dtype) is not supported: say so clearly
        as_dtype(shape[0], "view()")
        raise NotImplementedError("view(dtype) is not supported by fastnn")
    out = _reshape(x, _shape_arg(shape, "view", "shape"))
    if out._data.size and not np.may_share_memory(out._data, x._data):
        # a copy would silently drop writes through the "view": refuse, as PyTorch does
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.")
    return named(out, "ViewBackward0")


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merges dimensions ``start_dim`` .. ``end_dim`` into one."""
    nd = x._data.ndim
    if nd == 0:  # a 0-d Tensor's dims are checked as a 1-D one's ([-1, 0]), as in PyTorch
        _check_dim(start_dim, 1, "flatten", "start_dim")
        _check_dim(end_dim, 1, "flatten", "end_dim")
        return reshape(x, 1)
    s = _check_dim(start_dim, nd, "flatten", "start_dim")
    e = _check_dim(end_dim, nd, "flatten", "end_dim")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:  # nothing to merge: x itself, as PyTorch returns (a 1-D leaf stays a leaf)
        return x
    shape = x._data.shape
    merged = 1
    for n in shape[s:e + 1]:  # the product itself: -1 cannot be inferred beside a 0 dim
        merged *= n
    return reshape(x, shape[:s] + (merged,) + shape[e + 1:])


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """``x`` with a new dimension of size 1 at ``dim``."""
    d = _check_dim(dim, x._data.ndim + 1, "unsqueeze")
    return named(reshape(x, x._data.shape[:d] + (1,) + x._data.shape[d:]),
                 "UnsqueezeBackward0")


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """``x`` without its dimensions of size 1 (only ``dim`` when given)."""
    shape = x._data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:  # a 0-d Tensor has dims 0 and -1 too: squeeze(1) is out of range, as in torch
        drop = check_dims(dim, len(shape), "squeeze")
        new = tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1))
    return named(reshape(x, new), "SqueezeBackward0" if dim is None else "SqueezeBackward1")


def _permute_vjp(node, g):
    return (np.transpose(g, np.argsort(node.saved[0])),)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """``x`` with its dimensions reordered (a view)."""
    order = _shape_arg(dims, "permute", "dims")
    nd = x._data.ndim
    if len(order) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(order)}")
    axes = tuple(_check_dim(d, nd, "permute") for d in order)
    if len(set(axes)) != nd:
        raise RuntimeError("permute(): repeated dim")
    return named(_view_result(x, np.transpose(x._data, axes), _permute_vjp, (axes,)),
                 "PermuteBackward0")


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """``x`` with ``dim0`` and ``dim1`` swapped (a view)."""
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, ())
    a, b = _check_dim(dim0, nd, "transpose", "dim0"), _check_dim(dim1, nd, "transpose", "dim1")
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return named(_view_result(x, np.transpose(x._data, axes), _permute_vjp, (tuple(axes),)),
                 "TransposeBackward0")


def t(x: Tensor) -> Tensor:
    """The transpose of a Tensor of at most 2 dimensions."""
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x._data.ndim}D")
    if x._data.ndim == 2:
        return named(transpose(x, 0, 1), "TBackward0")
    return named(_view_result(x, x._data.view(), _permute_vjp, (tuple(range(x._data.ndim)),)),
                 "TBackward0")  # a new view, as torch (not x itself: a leaf, given .grad)


def T(x: Tensor) -> Tensor:
    """All dimensions reversed."""
    return permute(x, tuple(reversed(range(x._data.ndim))))


def _expand_vjp(node, g):
    return (unbroadcast(g, node.saved[0]),)


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """``x`` broadcast to ``sizes`` (-1 keeps a dimension), without copying."""
    shape = _shape_arg(sizes, "expand", "size")
    lead = len(shape) - x._data.ndim
    if lead < 0:
        raise RuntimeError(f"expand(): the number of sizes provided ({len(shape)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({x._data.ndim})")
    full = tuple(x._data.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    try:
        value = np.broadcast_to(x._data, full)
    except ValueError:
        raise ShapeError(f"The expanded size of the tensor must match the existing size at "
                         f"non-singleton dimensions: {tuple(x.shape)} -> {full}") from None
    return _view_result(x, value, _expand_vjp, (x._data.shape,))


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """``x`` tiled ``sizes`` times along each dimension (a copy)."""
    reps = _shape_arg(sizes, "repeat", "repeats")
    value = np.tile(x._data, reps)
    if _state.enabled and x._rg:
        return _result(value, _repeat_vjp, (x,), (x._data.shape, reps))
    return _result(value, None, ())


def _repeat_vjp(node, g):
    shape, reps = node.saved
    full = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = []
    for r, n in zip(reps, full):
        split += [r, n]
    g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
    return (g.reshape(shape),)


# -- indexing ------------------------------------------------------------------


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _warn_user(message: str) -> None:
    """A ``UserWarning`` attributed to the first caller outside fastnn (the user's line)."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2: the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, UserWarning, stacklevel=level)


def _byte_mask(d: np.ndarray) -> np.ndarray:
    """A uint8 index as PyTorch reads it: a mask (deprecated there, with a warning), not
    integer positions (``from_numpy`` of a uint8 array gives such an index)."""
    _warn_user("indexing with dtype uint8 is deprecated (as in PyTorch): it is read as a "
               "bool mask; use a bool index instead")
    return d != 0


def _index_part(k: Any) -> Any:
    if isinstance(k, Tensor):
        d = k._data
        if d.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if d.ndim == 0 and d.dtype.kind in "iu" and d.dtype != np.uint8:
            return int(d)  # PyTorch reads a 0-d index as an int
        return _byte_mask(d) if d.dtype == np.uint8 else d
    if isinstance(k, np.ndarray) and k.dtype == np.uint8:
        return _byte_mask(k)
    if isinstance(k, list):
        a = np.asarray(k)
        return a.astype(np.int64) if a.size == 0 else a  # x[[]]: no rows, as PyTorch
    return k


def _sequence_as_tuple(key: Any) -> bool:
    """PyTorch's rule for a list index (``treatSequenceAsTuple``): with fewer than 32 items
    of which one is a sequence, a Tensor, a slice, ``...`` or ``None``, ``x[[a, b]]`` is
    ``x[a, b]`` (NumPy's old rule): ``x[[[0, 1], [1, 0]]]`` picks two elements of a matrix,
    not two 2-row blocks."""
    return isinstance(key, list) and len(key) < 32 and any(
        k is None or k is Ellipsis or isinstance(k, (list, tuple, slice, np.ndarray, Tensor))
        for k in key)


def _is_int(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


@dataclass(frozen=True)
class _SelectThenIndex:  # not a tuple: NumPy must never take it for an index
    """An index mixing ints with integer or bool arrays, applied as PyTorch applies it:
    the ints (and slices, ``None``, ``...``) first, as a view (``basic``), then the arrays
    on that view (``advanced``). NumPy counts the ints among the advanced indices
    instead, so ``x[0, :, [1, 2]]`` of an (a, b, c) array is (2, b) there, (b, 2) in
    PyTorch, and transposed values when the sizes are equal."""

    basic: tuple[Any, ...]
    advanced: tuple[Any, ...]

    @classmethod
    def of(cls, parts: tuple[Any, ...]) -> _SelectThenIndex:
        basic: list[Any] = []
        advanced: list[Any] = []
        for p in parts:
            if isinstance(p, np.ndarray):
                width = p.ndim if p.dtype == np.bool_ else 1  # dims a mask consumes
                basic += [slice(None)] * width
                advanced.append(p)
            elif _is_int(p):
                basic.append(p)
            else:  # a slice (already applied), None (its new dim) or ...
                basic.append(p)
                advanced.append(Ellipsis if p is Ellipsis else slice(None))
        return cls(tuple(basic), tuple(advanced))

    def get(self, a: np.ndarray) -> np.ndarray:
        return a[self.basic][self.advanced]

    def set(self, a: np.ndarray, value: Any) -> None:
        a[self.basic][self.advanced] = value

    def add_at(self, a: np.ndarray, g: np.ndarray) -> None:
        np.add.at(a[self.basic], self.advanced, g)

    def copy(self) -> _SelectThenIndex:
        return _SelectThenIndex(self.basic, _saved_key(self.advanced))


def _get(a: np.ndarray, key: Any) -> np.ndarray:
    return key.get(a) if isinstance(key, _SelectThenIndex) else a[key]


def _set(a: np.ndarray, key: Any, value: Any) -> None:
    if isinstance(key, _SelectThenIndex):
        key.set(a, value)
    else:
        a[key] = value


def _saved_key(k: Any) -> Any:
    """The index ``k`` as a node saves it: its arrays copied, so that backward uses the
    index the forward used even when the caller's index Tensor or array (or a ``where``
    condition) is changed in place afterwards."""
    if isinstance(k, _SelectThenIndex):
        return k.copy()
    if isinstance(k, tuple):
        return tuple(p.copy() if isinstance(p, np.ndarray) else p for p in k)
    return k.copy() if isinstance(k, np.ndarray) else k


def _key(key: Any) -> tuple[Any, bool]:
    """The NumPy index for ``key`` (a :class:`_SelectThenIndex` where ints meet arrays)
    and whether it is basic (a view, no repeats)."""
    if _sequence_as_tuple(key):
        _warn_user("Using a non-tuple sequence for multidimensional indexing is deprecated "
                   "(as in PyTorch, which reads it as a tuple, as fastnn does): use "
                   "x[tuple(seq)] instead of x[seq]")
        key = tuple(key)
    if isinstance(key, tuple):
        parts = tuple(_index_part(k) for k in key)
    else:
        parts = (_index_part(key),)
    basic = all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice))
                for k in parts)
    if not basic and any(_is_int(k) for k in parts):
        return _SelectThenIndex.of(parts), False
    return (parts if isinstance(key, tuple) else parts[0]), basic


def _getitem_vjp(node, g):
    shape, key, basic = node.saved
    out = np.zeros(shape, g.dtype)
    if basic:
        out[key] = g
    elif isinstance(key, _SelectThenIndex):
        key.add_at(out, g)
    else:
        np.add.at(out, key, g)
    return (out,)


def _getitem_name(key: Any, basic: bool) -> str:
    """PyTorch's node for ``x[key]``: Index for advanced indexing, else the last of the
    selects (ints), slices and unsqueezes (``None``) it applies left to right, a full slice
    counting only when nothing else is applied."""
    if not basic:
        return "IndexBackward0"
    name = "SliceBackward0"
    for part in key if isinstance(key, tuple) else (key,):
        if part is None:
            name = "UnsqueezeBackward0"
        elif isinstance(part, slice):
            if part != slice(None):
                name = "SliceBackward0"
        elif part is not Ellipsis:
            name = "SelectBackward0"
    return name


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]``: ints, slices, ``None``, ``...``, bool masks and integer arrays."""
    k, basic = _key(key)
    value = _get(x._data, k)
    if type(value) is not np.ndarray:  # all ints: a 0-d view, as in PyTorch (not a copy)
        value = x._data[(k if isinstance(k, tuple) else (k,)) + (Ellipsis,)] if basic else \
            np.asarray(value)
    elif not basic and not value.flags.c_contiguous:  # a copy: contiguous, as in PyTorch
        value = np.ascontiguousarray(value)
    if _state.enabled and x._rg:
        out = named(_result(value, _getitem_vjp, (x,), (x._data.shape, _saved_key(k), basic)),
                    _getitem_name(k, basic))
    else:
        out = _result(value, None, ())
    if basic:
        out._vc = _share_vc(x)
    return out


def _index_put_vjp(node, g):
    old, value = node.inputs
    key, vshape = node.saved
    g = np.asarray(g)  # a 0-d x's gradient may come as a NumPy scalar
    g_old = g_value = None
    if old is not None:
        g_old = g.copy()
        _set(g_old, key, 0)
    if value is not None:
        stripped = _strip_leading_ones(vshape)
        g_value = unbroadcast(np.asarray(_get(g, key)), stripped).reshape(vshape)
    return g_old, g_value


def _strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` without its leading 1s: PyTorch drops them from an assigned value before
    broadcasting it (``y[0, 0] = t`` with ``t`` of shape (1,), ``y[0] = v`` of (1, 5))."""
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return tuple(shape[i:])


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value`` in place; recorded when ``x`` or ``value`` is on the graph."""
    k, _ = _key(key)
    vd, vt = operand(value)
    # an integer or bool x takes the values cast, off the graph (torch: no gradient flows
    # through the truncation, and x does not come to require grad)
    if _state.enabled and (x._rg or (vt is not None and vt._rg
                                      and x._data.dtype.kind == "f")):
        x._check_inplace()
        _check_views_of_leaf(x)
        _refresh_view(x)
        old = _snapshot(x)
        if vt is x:  # x[k] = x reads the old x: the node must not take x (its output) as input
            vt = old
        new = x._data.copy()
        _assign(new, k, vd)
        node_out = _result(new, _index_put_vjp,
                           (old if old._rg else None, vt if vt is not None and vt._rg else None),
                           (_saved_key(k), np.shape(vd)))
        _take_over(x, node_out)
    else:
        _check_writeable(x)
        _assign(x._data, k, vd)
        x._bump()


def _check_writeable(x: Tensor) -> None:
    """An in-place change (``+=``, ``x[i] = v``) of a Tensor on read-only memory raises one
    error, naming the cause (NumPy's was "assignment destination is read-only")."""
    d = x._data
    if not d.flags.writeable:
        if any(st == 0 and n > 1 for st, n in zip(d.strides, d.shape)):  # expand's views
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        raise RuntimeError("in-place operation on a Tensor whose memory is read-only (e.g. "
                           "fn.from_numpy of a read-only array): clone() it first")


def _assign(target: np.ndarray, key: Any, value: Any) -> None:
    """``target[key] = value``, the value's leading 1s dropped first (PyTorch's rule); a value
    that does not broadcast to the indexed shape raises ShapeError (PyTorch's RuntimeError,
    the NumPy path's ValueError) naming both shapes."""
    shape = np.shape(value)
    if shape and shape[0] == 1:
        value = np.reshape(value, _strip_leading_ones(shape))
    try:
        _set(target, key, value)
    except ValueError as e:
        if not any(m in str(e) for m in ("broadcast", "shape mismatch", "cannot assign")):
            raise
        indexed = np.empty_like(_get(target, key)) if np.ndim(target) else target
        raise ShapeError(f"shape mismatch: value tensor of shape {list(shape)} "
                         f"cannot be broadcast to indexing result of shape "
                         f"{list(np.shape(indexed))}") from None


def _snapshot(x: Tensor) -> Tensor:
    """A Tensor holding ``x``'s current values and history, before an in-place change."""
    old = _wrap(x._data.copy())
    old._rg = x._rg
    old.grad_fn = x.grad_fn
    return old


def _take_over(x: Tensor, result: Tensor) -> None:
    """Writes ``result`` into ``x``'s storage and makes ``x`` the output of its node.

    When ``x`` is a view, the Tensor it views changed too: that base becomes the output
    of a node that puts the new ``x`` back into the old base (PyTorch's ``CopySlices``),
    so a later use of the base sees the change in its history as well as its values.
    """
    _check_writeable(x)
    np.copyto(x._data, result._data, casting="same_kind")
    node = result.grad_fn
    before = x.grad_fn
    if node is not None:  # consumers recorded before this op still read the old x
        node.prev = before
    x.grad_fn = node
    x._rg = result._rg
    x._bump()
    base = _view_base(x, before)
    if base is not None and node is not None:
        _rebase(base, x, before)
        # x stays a view: of the base's new value now (older readers reach node via prev)
        fresh = _view_again(base, before, x._data.shape).grad_fn
        if fresh is not None:
            fresh.prev = node
            x.grad_fn = fresh


def _view_base(x: Tensor, fn: Any) -> Tensor | None:
    """The Tensor that ``x`` is a view of, when its node ``fn`` is a view op recorded on the
    graph (``None`` otherwise)."""
    if fn is None or fn.inputs is None or op_vjp(fn) not in _VIEW_VJPS:
        return None
    if op_vjp(fn) is _getitem_vjp and not fn.saved[2]:
        return None  # advanced indexing copies
    base = fn.inputs[0]
    if base is None or not np.may_share_memory(base._data, x._data):
        return None
    return base


def _rebase(base: Tensor, view: Tensor, fn: Any) -> None:
    """Makes ``base`` the output of "``base`` with ``view`` (from node ``fn``) put back"."""
    vjp = op_vjp(fn)  # the base's new node is an index_put, never a view op (no view cycles)
    if vjp is _getitem_vjp:
        setitem(base, fn.saved[1], view)
    elif vjp is _reshape_vjp:
        setitem(base, Ellipsis, reshape(view, base._data.shape))
    else:  # permute / transpose: the inverse permutation
        setitem(base, Ellipsis, permute(view, tuple(np.argsort(fn.saved[0]))))


def _refresh_view(x: Tensor) -> None:
    """Before an in-place change of a view whose base changed in place since the view was
    taken: makes ``x`` a view of the base's current value (older readers of ``x`` keep
    the old history through ``prev``), as PyTorch rebases views."""
    fn = x.grad_fn
    base = _view_base(x, fn)
    if base is None:
        return
    _refresh_view(base)
    bf = base.grad_fn
    if bf is None or bf.seq < fn.seq:
        return
    node = _view_again(base, fn, x._data.shape).grad_fn
    if node is not None:
        node.prev = fn
    x.grad_fn = node


def _view_again(base: Tensor, fn: Any, shape: tuple[int, ...]) -> Tensor:
    """The view that node ``fn`` took, taken again of ``base``'s current value."""
    if op_vjp(fn) is _getitem_vjp:
        return getitem(base, fn.saved[1])
    if op_vjp(fn) is _reshape_vjp:
        return reshape(base, shape)
    return permute(base, fn.saved[0])


def _check_views_of_leaf(x: Tensor) -> None:
    """An in-place change of a view of a leaf that requires grad is an error, as in PyTorch."""
    fn = x.grad_fn
    for _ in range(100_000):  # a chain of views ends (bounded against a cycle all the same)
        base = _view_base(x, fn)
        if base is None:
            return
        if base.grad_fn is None and base._rg:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        x, fn = base, base.grad_fn


def inplace(x: Tensor, op: Any, ufunc: Any, other: Any) -> Tensor:
    """``x op= other`` (``+= -= *= /=``) in place, recorded when on the graph."""
    od, ot = operand(other)
    if _state.enabled and (x._rg or (ot is not None and ot._rg)):
        x._check_inplace()
        _check_views_of_leaf(x)
        _refresh_view(x)
        old = _snapshot(x)
        # x op= x reads the old x twice: the node must not take x (its own output) as input
        result = op(old, old if other is x else other)
        if result.grad_fn is None:  # e.g. //=: no derivative, so no history to keep
            raise RuntimeError(f"the derivative of {op.__name__} is not implemented: an "
                               "in-place operation on a Tensor that requires grad would "
                               "drop its history")
        if result._data.shape != x._data.shape:
            raise ShapeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                             f"shape {list(result.shape)}")
        _take_over(x, result)
        return x
    _check_writeable(x)
    if x._data.dtype.kind == "f" and isinstance(od, np.ndarray) and od.dtype.kind in "iu":
        od = od.astype(x._data.dtype)  # as x + other computes (ops_math._as_float); a bool
        # stays one, so that sub_ still refuses it
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            ufunc(x._data, od, out=x._data, casting="same_kind")
    except ValueError:
        raise ShapeError(f"in-place operation: the shape of the other operand "
                         f"{tuple(np.shape(od))} does not broadcast to this Tensor's shape "
                         f"{tuple(x.shape)}") from None
    except TypeError as e:  # e.g. float into an int64 Tensor
        raise RuntimeError(f"result type can't be cast to the desired output type "
                           f"{x.dtype}: {e}") from None
    x._bump()
    return x


def inplace_unary(x: Tensor, op: Any, *args: Any, **kwargs: Any) -> Tensor:
    """``x.clamp_(...)`` and kin: ``op(x, ...)`` written into ``x``, recorded when on the
    graph as :func:`inplace` records ``x += y``: ``op`` runs on a snapshot of ``x``'s values
    and history (what it saves for backward stays as it was), then ``x`` takes the result
    over."""
    if _state.enabled and x._rg:
        _check_views_of_leaf(x)
        _refresh_view(x)
        result = op(_snapshot(x), *args, **kwargs)
        if result._data.shape != x._data.shape:
            raise ShapeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                             f"shape {list(result.shape)}")
        _take_over(x, result)
        return x
    result = op(x, *args, **kwargs)
    rd = result._data.dtype if isinstance(result, Tensor) else np.asarray(result).dtype
    if not np.can_cast(rd, x._data.dtype, "same_kind"):  # log_ of an int Tensor: as torch
        raise RuntimeError(f"result type {_torch_name(rd)} can't be cast to the desired "
                           f"output type {_torch_name(x._data.dtype)}")
    return copy_into(x, result)


def _torch_name(dtype: np.dtype) -> str:
    """PyTorch's name of a dtype in its messages: ``Float``, ``Long``, ``Bool``."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(np.dtype(dtype).name, str(dtype))


def copy_into(x: Tensor, src: Any) -> Tensor:
    """``x.copy_(src)``: ``src`` broadcast into ``x``'s storage."""
    sd, st = operand(src)
    if _state.enabled and (x._rg or (st is not None and st._rg)):
        setitem(x, Ellipsis, src)
        return x
    _check_writeable(x)
    np.copyto(x._data, np.broadcast_to(sd, x._data.shape), casting="unsafe")
    x._bump()
    return x


# -- joining and selecting -------------------------------------------------------


def _joined_dtype(arrays: list[np.ndarray]) -> np.dtype:
    """PyTorch's result dtype for ``cat`` / ``stack``: the widest floating dtype when there
    is one (float32 with int64 gives float32, not NumPy's float64), else NumPy's integer or
    bool promotion."""
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    if floats:
        return max(floats, key=lambda d: d.itemsize)
    return np.result_type(*arrays)


def _cat_vjp(node, g):
    axis, sizes = node.saved  # size None: an empty 1-D input, left out of the result
    bounds = np.cumsum([n for n in sizes if n is not None])[:-1]
    parts = iter(np.split(g, bounds, axis=axis))
    return tuple(None if t is None else
                 np.zeros(0, t._data.dtype) if n is None else
                 next(parts).astype(t._data.dtype, copy=False)
                 for t, n in zip(node.inputs, sizes))


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Joins Tensors along an existing dimension."""
    ts = [t if isinstance(t, Tensor) else _wrap(np.asarray(operand(t)[0])) for t in tensors]
    if not ts:
        raise InputError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t._data.ndim == 0:  # NumPy's ValueError; PyTorch's RuntimeError
            raise InputError(f"zero-dimensional tensor (at position {i}) cannot be "
                             "concatenated")
    ts_nonempty = [t for t in ts if not (t._data.ndim == 1 and t._data.size == 0)] or ts
    nd = ts_nonempty[0]._data.ndim
    axis = _check_dim(dim, nd, "cat")
    for i, t in enumerate(ts_nonempty):
        if t._data.ndim != nd or any(a != b for j, (a, b) in enumerate(
                zip(t._data.shape, ts_nonempty[0]._data.shape)) if j != axis):
            raise ShapeError(f"cat(): Sizes of tensors must match except in dimension {axis}. "
                             f"Expected {tuple(ts_nonempty[0].shape)} but got "
                             f"{tuple(t.shape)} for tensor number {i} in the list.")
    arrays = [t._data for t in ts_nonempty]  # an empty 1-D Tensor still promotes (torch)
    value = np.concatenate(arrays, axis=axis, dtype=_joined_dtype([t._data for t in ts]))
    if _state.enabled and any(t._rg for t in ts):
        left_out = len(ts_nonempty) < len(ts)  # an empty 1-D leaf still gets its grad, []
        return _result(value, _cat_vjp, tuple(t if t._rg else None for t in ts),
                       (axis, [None if left_out and t._data.ndim == 1 and not t._data.size
                               else t._data.shape[axis] for t in ts]))
    return _result(value, None, ())


def _stack_vjp(node, g):
    axis = node.saved[0]
    return tuple(None if t is None else np.take(g, i, axis=axis).astype(t._data.dtype, copy=False)
                 for i, t in enumerate(node.inputs))


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Joins Tensors of one shape along a new dimension."""
    ts = [t if isinstance(t, Tensor) else _wrap(np.asarray(operand(t)[0])) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if t._data.shape != ts[0]._data.shape:
            raise ShapeError(f"stack expects each tensor to be equal size, but got "
                             f"{tuple(ts[0].shape)} at entry 0 and {tuple(t.shape)} at entry "
                             f"{i}")
    axis = _check_dim(dim, ts[0]._data.ndim + 1, "stack")
    arrays = [t._data for t in ts]
    value = np.stack(arrays, axis=axis, dtype=_joined_dtype(arrays))
    if _state.enabled and any(t._rg for t in ts):
        return _result(value, _stack_vjp, tuple(t if t._rg else None for t in ts), (axis,))
    return _result(value, None, ())


def _where_vjp(node, g):
    a, b = node.inputs
    cond, sa, sb = node.saved
    ga = None if a is None else unbroadcast(np.where(cond, g, 0).astype(g.dtype), sa)
    gb = None if b is None else unbroadcast(np.where(cond, 0, g).astype(g.dtype), sb)
    return ga, gb


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (broadcast); one argument: nonzero."""
    cd = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(_result(i.astype(np.int64), None, ()) for i in np.nonzero(cd))
    cd = cd.astype(bool, copy=False)
    from .ops_math import _fix, pair
    ad, at, bd, bt = pair(input, other)
    try:
        value = _fix(np.asarray(np.where(cd, ad, bd)), at, bt)
    except ValueError:
        shapes = (np.shape(cd), np.shape(ad), np.shape(bd))
        bad = next((p for p in ((0, 1), (0, 2), (1, 2)) if not _broadcasts(
            shapes[p[0]], shapes[p[1]])), (1, 2))
        raise broadcast_error(shapes[bad[0]], shapes[bad[1]]) from None
    if _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg)):
        return _result(value, _where_vjp, (at if at is not None and at._rg else None,
                                           bt if bt is not None and bt._rg else None),
                       (_saved_key(cd), np.shape(ad), np.shape(bd)))
    return _result(value, None, ())


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(m == n or m == 1 or n == 1 for m, n in zip(a[::-1], b[::-1]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Splits ``x`` into ``chunks`` nearly equal parts along ``dim`` (pieces of
    ``ceil(n / chunks)``, so possibly fewer than ``chunks``; an empty ``dim`` gives
    ``chunks`` empty pieces, as PyTorch)."""
    chunks = as_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x._data.shape[_check_dim(dim, x._data.ndim, "chunk")]
    if n == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Splits ``x`` along ``dim`` into pieces of the given size (the last one smaller
    where it does not divide; an empty ``dim`` gives one empty piece) or sizes (which
    must sum to the length of ``dim``), as PyTorch."""
    axis = _check_dim(dim, x._data.ndim, "split")
    n = x._data.shape[axis]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [as_int(s, "split", "split_size_or_sections") for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={sizes}")
    else:
        size = as_int(split_size_or_sections, "split", "split_size_or_sections")
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    out, start = [], 0
    for s in sizes:
        key = (slice(None),) * axis + (slice(start, start + s),)
        out.append(getitem(x, key))
        start += s
    return tuple(out)


_VIEW_VJPS = frozenset((_reshape_vjp, _permute_vjp, _getitem_vjp))
VIEW_VJPS.update(_VIEW_VJPS)
RERUN_VJPS.update({_reshape_vjp: None, _permute_vjp: None, _expand_vjp: None,
                   _getitem_vjp: lambda saved: saved[2],  # basic indexing saves no array
                   _cat_vjp: None, _stack_vjp: None})  # axes and sizes only


def _flip_vjp(node, g):
    return (np.flip(g, node.saved[0]),)


def flip(x: Tensor, dims: Any) -> Tensor:
    """``x`` reversed along each of ``dims`` (a copy, as in PyTorch)."""
    d = x._data
    axes = check_dims(dims, d.ndim, "flip")
    if d.ndim == 0:  # its dim 0 (or -1) is itself: nothing to reverse
        axes = ()
    value = np.flip(d, axes).copy() if axes else d.copy()
    if _state.enabled and x._rg:
        return _result(value, _flip_vjp, (x,), (axes,))
    return _result(value, None, ())


def _index_array(index: Any, func: str) -> np.ndarray:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{func}(): argument 'index' must be an integer Tensor, got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _gather_vjp(node, g):
    shape, axis, idx = node.saved
    out = np.zeros(shape, g.dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    np.add.at(out, tuple(grid), g)
    return (out,)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """``out[..., i, ...] = x[..., index[..., i, ...], ...]`` along ``dim`` (PyTorch's
    gather): ``index`` has ``x``'s number of dimensions and no larger size than ``x`` in
    the others; the gradient scatter-adds back."""
    d = x._data
    axis = _check_dim(dim, max(d.ndim, 1), "gather")
    idx = _index_array(index, "gather")
    if idx.ndim != max(d.ndim, 1) or any(
            i != axis and n > m for i, (n, m) in enumerate(zip(idx.shape, d.shape))):
        raise ShapeError(f"gather(): index of shape {tuple(idx.shape)} does not fit input of "
                         f"shape {tuple(d.shape)} along dim {dim}: it needs the same number of "
                         "dimensions and no larger size in the others")
    n = d.shape[axis] if d.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"gather(): index {bad} is out of bounds for dimension {axis} with "
                         f"size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    src = d[tuple(slice(0, m) if i != axis else slice(None) for i, m in enumerate(idx.shape))]
    value = np.take_along_axis(src, idx, axis=axis)
    if _state.enabled and x._rg:
        return _result(value, _gather_vjp, (x,), (d.shape, axis, idx))
    return _result(value, None, ())


def _index_select_vjp(node, g):
    shape, axis, idx = node.saved
    out = np.zeros(shape, g.dtype)
    np.add.at(np.moveaxis(out, axis, 0), idx, np.moveaxis(g, axis, 0))
    return (out,)


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of ``x`` at the 1-D ``index`` along ``dim`` (repeats allowed)."""
    d = x._data
    axis = _check_dim(dim, d.ndim, "index_select")
    idx = _index_array(index, "index_select").reshape(-1)
    n = d.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_select(): index out of range for dimension {axis} with size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    value = np.take(d, idx, axis=axis)
    if _state.enabled and x._rg:
        return _result(value, _index_select_vjp, (x,), (d.shape, axis, idx))
    return _result(value, None, ())

