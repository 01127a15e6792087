"""``Parameter``: a Tensor that requires grad, registered by the Module it is assigned to.

A Parameter owns a gradient buffer allocated with it, so that kernels accumulate
into memory that stays put (and that ``Module.flatten_parameters`` can make a view
into one flat buffer for the fused optimizer). ``.grad`` is that buffer, or ``None``
after ``zero_grad(set_to_none=True)`` / ``p.grad = None``; the next backward writes
into the same buffer again. ``.data`` and ``.grad`` are ``TensorArray`` views: NumPy
arrays (API.md's Modules contract) that are also Tensors outside the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import shape_str
from ..autograd.errors import ShapeError
from ..autograd.grad_mode import note_escape
from ..autograd.tensor import Tensor, _wrap
from ..autograd.tensor_array import TensorArray


class Parameter(Tensor):
    r"""A trainable float32 Tensor (``requires_grad=True``) with a preallocated gradient.

    As in PyTorch, assigning a Parameter to a :class:`Module` attribute registers it
    in ``parameters()``. ``.data`` is the values and ``.grad`` the gradient, each a
    :class:`~fastnn.autograd.TensorArray` on the parameter's memory: a float32
    C-contiguous ``np.ndarray`` (``np.copyto(p.data, w)``, ``p.data -= lr * p.grad``)
    that is also a Tensor outside the graph (``p.data.zero_()``, ``p.grad.view(-1)``),
    with PyTorch's meaning where the two share a name. Assigning ``p.data = x`` copies
    ``x`` in (the shape must match), so views held by optimizers or flat buffers stay
    valid. ``.grad`` starts as zeros (allocated with the parameter, as fastnn's
    NumPy-path modules accumulate into it), backward passes accumulate into it, and
    it is ``None`` after ``zero_grad(set_to_none=True)``.

    Args:
        data (array_like or Tensor): initial values; copied as float32.
        requires_grad (bool): Default: ``True``.

    Example::

        >>> p = fn.nn.Parameter(np.zeros((2, 3)))
        >>> p.grad.shape
        fastnn.Size([2, 3])
    """

    # Since the parameter was made or the last zero_grad() (which zero-fills .grad where
    # PyTorch's default leaves None): _unset, no gradient was written; _autograd, the
    # autograd engine (or a p.grad = assignment) wrote this gradient. Optimizer.step, once
    # some of its parameters' gradients were written so (PyTorch-style steps from then on),
    # skips parameters still _unset with an all-zero .grad, as PyTorch skips None; on the
    # NumPy path (model.backward, in-place writes) nothing is skipped and zeros are a
    # gradient.
    # _grad_cache: (array, TensorArray) of .grad, kept while _grad's array is that array (so
    # that p.grad is p.grad, as in PyTorch, and p.grad += x is seen to update in place); one
    # tuple, replaced whole, so that a thread never reads half of it
    __slots__ = ("_gbuf", "_gview", "_unset", "_autograd", "_grad_cache")

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros(0, np.float32)
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"Parameter(): argument 'data' must be numeric, got {arr.dtype}")
        self._data = np.array(arr, dtype=np.float32, order="C", copy=True)
        self._rg = bool(requires_grad)
        self.grad_fn = None
        self._vc = None
        self._retain = False
        self._gbuf = np.zeros_like(self._data)
        self._gview = _wrap(self._gbuf)
        self._grad = self._gview
        self._unset = True  # no gradient yet: PyTorch's None (a step may skip it)
        self._autograd = False
        self._grad_cache = (None, None)

    # -- values ------------------------------------------------------------------
    @property
    def data(self) -> TensorArray:
        """The values: a Tensor outside the graph that is also a float32 C-contiguous
        ndarray on the parameter's memory (:class:`~fastnn.autograd.TensorArray`)."""
        note_escape("a parameter's .data")
        return self._data.view(TensorArray)

    @data.setter
    def data(self, value: Any) -> None:
        value = value._data if isinstance(value, Tensor) else np.asarray(value)
        if value.dtype.kind not in "fiu":
            raise TypeError(f"Parameter.data: expected a numeric array, got dtype {value.dtype}")
        if value.shape != self._data.shape:
            raise ValueError(f"Parameter.data: expected shape {shape_str(self._data.shape)}, "
                             f"got {shape_str(value.shape)}")
        self._data[...] = value  # (NumPy skips the copy when p.data -= x assigns itself)

    def _rebind_data(self, array: np.ndarray) -> None:
        """Makes ``array`` (float32, C-contiguous, same shape, values already there) the storage.

        For :meth:`fastnn.nn.Module.flatten_parameters`, which rebinds every parameter
        to a view of one flat buffer.
        """
        if array.dtype != np.float32 or array.shape != self._data.shape or \
                not array.flags.c_contiguous:
            raise ValueError("Parameter._rebind_data(): expected a float32 C-contiguous array "
                             f"of shape {shape_str(self._data.shape)}")
        self._data = array

    # -- gradient ------------------------------------------------------------------
    @property
    def grad(self) -> TensorArray | None:
        """The gradient: like ``.data``, a Tensor that is also an ndarray on the gradient's
        memory, or ``None`` after ``zero_grad(set_to_none=True)``."""
        g = self._grad
        if g is None:
            return None
        note_escape("a parameter's .grad")
        source, array = self._grad_cache
        if source is not g._data:
            source = g._data
            array = source.view(TensorArray)
            self._grad_cache = (source, array)
        return array

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if arr.shape != self._data.shape:  # torch: RuntimeError; both (ShapeError)
            raise ShapeError(f"Parameter.grad: expected shape {shape_str(self._data.shape)}, "
                             f"got {shape_str(arr.shape)}")
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"Parameter.grad: expected a numeric array, got dtype {arr.dtype}")
        self._unset = False  # a gradient now (set only once the value is accepted),
        self._autograd = True  # written the PyTorch way, as a backward would
        source, array = self._grad_cache
        if value is array and self._grad is not None and self._grad._data is source:
            return  # p.grad += x: the same buffer, updated in place
        if not (arr.dtype == np.float32 and arr.flags.c_contiguous and arr.flags.writeable):
            # kernels accumulate into .grad in place: a float64, strided or read-only
            # array is converted into the parameter's own buffer (as .data = takes it)
            # instead of failing there later
            self._gbuf[...] = arr
            self._grad = self._gview
            return
        self._grad = value if isinstance(value, Tensor) and type(value) is not TensorArray \
            else _wrap(arr)
        self._gbuf = arr  # the new array becomes the buffer
        self._gview = self._grad
        self._grad_cache = (None, None)  # not holding the old buffer alive

    def _grad_sink(self) -> np.ndarray:
        """The array kernels accumulate into: ``.grad``'s, or the own buffer zeroed."""
        g = self._grad
        if g is None:
            self._gbuf.fill(0.0)
            self._grad = g = self._gview
        self._unset = False
        return g._data

    def _accumulate(self, g: np.ndarray) -> None:
        self._unset = False
        self._autograd = True
        cur = self._grad
        if cur is None:
            np.copyto(self._gbuf, g)
            self._grad = self._gview
        else:
            cur._data += g

    def _rebind_grad(self, array: np.ndarray) -> None:
        """Makes ``array`` (float32, C-contiguous, same shape) the gradient buffer.

        The current gradient is copied in (zeros when it is ``None``, which it stays).
        """
        if array.dtype != np.float32 or array.shape != self._data.shape or \
                not array.flags.c_contiguous:
            raise ValueError("Parameter._rebind_grad(): expected a float32 C-contiguous array "
                             f"of shape {shape_str(self._data.shape)}")
        array[...] = 0.0 if self._grad is None else self._grad._data
        self._gbuf = array
        self._gview = _wrap(array)
        if self._grad is not None:
            self._grad = self._gview

    def zero_grad(self, set_to_none: bool | None = None) -> None:
        """Fills ``.grad`` with zeros in place (or sets it to ``None``).

        By default the zeros stand for PyTorch's default ``None``: a PyTorch-style
        ``step()`` skips the parameter while no backward has written its gradient. With
        ``set_to_none=False`` they are a gradient, as PyTorch's zeros are then."""
        # False: zeros are a gradient where one was written (PyTorch zero-fills an existing
        # .grad), a None-equivalent stays one (PyTorch leaves None as None)
        zeros_are_grads = set_to_none is not None and not set_to_none  # False, 0, np.False_
        self._unset = self._unset or self._grad is None if zeros_are_grads else True
        self._autograd = False
        if set_to_none:
            self._grad = None
        elif self._grad is None:
            self._gbuf.fill(0.0)
            self._grad = self._gview
        else:
            self._grad._data.fill(0.0)

    # -- copying and display ---------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> Parameter:
        out = Parameter(self._data, self._rg)
        if self._grad is None:
            out._grad = None
        else:
            out._gbuf[...] = self._grad._data
        out._unset = self._unset
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: int) -> Any:
        grad = None if self._grad is None else self._grad._data.copy()
        return (_rebuild_parameter, (self._data.copy(), self._rg, grad, self._unset))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _rebuild_parameter(data: np.ndarray, requires_grad: bool,
                       grad: np.ndarray | None, unset: bool = False) -> Parameter:
    p = Parameter(data, requires_grad)
    if grad is None:
        p._grad = None
    else:
        p._gbuf[...] = grad
    p._unset = bool(unset)
    return p
