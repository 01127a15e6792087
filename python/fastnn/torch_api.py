"""The top-level functions of fastnn's PyTorch subset: ``fn.exp(x)``, ``fn.cat``, ``fn.float32``.

``import fastnn as fn`` then reads like ``import torch``: the ops of
:mod:`fastnn.autograd` as functions, the dtypes under PyTorch's names, and
``fn.device("cpu")``. Each function takes Tensors (array-likes become constants).
"""

from __future__ import annotations

import builtins
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from ._random import _checked_seed
from .autograd import ops_math, ops_nn, ops_reduce, ops_shape
from .autograd.creation import tensor
from .autograd.device import device
from .autograd.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from .autograd.legacy_types import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .autograd.numpy_names import rename as _numpy_names
from .autograd.numpy_names import takes_dim as _takes_dim
from .autograd.numpy_names import with_numpy_names as _with_numpy_names
from .autograd.ops_math import as_tensor_operand as _t
from .autograd.printing import set_printoptions
from .autograd.tensor import Tensor

bool = bool_  # noqa: A001 - PyTorch's name
float = float32  # noqa: A001
int = int32  # noqa: A001


def _false() -> bool:
    return False


def _zero() -> int:
    return 0


def _cuda_manual_seed(seed: Any) -> None:
    """``torch.cuda.manual_seed``: seeds the GPU, of which fastnn has none (the seed is
    still checked as ``manual_seed`` checks it)."""
    _checked_seed(seed, "cuda.manual_seed()")


def _cuda_manual_seed_all(seed: Any) -> None:
    """``torch.cuda.manual_seed_all``: seeds every GPU, of which fastnn has none."""
    _checked_seed(seed, "cuda.manual_seed_all()")


def _no_device() -> None:
    """``torch.cuda.synchronize()`` / ``empty_cache()``: nothing to do without a GPU."""


# ``device = "cuda" if torch.cuda.is_available() else "cpu"`` and its kin pick the CPU;
# the usual seeding helper (torch.cuda.manual_seed_all, cudnn.deterministic = True) runs.
cuda = SimpleNamespace(is_available=_false, device_count=_zero, manual_seed=_cuda_manual_seed,
                       manual_seed_all=_cuda_manual_seed_all, synchronize=_no_device,
                       empty_cache=_no_device)
accelerator = SimpleNamespace(is_available=_false, device_count=_zero)
backends = SimpleNamespace(
    mps=SimpleNamespace(is_available=_false, is_built=_false),
    cudnn=SimpleNamespace(is_available=_false, enabled=True, deterministic=False,
                          benchmark=False, allow_tf32=True),
    cuda=SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False)),
)
_deterministic_algorithms = False


def use_deterministic_algorithms(mode: builtins.bool, *, warn_only: builtins.bool = False) -> None:
    """Accepted as PyTorch's: fastnn's kernels are always deterministic (the same seed and
    inputs give the same bits, at any thread count), so this only records ``mode``."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, builtins.bool):
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be a "
                            f"bool, got {type(value).__name__}")
    global _deterministic_algorithms
    _deterministic_algorithms = mode


def are_deterministic_algorithms_enabled() -> builtins.bool:
    """What :func:`use_deterministic_algorithms` last set (default ``False``, as PyTorch)."""
    return _deterministic_algorithms


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`fastnn.Tensor`."""
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return x.numel()


def _write_out(result: Any, out: Any, name: str) -> Any:
    """PyTorch's ``out=``: ``result`` written into the Tensor ``out`` (resized, with a
    warning, when it has another shape and holds elements), which is returned; a result
    of several Tensors (``max(x, 1)``: values and indices) into a tuple of as many."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} "
                            f"Tensors, got {type(out).__name__}")
        written = [_write_out(r, o, name) for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    kinds = "biuf"
    if kinds.index(np.dtype(result.dtype).kind) > kinds.index(np.dtype(out.dtype).kind):
        raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                           f"type {out.dtype}")
    if tuple(out.shape) != tuple(result.shape):
        if out.numel():
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape "
                          f"{list(result.shape)}.", UserWarning, stacklevel=3)
        out._data = np.empty(result._data.shape, out._data.dtype)
    return out.copy_(result)


def _with_out(op: Any) -> Any:
    """``op`` (any arguments) taking PyTorch's ``out=`` too."""
    def f(*args: Any, out: Any = None, **kwargs: Any) -> Tensor:
        result = op(*args, **kwargs)
        return result if out is None else _write_out(result, out, op.__name__)
    f.__name__ = op.__name__
    f.__doc__ = op.__doc__
    return f


