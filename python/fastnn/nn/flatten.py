"""``Flatten``: merges a range of dimensions into one (on arrays and on Tensors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float32, check_int
from ..autograd.ops_shape import flatten
from ..autograd.tensor import Tensor
from .linear import checked_grad
from .module import Module


class Flatten(Module):
    r"""Flattens dimensions ``start_dim`` .. ``end_dim`` into one, as ``torch.nn.Flatten``.

    Args:
        start_dim (int): first dimension to flatten. Default: ``1`` (keeps the batch).
        end_dim (int): last dimension to flatten. Default: ``-1``.

    Shape:
        - Input: :math:`(N, *dims)`.
        - Output: :math:`(N, \prod dims)` with the defaults.

    Example::

        >>> fn.nn.Flatten()(fn.zeros(32, 1, 5, 5)).shape
        fastnn.Size([32, 25])
    """

    _saved_for_backward = ("_shape", "_out_shape")

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int(start_dim, "Flatten()", "start_dim")
        self.end_dim = check_int(end_dim, "Flatten()", "end_dim")
        self._shape: tuple[int, ...] | None = None  # the last forward's input shape
        self._out_shape: tuple[int, ...] | None = None  # and its output's

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            self._out_shape = None  # backward() serves NumPy forwards only
            return flatten(x, self.start_dim, self.end_dim)
        x = as_float32(x, "Flatten.forward()", "input")
        y = flatten(Tensor(x), self.start_dim, self.end_dim)._data
        self._shape, self._out_shape = x.shape, y.shape
        return y

    def backward(self, grad_out: Any) -> np.ndarray:
        return checked_grad(self, grad_out, self._out_shape).reshape(self._shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
