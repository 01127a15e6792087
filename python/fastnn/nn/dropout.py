"""``Dropout``: inverted dropout with a counter-based, seed-regenerated mask."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._random import next_seed
from .._validation import as_float32, check_number
from ..autograd import ops_nn
from ..autograd.tensor import Tensor
from .linear import checked_grad
from .module import Module


class Dropout(Module):
    r"""Zeroes elements with probability ``p`` in training, scaling the rest by :math:`1/(1-p)`.

    In training mode, :math:`y = x \cdot m / (1 - p)` with :math:`m_i \sim
    \text{Bernoulli}(1 - p)`, so :math:`\mathbb{E}[y] = x` and evaluation needs
    no rescaling ("inverted" dropout; Srivastava et al., "Dropout: a simple way
    to prevent neural networks from overfitting", JMLR 2014). In evaluation mode
    (:meth:`~Module.eval`) and for ``p == 0`` it is the identity.

    Each training forward draws a fresh seed from the global generator
    (:func:`fastnn.manual_seed` makes it reproducible) and the mask is a hash of
    (seed, element index): it does not depend on the thread count, and backward
    regenerates the same mask from the seed instead of storing it. The gradient
    flows only through the kept elements, scaled by :math:`1/(1-p)`.

    Args:
        p (float): probability of zeroing an element, in :math:`[0, 1)`.
            Default: ``0.5``. ``p == 1`` is rejected (unlike PyTorch): it would
            zero every activation and every gradient, so nothing could train.
        inplace (bool): on a Tensor, write the result into the input and return it, as
            PyTorch does (a NumPy array input is left unchanged). Default: ``False``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> _ = fn.manual_seed(0)
        >>> drop = fn.nn.Dropout(p=0.2)
        >>> y = drop(np.ones((4, 5)))          # about 20% zeros, the rest 1.25
        >>> drop.eval()(np.ones(3))            # evaluation: identity
        array([1., 1., 1.], dtype=float32)
    """

    _saved_for_backward = ("_shape", "_seed", "_p")

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)
        self.p = check_number(p, "Dropout()", "p", low=0.0, high=1.0, high_open=True)
        self._seed: int | None = None
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            self._shape = None  # backward() serves NumPy forwards only
            return ops_nn.dropout(x, self.p, self.training, self.inplace)
        x = as_float32(x, "Dropout.forward()", "input")
        self._shape = x.shape
        if not self.training or self.p == 0.0:
            self._seed = None
            return x
        self._seed, self._p = next_seed(), self.p  # backward rebuilds this forward's mask
        y = np.empty_like(x)
        _core.dropout_forward(y.reshape(-1), x.reshape(-1), self._p, self._seed)
        return y

    def backward(self, grad_out: Any) -> np.ndarray:
        g = checked_grad(self, grad_out, self._shape)
        if self._seed is None:  # the last forward was the identity
            return g
        dx = np.empty_like(g)
        _core.dropout_backward(dx.reshape(-1), g.reshape(-1), self._p, self._seed)
        return dx

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