def _view(op: Any) -> Any:
    """The view ``op`` as a function of a Tensor (array-likes become constants) and its
    options; no ``out=``, as PyTorch's views have none."""
    renames = _takes_dim(op)  # NumPy's names, for an op that has PyTorch's

    def f(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if kwargs and renames:
            _numpy_names(kwargs, op.__name__)
        return op(input if isinstance(input, Tensor) else _t(input), *args, **kwargs)
    f.__name__ = op.__name__
    f.__doc__ = op.__doc__
    return f


def _unary(op: Any) -> Any:
    """``op`` as a function of a Tensor (array-likes become constants), its options and
    ``out=``."""
    renames = _takes_dim(op)  # NumPy's names, for an op that has PyTorch's

    def f(input: Any, *args: Any, out: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        if not isinstance(input, Tensor):
            input = _t(input)  # noqa: A001
        if kwargs and renames:
            _numpy_names(kwargs, op.__name__)
        result = op(input, *args, **kwargs)
        return result if out is None else _write_out(result, out, op.__name__)
    f.__name__ = op.__name__
    f.__doc__ = op.__doc__
    return f


def _elementwise(op: Any) -> Any:
    """``op`` as a function of one Tensor alone (no argument packing: the hot path), and
    ``out=``."""
    def f(input: Any, *, out: Any = None) -> Tensor:  # noqa: A002
        result = op(input if isinstance(input, Tensor) else _t(input))
        return result if out is None else _write_out(result, out, op.__name__)
    f.__name__ = op.__name__
    f.__doc__ = op.__doc__
    return f


add, sub, mul, div, pow = (_with_out(ops_math.add), _with_out(ops_math.sub),  # noqa: A001
                           _with_out(ops_math.mul), _with_out(ops_math.div),
                           _with_out(ops_math.pow))
subtract, multiply, divide, true_divide = sub, mul, div, div
maximum, minimum = ops_math.maximum, ops_math.minimum
eq, ne, lt, le, gt, ge = (ops_math.eq, ops_math.ne, ops_math.lt, ops_math.le, ops_math.gt,
                          ops_math.ge)
neg = negative = _elementwise(ops_math.neg)
abs = _elementwise(ops_math.abs)  # noqa: A001
exp = _elementwise(ops_math.exp)
log = _elementwise(ops_math.log)
sqrt = _elementwise(ops_math.sqrt)
sin = _elementwise(ops_math.sin)
cos = _elementwise(ops_math.cos)
square = _elementwise(ops_math.square)
log1p = _elementwise(ops_math.log1p)
log2 = _elementwise(ops_math.log2)
log10 = _elementwise(ops_math.log10)
expm1 = _elementwise(ops_math.expm1)
clamp = clip = _unary(ops_math.clamp)
sign = _elementwise(ops_math.sign)
floor = _elementwise(ops_math.floor)
ceil = _elementwise(ops_math.ceil)
round = _unary(ops_math.round)  # noqa: A001
clone = _elementwise(ops_math.clone)
logical_not = _elementwise(ops_math.logical_not)
isnan = _elementwise(ops_math.isnan)
isfinite = _elementwise(ops_math.isfinite)
sum = _unary(ops_reduce.sum)  # noqa: A001
mean = _unary(ops_reduce.mean)
prod = _unary(ops_reduce.prod)
var = _unary(ops_reduce.var)
std = _unary(ops_reduce.std)
max = _unary(ops_reduce.max)  # noqa: A001
min = _unary(ops_reduce.min)  # noqa: A001
amax = _unary(ops_reduce.amax)
amin = _unary(ops_reduce.amin)
argmax = _unary(ops_reduce.argmax)
argmin = _unary(ops_reduce.argmin)
any = _unary(ops_reduce.any)  # noqa: A001
all = _unary(ops_reduce.all)  # noqa: A001
norm = _unary(ops_reduce.norm)
logsumexp = _unary(ops_reduce.logsumexp)
sort = _unary(ops_reduce.sort)
argsort = _unary(ops_reduce.argsort)
topk = _unary(ops_reduce.topk)
cumsum = _unary(ops_reduce.cumsum)
flip = _unary(ops_shape.flip)
gather = _unary(ops_shape.gather)
index_select = _unary(ops_shape.index_select)


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002 - PyTorch's names
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """Indices of the non-zero entries (no gradient)."""
    return _t(input).nonzero(as_tuple=as_tuple)


@_with_numpy_names
def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: Any = None) -> Any:
    """The distinct values, sorted (no gradient), as PyTorch."""
    return _t(input).unique(sorted=sorted, return_inverse=return_inverse,
                            return_counts=return_counts, dim=dim)


def equal(input: Any, other: Any) -> builtins.bool:  # noqa: A002
    """Whether both have the same shape and elements (a Python bool), as PyTorch."""
    a, b = np.asarray(_t(input)._data), np.asarray(_t(other)._data)
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


reshape = _view(ops_shape.reshape)
flatten = _view(ops_shape.flatten)
unsqueeze = _view(ops_shape.unsqueeze)
squeeze = _view(ops_shape.squeeze)
transpose = _view(ops_shape.transpose)
t = _view(ops_shape.t)
permute = _view(ops_shape.permute)
chunk = _view(ops_shape.chunk)
split = _view(ops_shape.split)
cat = concat = concatenate = _with_numpy_names(ops_shape.cat)
stack = _with_numpy_names(ops_shape.stack)
where = ops_shape.where
relu = _unary(ops_nn.relu)
sigmoid = _elementwise(ops_nn.sigmoid)
tanh = _elementwise(ops_nn.tanh)
softmax = _unary(ops_nn.softmax)
log_softmax = _unary(ops_nn.log_softmax)
mm = dot = _with_out(ops_nn.matmul)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """Element-wise ``|input - other| <= atol + rtol |other|`` as a bool Tensor, as PyTorch."""
    a, b = np.asarray(input), np.asarray(other)
    return tensor(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), dtype=bool_)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere (a Python bool), as PyTorch."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).numpy().all())

