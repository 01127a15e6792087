"""fastnn.autograd: ``Tensor``, its recorded graph and the differentiable ops.

Below ``nn``: this package knows nothing of modules. Ops reach the C++ kernels
only through the bindings (``fastnn._core``). Importing it binds the ops to
``Tensor`` as methods and operators.
"""

from . import _methods
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .errors import InputError, ShapeError
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradients import grad
from .graph import Node
from .tensor import Size, Tensor
from .tensor_array import TensorArray, _take_tensor_api

_methods.bind()
_take_tensor_api()

__all__ = [
    "Function", "FunctionCtx", "InputError", "Node", "ShapeError", "Size", "Tensor", "TensorArray",
    "arange",
    "as_tensor", "empty", "empty_like", "enable_grad", "eye", "from_numpy", "full", "full_like",
    "grad", "inference_mode", "is_grad_enabled", "linspace", "no_grad", "normal", "ones",
    "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "randperm",
    "set_grad_enabled", "tensor", "zeros", "zeros_like",
]
