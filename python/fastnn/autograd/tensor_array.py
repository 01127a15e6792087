"""``TensorArray``: a Parameter's ``.data`` / ``.grad``, a Tensor that is also an ndarray.

API.md asks two things of ``p.data`` and ``p.grad`` for a parameter ``p``: its Modules
section calls them "float32 C-contiguous ndarrays that can be read and written in
place", its Tensor section makes them PyTorch Tensors (``p.data.zero_()``,
``p.grad.view(-1)``, ``p.grad.norm()``, ``torch.cat([p.grad.view(-1) ...])``). A
``TensorArray`` is both:

- an ``np.ndarray`` subclass viewing the parameter's own memory, so
  ``isinstance(p.grad, np.ndarray)``, ``np.copyto(p.data, w)``, ``p.grad[...] = 0``,
  ``p.data -= lr * p.grad`` and every NumPy function take it as the array it is;
- a Tensor outside the graph (``requires_grad=False``, no ``grad_fn``): it carries
  ``Tensor``'s methods, operators and properties, and reports ``Tensor`` as its
  ``__class__``, so ``isinstance(p.data, fastnn.Tensor)`` holds and every fastnn op
  takes it as a leaf Tensor. Where the two APIs give one method name two meanings
  (``size()``, ``view(-1)``, ``max(dim)``, ``repeat``, ``sort``, ``T``, ``shape``,
  ``data``), PyTorch's wins, as API.md says for Tensors; ``Tensor`` already accepts
  NumPy's argument names (``sum(axis=0)``, ``keepdims``) and ``x.size`` as a number is
  the element count.

NumPy itself sees an ndarray: NumPy functions and ufuncs (``np.unique``, ``np.save``,
``np.max(a, axis=0)``, ``np.exp``, ``out=``) run on the plain array and give plain
arrays, and indexing is NumPy's (``p.data[i, j]`` is a scalar copy, as the textbook
finite-difference check expects; a slice is a view, as in both). Operators and Tensor
methods give plain Tensors, in-place ones the TensorArray itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

# Tensor entries a TensorArray does not take: instance layout and construction, and
# NumPy's protocol, indexing and copying, where the ndarray's own behaviour is kept.
_KEEP_NDARRAY = frozenset({
    "__dict__", "__slots__", "__weakref__", "__module__", "__doc__", "__init__", "__new__",
    "__array__", "__array_ufunc__", "__array_function__", "__array_priority__",
    "__getitem__", "__setitem__", "__iter__",
    "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__copy__",
    "__deepcopy__", "__init_subclass__", "__subclasshook__", "__class_getitem__",
    "__annotations__",
})


class TensorArray(np.ndarray):
    """A Parameter's values or gradient: an ndarray on its memory and a Tensor outside
    the graph (see the module docstring). Made by ``Parameter.data`` / ``.grad``."""

    # Tensor's instance state, as for a leaf outside the graph; the Tensor methods that
    # set these (``requires_grad_()``, an in-place op's version count) set them on the
    # instance
    _rg = False
    grad_fn = None
    _grad = None
    _vc = None
    _retain = False

    @property
    def __class__(self) -> type:  # isinstance(x, Tensor) holds (type(x) stays TensorArray)
        return Tensor

    @property
    def _data(self) -> np.ndarray:
        """The values as a plain ndarray on the same memory (what Tensor's methods read)."""
        return np.ndarray.view(self, np.ndarray)

    @_data.setter
    def _data(self, value: Any) -> None:
        if _same_memory(value, np.ndarray.view(self, np.ndarray)):
            return  # x._data += g: updated in place already
        # another array, e.g. for out= of another shape (torch resizes)
        raise RuntimeError("a TensorArray (a parameter's .data / .grad) is an array's "
                           "memory: it cannot be resized or given other storage; assign the "
                           "parameter's p.data = ... / p.grad = ... instead")

    @property
    def data(self) -> TensorArray:
        """Itself (PyTorch: ``p.data.data`` is the same values)."""
        return self

    @data.setter
    def data(self, value: Any) -> None:  # PyTorch would rebind a temporary Tensor's storage
        raise RuntimeError("a parameter's .data / .grad cannot be given other storage: assign "
                           "the parameter's p.data = ... / p.grad = ... instead")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs run on the plain arrays: a new result is a plain ndarray, an
        ``out=`` TensorArray is written and returned, as NumPy returns ``out``."""
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)
        if out is None or method == "at":
            return result
        if len(out) == 1:
            return out[0]
        return tuple(r if o is None else o for r, o in zip(result, out))

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """NumPy functions run on the plain arrays (NumPy's meanings throughout: its
        functions call ``a.sort()``, ``a.max(axis)``, ``a.shape`` internally); an ``out=``
        argument is written and returned, as NumPy returns it."""
        plain_kwargs = _plain(kwargs)
        result = func(*_plain(args), **plain_kwargs)
        out = kwargs.get("out")
        return out if out is not None and result is plain_kwargs["out"] else result


def _plain(a: Any) -> Any:
    """``a`` with every TensorArray in it (also in lists, tuples, dicts) as a plain ndarray."""
    if type(a) is TensorArray:
        return np.ndarray.view(a, np.ndarray)
    if type(a) in (list, tuple):
        return type(a)(_plain(x) for x in a)
    if type(a) is dict:
        return {k: _plain(v) for k, v in a.items()}
    return a


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are the same elements of the same memory (two views alike)."""
    return a is b or (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
                      and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _take_tensor_api() -> None:
    """Copies ``Tensor``'s methods, operators and properties onto ``TensorArray``.

    Called by ``fastnn.autograd`` once the ops are bound to ``Tensor``.
    """
    own = TensorArray.__dict__
    for name, value in vars(Tensor).items():
        if name in _KEEP_NDARRAY or name in own:
            continue
        if type(value).__name__ in ("member_descriptor", "getset_descriptor"):
            continue  # Tensor's __slots__: TensorArray keeps its state as above
        setattr(TensorArray, name, value)
    TensorArray.__str__ = Tensor.__repr__  # print() as a Tensor (ndarray has its own __str__)
