"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Identity, Softmax, LogSoftmax,
SiLU, ELU, Softplus.

Each layer caches its forward input (a reference) and its backward returns ``grad_out *
f'(x)``; the maths runs in the C++ kernels. The layers whose derivative reads the output
(Sigmoid, Tanh, Softmax, LogSoftmax) keep their own copy of it: the caller may change the
returned array in place (``p = model(x); p -= y``) before ``backward``, as PyTorch allows
(it raises where its graph needs the array; here the copy keeps the gradient right).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _core
from .._validation import as_float32, check_int, check_number
from ..autograd import ops_nn
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from .linear import checked_grad
from .module import Module

_Act = _core.Activation


class _Elementwise(Module):
    """An element-wise activation: forward ``y = f(x)``, backward ``dx = dy f'(x)``."""

    _act: Any = _Act.identity
    _param = 0.0  # the kernels' parameter (LeakyReLU's slope), read at every call
    _saved_for_backward = ("_x", "_y")
    # f' from the output (sigmoid, tanh): backward reads a copy, not the array returned
    _backward_reads_output = False

    def __init__(self) -> None:
        super().__init__()
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            self._x = None  # backward() serves NumPy forwards only: raise, not reuse
            if getattr(self, "inplace", False):  # ReLU(inplace=True): x itself, changed
                return ops_nn.in_place(x, ops_nn.activation, self._act, self._param)
            return ops_nn.activation(x, self._act, self._param)
        x = as_float32(x, f"{type(self).__name__}.forward()", "input")
        y = np.empty_like(x)
        _core.activation_forward(self._act, self._param, y.reshape(-1), x.reshape(-1))
        self._x, self._y = x, (y.copy() if self._backward_reads_output else y)
        return y

    def backward(self, grad_out: Any) -> np.ndarray:
        g = checked_grad(self, grad_out, None if self._x is None else self._x.shape)
        dx = np.empty_like(g)
        _core.activation_backward(self._act, self._param, dx.reshape(-1), g.reshape(-1),
                                  self._x.reshape(-1), self._y.reshape(-1))
        return dx


class ReLU(_Elementwise):
    r"""Applies :math:`\text{ReLU}(x) = \max(0, x)` element-wise.

    The gradient at 0 is 0, as in PyTorch.

    Args:
        inplace (bool): on a Tensor, write the result into the input and return it, as
            PyTorch does (on the graph; a leaf that requires grad refuses). A NumPy array
            input is left unchanged either way. Default: ``False``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.ReLU()(np.array([-1.0, 2.0]))
        array([0., 2.], dtype=float32)
    """

    _act = _Act.relu

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_Elementwise):
    r"""Applies :math:`\text{LeakyReLU}(x) = \max(0, x) + \text{negative\_slope} \min(0, x)`.

    Args:
        negative_slope (float): the slope for :math:`x < 0`. Default: ``0.01``.
        inplace (bool): as in :class:`ReLU`. Default: ``False``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.LeakyReLU(0.1)(np.array([-1.0, 2.0]))
        array([-0.1,  2. ], dtype=float32)
    """

    _act = _Act.leaky_relu

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = check_number(negative_slope, "LeakyReLU()", "negative_slope")
        self.inplace = bool(inplace)

    @property
    def _param(self) -> float:  # type: ignore[override]
        """``negative_slope`` as the kernels read it (assigning the attribute takes effect)."""
        return check_number(self.negative_slope, "LeakyReLU", "negative_slope")

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(_Elementwise):
    r"""Applies :math:`\sigma(x) = 1 / (1 + e^{-x})` element-wise, stably for large :math:`|x|`.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.Sigmoid()(np.array([0.0]))
        array([0.5], dtype=float32)
    """

    _act = _Act.sigmoid
    _backward_reads_output = True


class Tanh(_Elementwise):
    r"""Applies :math:`\tanh(x)` element-wise.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.Tanh()(np.array([0.0]))
        array([0.], dtype=float32)
    """

    _act = _Act.tanh
    _backward_reads_output = True


