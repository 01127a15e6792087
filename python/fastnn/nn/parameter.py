"""``Parameter``: a trainable float32 array with its gradient buffer."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import shape_str


class Parameter:
    r"""A trainable tensor: a float32 C-contiguous ``data`` array and a ``grad`` buffer.

    ``grad`` is allocated with the parameter, has the same shape, starts at zero
    and is never ``None``; backward passes accumulate into it until
    :meth:`fastnn.nn.Module.zero_grad` (or an optimizer's ``zero_grad``) fills it
    with zeros. Both arrays can be read and written in place. Assigning to
    ``data`` copies into the existing buffer (the shape must match), so views held
    by optimizers or flat parameter buffers stay valid.

    Args:
        data (array_like): initial values; converted to float32 once.

    Example::

        >>> p = fn.nn.Parameter(np.zeros((2, 3)))
        >>> p.grad.shape
        (2, 3)
    """

    __slots__ = ("_data", "grad")

    def __init__(self, data: Any) -> None:
        arr = np.asarray(data)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"Parameter(): argument 'data' must be numeric, got {arr.dtype}")
        self._data = np.array(arr, dtype=np.float32, order="C", copy=True)
        self.grad = np.zeros_like(self._data)

    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        value = np.asarray(value)
        if value.shape != self._data.shape:
            raise ValueError(
                f"Parameter.data: expected shape {shape_str(self._data.shape)}, "
                f"got {shape_str(value.shape)}"
            )
        self._data[...] = value

    def _rebind_data(self, array: np.ndarray) -> None:
        """Makes ``array`` (float32, C-contiguous, same shape) the storage of ``data``.

        For :meth:`fastnn.nn.Module.flatten_parameters`, which rebinds every
        parameter to a view of one flat buffer; the values must already be there.
        """
        if array.dtype != np.float32 or array.shape != self._data.shape or \
                not array.flags.c_contiguous:
            raise ValueError("Parameter._rebind_data(): expected a float32 C-contiguous array "
                             f"of shape {shape_str(self._data.shape)}")
        self._data = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def numel(self) -> int:
        """Number of elements (PyTorch's name for ``size``)."""
        return self._data.size

    def zero_grad(self) -> None:
        """Fills ``grad`` with zeros in place."""
        self.grad.fill(0.0)

    def __repr__(self) -> str:
        return f"Parameter(shape={shape_str(self.shape)}, dtype=float32)"
