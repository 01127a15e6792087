"""``StateArray``: the arrays of ``Module.state_dict()``, NumPy arrays that also answer the
Tensor methods PyTorch code calls on state-dict values.

A PyTorch script keeps its best weights with ``{k: v.clone() for k, v in
model.state_dict().items()}`` and saves with ``v.cpu()`` / ``v.detach()``; fastnn's
state dicts hold ``numpy.ndarray`` (API.md), so the values are an ndarray subclass with
those methods, and the Tensor methods whose names NumPy does not use (``dim()``,
``abs()``, ``norm()``, ``contiguous()``) or uses with other arguments than PyTorch's
(``view(-1)``, ``sum(dim=0)``, ``mean(dim=1, keepdim=True)``). Where the two give one
call two meanings, NumPy's holds, as for the ndarray a state dict holds: ``v.std()``
divides by n, ``v.max(0)`` is an array (a parameter's ``.data`` is a Tensor too and
follows PyTorch there). Unlike PyTorch's, the values are copies (not views of the
parameters): training after ``state_dict()`` does not change them. PyTorch's in-place
methods ``copy_``, ``fill_`` and ``zero_`` on a value as ``state_dict()`` returned it,
or on a view of it (``v[0]``, ``v.view(-1)``, ``v.T``, ``v.detach()``), write through to
the parameter or buffer too, as PyTorch's do (``model.state_dict()[k].copy_(w)`` loads
``w``); NumPy's own in-place operations (``v[...] = w``, ``v += 1``) and clones change the
copy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor, _Size


class StateArray(np.ndarray):
    """An ndarray with ``clone``, ``detach``, ``cpu``, ``numpy``, ``numel``, ``float``,
    ``to``, ``copy_``, ``fill_``, ``zero_``, ``requires_grad`` and ``size()`` as on a
    ``torch.Tensor`` (``size`` used as a number is still NumPy's element count)."""

    def __repr__(self) -> str:  # printed as the plain array it was before
        return repr(self.view(np.ndarray))

    def __array_wrap__(self, arr: np.ndarray, context: Any = None,
                       return_scalar: bool = False) -> Any:
        """A 0-d result (``np.sum(v)``, ``v.max()``) is a NumPy scalar, as for a plain
        ndarray (a 0-d StateArray was unhashable and not an ``np.floating``)."""
        if return_scalar or arr.ndim == 0:
            return arr[()]
        return super().__array_wrap__(arr, context, return_scalar)

    @property
    def size(self) -> _Size:  # type: ignore[override]
        """``v.size()`` is the shape and ``v.size(d)`` its length along ``d``, as in PyTorch
        (its save/load tutorial prints ``state_dict()[k].size()``); ``v.size`` used as a
        number is the element count, as NumPy's attribute."""
        return _Size(np.ndarray.size.__get__(self), self.shape)

    @property
    def requires_grad(self) -> bool:
        """False: a state-dict value is on no graph (as PyTorch's are)."""
        return False

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.ndim

    def abs(self) -> StateArray:
        """Element-wise absolute values."""
        return np.abs(self)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
        """The ``p``-norm of the elements (``"fro"`` or 2: Euclidean), of all of them or
        along ``dim``, as ``torch.Tensor.norm``."""
        a = self.view(np.ndarray)
        order = 2 if p == "fro" else p
        if dim is None:
            return np.linalg.norm(np.ravel(a), ord=order)
        axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
        if isinstance(axis, tuple) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, tuple):  # several dims: the vector norm of what they hold
            return np.sum(np.abs(a) ** order, axis=axis, keepdims=keepdim) ** (1 / order)
        return np.linalg.norm(a, ord=order, axis=axis, keepdims=keepdim)

    def contiguous(self) -> StateArray:
        """A C-contiguous array (itself when it already is)."""
        return self if self.flags.c_contiguous else np.ascontiguousarray(self).view(StateArray)

    def view(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """``v.view(-1)`` / ``v.view(2, 3)`` reshape, as PyTorch's (NumPy's ``view`` takes a
        dtype or a type, never a size); ``v.view(np.uint32)`` is NumPy's."""
        packed = len(args) == 1 and isinstance(args[0], (tuple, list))
        sizes = args[0] if packed else args
        if (packed or sizes) and not kwargs and all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
            return self.reshape(tuple(int(n) for n in sizes))
        return np.ndarray.view(self, *args, **kwargs)

    def sum(self, *args: Any, dim: Any = None, keepdim: bool = False,  # type: ignore[override]
            **kwargs: Any) -> Any:
        """NumPy's ``sum``; PyTorch's keywords ``dim`` and ``keepdim`` are taken too."""
        return np.ndarray.sum(self, *args, **_numpy_keywords(dim, keepdim, kwargs))

    def mean(self, *args: Any, dim: Any = None, keepdim: bool = False,  # type: ignore[override]
             **kwargs: Any) -> Any:
        """NumPy's ``mean``; PyTorch's keywords ``dim`` and ``keepdim`` are taken too."""
        return np.ndarray.mean(self, *args, **_numpy_keywords(dim, keepdim, kwargs))

    def clone(self, *args: Any, **kwargs: Any) -> StateArray:
        """A copy."""
        return self.copy()

    def detach(self) -> StateArray:
        """The array itself (it is on no graph)."""
        return self

    def cpu(self, *args: Any, **kwargs: Any) -> StateArray:
        """The array itself (fastnn runs on the CPU)."""
        return self

    def numpy(self) -> np.ndarray:
        """The values as a plain ndarray (no copy)."""
        return self.view(np.ndarray)

    def numel(self) -> int:
        """The number of elements."""
        return int(self.size)

    def float(self) -> StateArray:
        """float32 values (the array itself when already float32)."""
        return self if self.dtype == np.float32 else self.astype(np.float32)

    def to(self, *args: Any, **kwargs: Any) -> StateArray:
        """The array itself for a device (``"cpu"``), a float32 copy for ``fn.float32``."""
        for target in (*args, *kwargs.values()):
            if isinstance(target, str) or type(target).__name__ == "device":
                if str(target) != "cpu":
                    raise RuntimeError(f"to(): fastnn runs on the CPU only, got {target!r}")
            elif isinstance(target, bool):  # non_blocking=, copy=
                continue
            elif target is not None:
                return self.astype(np.dtype(target))
        return self

    def fill_(self, value: Any) -> StateArray:
        """Fills the array (and the state it was read from: module docstring) with
        ``value`` in place."""
        self.fill(value)
        return self._write_through()

    def zero_(self) -> StateArray:
        """Fills the array (and the state it was read from) with zeros in place."""
        return self.fill_(0)

    def copy_(self, src: Any) -> StateArray:
        """Copies ``src`` into this array (and the state it was read from) in place,
        broadcast as NumPy does."""
        np.copyto(self, np.asarray(src), casting="same_kind")
        return self._write_through()

    def _write_through(self) -> StateArray:
        """Writes the values of the state-dict value this array is (or views) into the
        parameter or buffer ``state_dict()`` read them from (``_source``, set there on an
        array that owns its memory, so its views lead back to it through ``base``), as an
        in-place change: a graph that saved the old values refuses to backward, as
        PyTorch's."""
        root = self
        while root is not None and "_source" not in getattr(root, "__dict__", {}):
            root = root.base
        if root is not None:
            source = root.__dict__["_source"]
            if isinstance(source, Tensor):
                source._data[...] = root
                source._bump()
            else:
                source[...] = root
        return self


def _numpy_keywords(dim: Any, keepdim: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A reduction's keywords with PyTorch's ``dim`` / ``keepdim`` as NumPy's ``axis`` /
    ``keepdims``."""
    if dim is not None:
        kwargs["axis"] = tuple(dim) if isinstance(dim, list) else dim
    if dim is not None or keepdim:
        kwargs["keepdims"] = keepdim
    return kwargs
