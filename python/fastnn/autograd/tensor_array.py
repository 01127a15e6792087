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
  takes it as a leaf Tensor. Where the two APIs use one name differently
  (``size()``, ``view(-1)``, ``max(dim)``, ``repeat``, ``sort``, ``T``, ``shape``,
  ``data``), PyTorch's meaning wins, as API.md says for Tensors; ``Tensor`` already
  accepts NumPy's argument names (``sum(axis=0)``, ``keepdims``) and ``x.size`` as a
  number is the element count.

Operators and methods return plain Tensors, in-place ones the TensorArray itself.
NumPy's own protocol (ufuncs, ``np.asarray``, pickling, ``copy.deepcopy``) is the
ndarray's: ``np.exp(p.grad)`` is a new TensorArray, ``np.asarray(p.grad)`` a plain
ndarray on the same memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

# Tensor entries a TensorArray does not take: instance layout and construction, and
# NumPy's protocol and copying, where the ndarray's own behaviour is kept.
_KEEP_NDARRAY = frozenset({
    "__dict__", "__slots__", "__weakref__", "__module__", "__doc__", "__init__", "__new__",
    "__array__", "__array_ufunc__", "__array_function__", "__array_priority__",
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
    def _data(self, value: Any) -> None:  # e.g. out= of another shape, as torch resizes
        raise RuntimeError("a parameter's .data / .grad is the parameter's own memory: it "
                           "cannot be resized or given other storage; assign the parameter's "
                           "p.data = ... / p.grad = ... instead")

    @property
    def data(self) -> TensorArray:
        """Itself (PyTorch: ``p.data.data`` is the same values); assigning copies in."""
        return self

    @data.setter
    def data(self, value: Any) -> None:
        value = np.asarray(value._data if isinstance(value, Tensor) else value)
        if value.shape != self.shape:
            raise ValueError(f"TensorArray.data: expected shape {tuple(self.shape)}, got "
                             f"{tuple(value.shape)} (the values are a parameter's memory)")
        np.copyto(self._data, value, casting="same_kind")


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