class GELU(_Elementwise):
    r"""Applies the Gaussian Error Linear Unit :math:`\text{GELU}(x) = x \Phi(x)` element-wise.

    :math:`\Phi` is the standard normal CDF. With ``approximate="tanh"``:
    :math:`\text{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,
    (x + 0.044715 x^3)\right)\right)`. Hendrycks & Gimpel, "Gaussian Error Linear
    Units (GELUs)", arXiv:1606.08415.

    Args:
        approximate (str): ``"none"`` (default, the exact erf form) or ``"tanh"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.GELU()(np.array([0.0, 1.0]))
        array([0.       , 0.8413447], dtype=float32)
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU(): argument 'approximate' must be 'none' or 'tanh', "
                             f"got {approximate!r}")
        self.approximate = approximate

    @property
    def _act(self) -> Any:  # type: ignore[override]
        """The kernel for ``approximate`` (assigning the attribute takes effect)."""
        if self.approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: attribute 'approximate' must be 'none' or 'tanh', got "
                             f"{self.approximate!r}")
        return _Act.gelu if self.approximate == "none" else _Act.gelu_tanh

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Module):
    r"""Returns its input unchanged (as float32); the gradient passes through.

    A placeholder where a layer is optional, e.g. ``Linear`` followed by no
    activation.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.Identity()(np.array([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """

    _saved_for_backward = ("_shape",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # any arguments, unused (torch)
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            self._shape = None  # backward() serves NumPy forwards only
            return x
        x = as_float32(x, "Identity.forward()", "input")
        self._shape = x.shape
        return x

    def backward(self, grad_out: Any) -> np.ndarray:
        return checked_grad(self, grad_out, self._shape)


class Softmax(Module):
    r"""Applies :math:`\text{Softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}` along ``dim``.

    Computed stably (the maximum along ``dim`` is subtracted first), so the
    outputs lie in [0, 1] and sum to 1 along ``dim``. For classification, feed
    logits to :class:`CrossEntropyLoss` instead: it fuses log-softmax and is
    more accurate.

    Args:
        dim (int): the dimension the softmax normalises over. Default: ``-1``.

    Shape:
        - Input: :math:`(*)`, at least 1-D.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.Softmax(dim=1)(np.zeros((2, 4)))
        array([[0.25, 0.25, 0.25, 0.25],
               [0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """

    _saved_for_backward = ("_y2", "_moved_shape", "_shape", "_axis")

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = check_int(dim, f"{type(self).__name__}()", "dim")
        self._y2: np.ndarray | None = None
        self._moved_shape: tuple[int, ...] = ()
        self._shape: tuple[int, ...] | None = None
        self._axis = -1

    def _to_rows(self, a: np.ndarray) -> np.ndarray:
        """``a`` with the softmax axis moved last, as a C-contiguous (rows, cols) matrix."""
        moved = np.moveaxis(a, self._axis, -1)
        rows = math.prod(moved.shape[:-1])
        return np.ascontiguousarray(moved).reshape(rows, moved.shape[-1])

    def _from_rows(self, a2: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(a2.reshape(self._moved_shape), -1, self._axis))

    def forward(self, x: Any) -> Any:
        name = f"{type(self).__name__}.forward()"
        if isinstance(x, Tensor):
            self._shape = None  # backward() serves NumPy forwards only
            return self._tensor_op(x, self.dim)
        x = as_float32(x, name, "input")
        if x.ndim == 0:
            raise ShapeError(f"{name}: argument 'input' must have at least 1 dimension, got "
                             "shape ()")
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(f"{name}: dimension out of range (expected to be in range of "
                             f"[{-x.ndim}, {x.ndim - 1}], but got {self.dim})")
        self._axis = self.dim % x.ndim
        self._moved_shape = np.moveaxis(x, self._axis, -1).shape
        y2 = self._rows_forward(self._to_rows(x))
        y = self._from_rows(y2)
        # backward reads y2: a copy where the caller gets y2 itself (softmax over the last
        # axis), so an in-place change of the result leaves the gradient right
        self._y2 = y2.copy() if np.may_share_memory(y, y2) else y2
        self._shape = x.shape
        return y

    def backward(self, grad_out: Any) -> np.ndarray:
        g2 = self._to_rows(checked_grad(self, grad_out, self._shape))
        return self._from_rows(self._rows_backward(g2, self._y2))

    _tensor_op = staticmethod(ops_nn.softmax)
    # the row kernels over the last axis of a (rows, cols) matrix
    _forward_kernel = staticmethod(_core.softmax_forward)
    _backward_kernel = staticmethod(_core.softmax_backward)

    def _rows_forward(self, x2: np.ndarray) -> np.ndarray:
        y2 = np.empty_like(x2)
        self._forward_kernel(y2, x2)
        return y2

    def _rows_backward(self, g2: np.ndarray, y2: np.ndarray) -> np.ndarray:
        dx2 = np.empty_like(g2)
        self._backward_kernel(dx2, g2, y2)
        return dx2

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    r"""Applies :math:`\text{LogSoftmax}(x)_i = x_i - \log \sum_j e^{x_j}` along ``dim``.

    Computed stably (the maximum along ``dim`` is subtracted first). Pair it with
    :class:`NLLLoss` as PyTorch scripts do; :class:`CrossEntropyLoss` on the logits
    computes the same loss in one fused pass. The backward is
    :math:`dx = g - e^{y} \sum_j g_j` along ``dim``.

    Args:
        dim (int): the dimension the normalisation runs over. Default: ``-1`` (PyTorch
            scripts pass it; for 2-D inputs ``dim=1`` is the same).

    Shape:
        - Input: :math:`(*)`, at least 1-D.
        - Output: :math:`(*)`, same shape as the input.

    Example::

        >>> fn.nn.LogSoftmax(dim=1)(np.zeros((1, 4)))
        array([[-1.3862944, -1.3862944, -1.3862944, -1.3862944]], dtype=float32)
    """

    _tensor_op = staticmethod(ops_nn.log_softmax)
    _forward_kernel = staticmethod(_core.log_softmax_forward)
    _backward_kernel = staticmethod(_core.log_softmax_backward)


class _ParamElementwise(Module):
    """An element-wise activation with parameters (``ops_nn._NUMPY_ACTIVATIONS``): the C++
    kernel on float32 arrays and Tensors, the same formulas in NumPy on other float
    Tensors. Its derivative reads the input alone (forward caches ``x``)."""

    _name = ""
    _saved_for_backward = ("_x",)

    def __init__(self) -> None:
        super().__init__()
        self._x: np.ndarray | None = None

    def _params(self) -> tuple[float, ...]:
        return ()

    def forward(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            self._x = None  # backward() serves NumPy forwards only
            return ops_nn.numpy_activation(x, self._name, *self._params())
        x = as_float32(x, f"{type(self).__name__}.forward()", "input")
        y = ops_nn.param_activation_forward(self._name, x, *self._params())
        self._x = x
        return y

    def backward(self, grad_out: Any) -> np.ndarray:
        g = checked_grad(self, grad_out, None if self._x is None else self._x.shape)
        return ops_nn.param_activation_backward(self._name, g, self._x, *self._params())


class SiLU(_ParamElementwise):
    r"""Applies :math:`\text{SiLU}(x) = x \sigma(x)` element-wise (also called swish).

    Args:
        inplace (bool): accepted for PyTorch compatibility; the result is a new Tensor
            (unlike :class:`ReLU`'s). Default: ``False``.

    Example::

        >>> fn.nn.SiLU()(np.array([0.0, 1.0]))
        array([0.       , 0.7310586], dtype=float32)
    """

    _name = "silu"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(_ParamElementwise):
    r"""Applies :math:`\text{ELU}(x) = x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Args:
        alpha (float): the negative saturation value. Default: ``1.0``.
        inplace (bool): accepted for PyTorch compatibility. Default: ``False``.

    Example::

        >>> fn.nn.ELU()(np.array([-1.0, 2.0]))
        array([-0.63212055,  2.        ], dtype=float32)
    """

    _name = "elu"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "ELU()", "alpha")
        self.inplace = bool(inplace)

    def _params(self) -> tuple[float, ...]:
        return (self.alpha,)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(_ParamElementwise):
    r"""Applies :math:`\text{Softplus}(x) = \frac{1}{\beta} \log(1 + e^{\beta x})`, and
    :math:`x` where :math:`\beta x` exceeds ``threshold`` (for stability, as PyTorch).

    Args:
        beta (float): Default: ``1.0``.
        threshold (float): Default: ``20.0``.

    Example::

        >>> fn.nn.Softplus()(np.array([0.0]))
        array([0.6931472], dtype=float32)
    """

    _name = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = check_number(beta, "Softplus()", "beta")
        if self.beta == 0:
            raise ValueError("Softplus(): argument 'beta' must not be 0")
        self.threshold = check_number(threshold, "Softplus()", "threshold")

    def _params(self) -> tuple[float, ...]:
        return (self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