__all__ = [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor", "abs", "accelerator", "add", "all", "allclose",
    "amax", "amin", "any", "are_deterministic_algorithms_enabled", "argmax", "argmin",
    "argsort", "clamp_max", "clamp_min", "cumsum", "equal", "expm1", "flip", "gather",
    "index_select", "log1p", "log2", "log10", "nonzero", "unique",
    "backends", "bool", "cat", "ceil", "cuda", "chunk", "clamp", "clip", "clone", "concat",
    "concatenate", "cos", "device", "div",
    "divide", "dot", "double", "eq", "exp", "flatten", "float", "float16", "float32", "float64",
    "floor", "ge", "gt", "half", "int", "int8", "int16", "int32", "int64", "is_tensor",
    "isclose", "isfinite", "isnan", "le", "log", "log_softmax", "logical_not", "logsumexp",
    "long", "lt",
    "max", "maximum", "mean", "min", "minimum", "mm", "mul", "multiply", "ne", "neg",
    "negative", "norm", "numel", "permute", "pow", "prod", "relu", "reshape", "round", "short",
    "set_printoptions", "sigmoid", "sign", "sin", "softmax", "sort", "split", "sqrt", "square",
    "squeeze", "stack",
    "std", "sub", "subtract", "sum", "t", "tanh", "topk", "transpose", "true_divide", "uint8",
    "unsqueeze", "use_deterministic_algorithms", "var", "where",
]
