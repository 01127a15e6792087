"""``Linear`` (alias ``Dense``): the fully connected layer ``y = x W^T + b``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _core
from .._validation import as_float32, check_int, shape_str
from ..autograd.errors import ShapeError
from ..autograd.ops_nn import linear as _linear
from ..autograd.tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


def checked_grad(module: Module, grad_out: Any, shape: tuple[int, ...] | None) -> np.ndarray:
    """``grad_out`` as float32 after checking it against the last forward's output shape.

    ``shape`` is ``None`` when ``forward`` has not run yet: ``RuntimeError``.
    """
    name = f"{type(module).__name__}.backward()"
    if shape is None:
        raise RuntimeError(f"{name} called before a forward on NumPy arrays: backward uses "
                           "what the last such forward cached, so run forward first (after a "
                           "forward on fn.Tensors, call .backward() on the loss Tensor "
                           "instead)")
    g = as_float32(grad_out, name, "grad_out")
    if g.shape != shape:
        raise ValueError(f"{name}: argument 'grad_out' must have the shape of the last forward's "
                         f"output {shape_str(shape)}, got {shape_str(g.shape)}")
    return g


class Linear(Module):
    r"""Applies an affine map to the last dimension: :math:`y = x W^T + b`.

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): if ``False``, the layer learns no additive bias. Default: ``True``.

    Shape:
        - Input: :math:`(*, H_{in})`, any number of leading dimensions (including
          none), :math:`H_{in} = \text{in\_features}`.
        - Output: :math:`(*, H_{out})`, :math:`H_{out} = \text{out\_features}`.

    Attributes:
        weight (Parameter): shape :math:`(\text{out\_features}, \text{in\_features})`,
            initialised from :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})` with
            :math:`k = 1 / \text{in\_features}` (PyTorch's default:
            ``kaiming_uniform_`` with ``a=sqrt(5)``).
        bias (Parameter or None): shape :math:`(\text{out\_features},)`, initialised
            from the same :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})`.

    Both are drawn from the global generator, so :func:`fastnn.manual_seed` makes
    them reproducible. ``forward`` keeps a reference to its (float32) input for
    ``backward``: do not modify the input in place in between.

    Example::

        >>> _ = fn.manual_seed(0)
        >>> layer = fn.nn.Linear(20, 30)
        >>> x = np.random.randn(128, 20).astype(np.float32)
        >>> layer(x).shape
        (128, 30)
        >>> layer.backward(np.ones((128, 30), np.float32)).shape
        (128, 20)
    """

    _saved_for_backward = ("_input", "_lead")

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "Linear()", "in_features", low=0)
        self.out_features = check_int(out_features, "Linear()", "out_features", low=0)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear(): argument 'bias' must be a bool, got {type(bias).__name__}")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), np.float32))
        self.bias = Parameter(np.empty(self.out_features, np.float32)) if bias else None
        self.reset_parameters()
        self._input: np.ndarray | None = None
        self._lead: tuple[int, ...] = ()

    def reset_parameters(self) -> None:
        """Redraws weight and bias from PyTorch's default distribution (see Attributes)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):  # autograd: recorded on the graph
            self._input = None  # backward() serves NumPy forwards only
            return _linear(x, self.weight, self.bias)
        x = as_float32(x, "Linear.forward()", "input")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear.forward(): argument 'input' must have shape "
                             f"(*, {self.in_features}), got {shape_str(x.shape)}")
        lead = x.shape[:-1]
        x2 = x if x.ndim == 2 else x.reshape(math.prod(lead), self.in_features)
        y = np.empty((x2.shape[0], self.out_features), np.float32)
        bias = None if self.bias is None else self.bias._data
        _core.linear_forward(y, x2, self.weight._data, bias)
        self._input, self._lead = x2, lead
        return y if x.ndim == 2 else y.reshape(lead + (self.out_features,))

    def backward(self, grad_out: Any) -> np.ndarray:
        shape = None if self._input is None else self._lead + (self.out_features,)
        g = checked_grad(self, grad_out, shape)
        x2 = self._input
        dx = np.empty_like(x2)
        db = None if self.bias is None else self.bias._grad_sink()
        flat = len(self._lead) == 1  # 2-D input: no reshapes
        _core.linear_backward(dx, self.weight._grad_sink(), db,
                              g if flat else g.reshape(x2.shape[0], self.out_features),
                              x2, self.weight._data)
        return dx if flat else dx.reshape(self._lead + (self.in_features,))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Dense = Linear
