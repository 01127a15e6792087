"""Neural-network ops on Tensors, each on fastnn's C++ kernels where one exists.

``matmul`` (the packed GEMM for 2-D float32 operands), ``linear`` (GEMM with the
bias fused into the write-back; its backward accumulates dW and db straight into
the parameters' gradient buffers), the activations, ``softmax``/``log_softmax``,
``dropout`` (the counter-based kernel mask) and the losses. float64 Tensors take
NumPy formulas of the same maths, since the kernels are float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from .._random import next_seed
from .._validation import check_number, shape_str
from .errors import DtypeError, InputError, ShapeError
from .grad_mode import _state
from .graph import unbroadcast
from .ops_math import operand
from .tensor import Tensor, _check_dim, _result, _wrap, named, stamp

_F32 = np.dtype(np.float32)
_Act = _core.Activation
_REDUCTIONS = ("mean", "sum", "none")


def _f32_2d(a: np.ndarray) -> bool:
    return a.dtype == _F32 and a.ndim == 2


def _contiguous(a: Any, dtype: Any = None) -> np.ndarray:
    """``a`` as a C-contiguous array (copied only when needed), keeping its shape. Not
    ``np.ascontiguousarray``: it makes a 0-d array 1-d, so a 0-d input came out of the
    fused losses and dropout with shape (1,)."""
    return np.asarray(a, dtype, order="C")


def _needs_float(x: Tensor, func: str) -> None:
    """Ops that torch implements for floating Tensors only (``softmax``, the losses):
    NotImplementedError, as torch, rather than a float64 result."""
    if x._data.dtype.kind != "f":
        raise NotImplementedError(_not_float(func, x._data.dtype))


def _not_float(func: str, dtype: np.dtype) -> str:
    return (f"{func}(): expected a floating point Tensor, got {dtype} (not implemented for "
            "integers and bools, as in torch); convert the input with .float() first")


# -- matmul --------------------------------------------------------------------
def _mm_vjp(node, g):
    a, b = node.inputs
    ad, bd = node.saved
    ga = None if a is None else _core.matmul(g, bd, False, True)
    gb = None if b is None else _core.matmul(ad, g, True, False)
    return ga, gb


def _matmul_nd_vjp(node, g):
    a, b = node.inputs
    ad, bd = node.saved
    a2 = ad[None, :] if ad.ndim == 1 else ad
    b2 = bd[:, None] if bd.ndim == 1 else bd
    g2 = g
    if bd.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    if ad.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    ga = gb = None
    if a is not None:
        ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(ad.shape)
    if b is not None:
        gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(bd.shape)
    return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D and batched (broadcast) operands."""
    ad, at = operand(a)
    bd, bt = operand(b)
    ad, bd = np.asarray(ad), np.asarray(bd)
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{ad.ndim}D and {bd.ndim}D")
    k_a = ad.shape[-1]
    k_b = bd.shape[0] if bd.ndim == 1 else bd.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({shape_str(ad.shape)} and {shape_str(bd.shape)}): inner "
                         f"dimensions {k_a} and {k_b} differ")
    batch_a, batch_b = ad.shape[:-2], bd.shape[:-2]
    for i in range(1, min(len(batch_a), len(batch_b)) + 1):
        if batch_a[-i] != batch_b[-i] and 1 not in (batch_a[-i], batch_b[-i]):
            raise ShapeError(f"matmul: the batch dimensions of {shape_str(ad.shape)} and "
                             f"{shape_str(bd.shape)} do not broadcast: the size of tensor a "
                             f"({batch_a[-i]}) must match the size of tensor b "
                             f"({batch_b[-i]}) at non-singleton dimension {len(batch_a) - i}")
    record = _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg))
    inputs = (at if at is not None and at._rg else None, bt if bt is not None and bt._rg else None)
    # a's gradient reads b and b's reads a: stamped only where read (PyTorch's MmBackward0
    # saves one operand for the other's gradient)
    stamps = ()
    if record:
        stamps = tuple(stamp(t) for t, other in ((at, bt), (bt, at))
                       if t is not None and other is not None and other._rg)
    if _f32_2d(ad) and _f32_2d(bd):
        value = _core.matmul(ad, bd)
        return _result(value, _mm_vjp if record else None, inputs, (ad, bd), stamps)
    value = np.matmul(ad, bd)
    if value.dtype != _F32 and value.dtype.kind == "f" and _F32 in (ad.dtype, bd.dtype) and \
            np.float64 not in (ad.dtype, bd.dtype):
        value = value.astype(_F32)
    return _result(np.asarray(value), _matmul_nd_vjp if record else None, inputs, (ad, bd),
                   stamps)


# -- linear --------------------------------------------------------------------
def _param_grad(t: Tensor | None, shape: tuple[int, ...]) -> tuple[np.ndarray | None, bool]:
    """Where a parameter's gradient goes: a leaf's own ``.grad`` buffer (accumulated in
    place, nothing returned to the engine) or, for a computed Tensor, a fresh array."""
    if t is None:
        return None, False
    if t.grad_fn is None:
        sink = t._grad_sink()
        if hasattr(t, "_autograd"):  # a Parameter: autograd wrote its gradient
            t._autograd = True
        return sink, False
    return np.zeros(shape, _F32), True


def _linear_vjp(node, g):
    x, w, b = node.inputs
    x2, wd, lead = node.saved[:3]
    g2 = g.reshape(x2.shape[0], wd.shape[0])
    if not g2.flags.c_contiguous:
        g2 = np.ascontiguousarray(g2)
    dx = np.empty(x2.shape, _F32) if x is not None else None
    dw, ret_w = _param_grad(w, wd.shape)
    db, ret_b = _param_grad(b, (wd.shape[0],))
    if dw is not None:
        _core.linear_backward(dx, dw, db, g2, x2, wd)
    else:
        if dx is not None:
            _core.matmul(g2, wd, out=dx)
        if db is not None:
            db += g2.sum(axis=0)
    gx = None if dx is None else dx.reshape(lead + (x2.shape[1],))
    return gx, (dw if ret_w else None), (db if ret_b else None)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    r"""``input @ weight.T + bias`` over the last dimension of ``input``.

    Shape: input :math:`(*, H_{in})`, weight :math:`(H_{out}, H_{in})`, bias
    :math:`(H_{out},)`, output :math:`(*, H_{out})`.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    bias = bias if bias is None or isinstance(bias, Tensor) else Tensor(bias)
    xd, wd = x._data, weight._data
    bd = None if bias is None else bias._data
    if xd.dtype.kind == "b":  # not a number (API.md); torch refuses it too
        raise DtypeError("linear(): expected a floating point input, got bool; convert it "
                         "with .float() first")
    if xd.dtype.kind in "iu":  # converted once, as the NumPy path's layers take integers
        x = _wrap(xd.astype(_F32))  # (torch raises): a model of them takes the same arrays
        xd = x._data
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[-1]:
        raise ShapeError(f"linear(): mat1 and mat2 shapes cannot be multiplied "
                         f"({shape_str(xd.shape)} and {shape_str(wd.shape[::-1])})")
    if not (xd.dtype == wd.dtype == _F32 and (bd is None or bd.dtype == _F32)):
        out = matmul(x, weight.t() if wd.ndim == 2 else weight)
        return out if bias is None else out + bias
    lead = xd.shape[:-1]
    x2 = xd if xd.ndim == 2 else xd.reshape(math.prod(lead), xd.shape[-1])
    if not x2.flags.c_contiguous:
        x2 = np.ascontiguousarray(x2)
    y = np.empty((x2.shape[0], wd.shape[0]), _F32)
    _core.linear_forward(y, x2, wd, bd)
    if xd.ndim != 2:
        y = y.reshape(lead + (wd.shape[0],))
    b_rg = bias is not None and bias._rg
    if _state.enabled and (x._rg or weight._rg or b_rg):
        # dW reads x and dx reads W: stamp a value only when its reader runs
        stamps = (stamp(x),) if weight._rg else ()
        if x._rg:
            stamps += (stamp(weight),)
        out = _result(y, _linear_vjp,
                      (x if x._rg else None, weight if weight._rg else None,
                       bias if b_rg else None),
                      (x2, wd, lead, weight, bias), stamps)
        # PyTorch's nodes: addmm / mm on a batch, reshaped around them otherwise
        return named(out, ("AddmmBackward0" if bias is not None else "MmBackward0")
                     if xd.ndim == 2 else "SqueezeBackward4" if xd.ndim == 1
                     else "ViewBackward0")
    return _result(y, None, ())


# -- activations ---------------------------------------------------------------
def _act_vjp(node, g):
    act, param, xd, yd = node.saved
    g = _contiguous(g, _F32)
    dx = np.empty(xd.shape, _F32)
    _core.activation_backward(act, param, dx.reshape(-1), g.reshape(-1), xd.reshape(-1),
                              yd.reshape(-1))
    return (dx,)


def _numpy_act(act: Any, param: float, xd: np.ndarray) -> np.ndarray:
    if act == _Act.relu:
        return np.where(xd < 0, 0, xd).astype(xd.dtype, copy=False)  # NaN and -0 kept (torch)
    if act == _Act.leaky_relu:
        return np.where(xd > 0, xd, xd * param)
    if act == _Act.sigmoid:
        return 1 / (1 + np.exp(-xd))
    if act == _Act.tanh:
        return np.tanh(xd)
    from math import erf, sqrt
    if act == _Act.gelu:
        return xd * 0.5 * (1 + np.vectorize(erf, otypes=[xd.dtype])(xd / sqrt(2)))
    return 0.5 * xd * (1 + np.tanh(sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)))


def _numpy_act_vjp(node, g):
    act, param, xd, yd = node.saved
    if act == _Act.relu:
        return (g * (xd > 0),)
    if act == _Act.leaky_relu:
        return (g * np.where(xd > 0, 1, param),)
    if act == _Act.sigmoid:
        return (g * yd * (1 - yd),)
    if act == _Act.tanh:
        return (g * (1 - yd * yd),)
    h = 1e-6 * np.maximum(1, np.abs(xd))  # GELU on float64: central difference of the formula
    return (g * (_numpy_act(act, param, xd + h) - _numpy_act(act, param, xd - h)) / (2 * h),)


# PyTorch's node names of the kernel activations
_ACT_NODES = {_Act.relu: "ReluBackward0", _Act.leaky_relu: "LeakyReluBackward0",
              _Act.sigmoid: "SigmoidBackward0", _Act.tanh: "TanhBackward0",
              _Act.gelu: "GeluBackward0", _Act.gelu_tanh: "GeluBackward0"}


def activation(x: Tensor, act: Any, param: float = 0.0) -> Tensor:
    """``act`` applied element-wise, by the activation kernel for float32."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    xd = x._data
    if xd.dtype.kind != "f":
        return _integer_activation(xd, act)
    if xd.dtype != _F32:
        y = _numpy_act(act, param, xd).astype(xd.dtype)
        vjp = _numpy_act_vjp
    else:
        if not xd.flags.c_contiguous:
            xd = np.ascontiguousarray(xd)
        y = np.empty(xd.shape, _F32)
        _core.activation_forward(act, param, y.reshape(-1), xd.reshape(-1))
        vjp = _act_vjp
    if _state.enabled and x._rg:
        # stamp only the value the backward reads, as PyTorch saves it: the output for
        # ReLU (y > 0 exactly where x > 0), sigmoid and tanh; the input otherwise
        if act == _Act.relu:
            out = _result(y, vjp, (x,), (act, param, y, y))
            out.grad_fn.stamps = (stamp(out),)
        elif act == _Act.sigmoid or act == _Act.tanh:
            out = _result(y, vjp, (x,), (act, param, xd, y))
            out.grad_fn.stamps = (stamp(out),)
        else:
            out = _result(y, vjp, (x,), (act, param, xd, y), (stamp(x),))
        return named(out, _ACT_NODES.get(act))
    return _result(y, None, ())


def _integer_activation(xd: np.ndarray, act: Any) -> Tensor:
    """``act`` of an integer or bool Tensor as torch computes it (no graph: such Tensors
    never require grad): relu keeps the dtype, sigmoid and tanh give float32; relu of bool
    and the other activations are errors of torch's types."""
    name = "gelu" if act == _Act.gelu_tanh else act.name
    if act == _Act.relu and xd.dtype.kind != "b":
        return _wrap(np.array(np.maximum(xd, xd.dtype.type(0))))  # 0-d: not NumPy's scalar
    if act == _Act.sigmoid or act == _Act.tanh:
        return activation(_wrap(xd.astype(_F32)), act)
    if act == _Act.relu:
        raise RuntimeError("relu(): Boolean inputs not supported for relu")
    raise NotImplementedError(_not_float(name, xd.dtype))


def in_place(x: Tensor, op: Any, *args: Any) -> Tensor:
    """``op(x, *args)`` for ``inplace=True``: written into ``x`` when ``x`` is an
    intermediate result on the graph (as ``x.clamp_`` is), as in PyTorch. A leaf (a
    model's input, a Tensor wrapping the caller's array in ``fit``/``predict``, anything
    under ``no_grad``) keeps its values and gets a new Tensor: the caller's data stays
    as it was, and the traced step and the ONNX export, which make the input a leaf that
    requires grad, still run (PyTorch writes into a leaf that does not require grad and
    refuses one that does)."""
    if x.grad_fn is None:
        return op(x, *args)
    from .ops_shape import inplace_unary
    return inplace_unary(x, op, *args)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    if inplace and isinstance(input, Tensor):
        return in_place(input, relu)
    return activation(input, _Act.relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    if inplace and isinstance(input, Tensor):
        return in_place(input, leaky_relu, negative_slope)
    if type(negative_slope) is not float:
        negative_slope = check_number(negative_slope, "leaky_relu()", "negative_slope")
    return activation(input, _Act.leaky_relu, negative_slope)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    return activation(input, _Act.sigmoid)


# -- element-wise activations computed in NumPy (no C++ kernel): SiLU, ELU, Softplus --
# Each is (forward f(x, *params), derivative f'(x, *params)), in the input's float dtype.
def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _silu(x: np.ndarray) -> np.ndarray:
    return np.asarray(x * _np_sigmoid(x), x.dtype)


def _silu_grad(x: np.ndarray) -> np.ndarray:
    s = _np_sigmoid(x)
    return s * (1 + x * (1 - s))


def _elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


def _elu_grad(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


def _softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    z = beta * x
    soft = np.log1p(np.exp(np.minimum(z, threshold))) / beta
    return np.where(z > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_grad(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    z = beta * x
    return np.where(z > threshold, 1, _np_sigmoid(z)).astype(x.dtype, copy=False)


# name -> (f(x, *params), f'(x, *params)); derivatives read only the input, so an in-place
# change of the output after the forward cannot corrupt the backward.
_NUMPY_ACTIVATIONS = {"silu": (_silu, _silu_grad), "elu": (_elu, _elu_grad),
                      "softplus": (_softplus, _softplus_grad)}
_NUMPY_ACT_NODES = {"silu": "SiluBackward0", "elu": "EluBackward0",
                    "softplus": "SoftplusBackward0"}  # PyTorch's node names


def _np_activation_vjp(node, g):
    name, params, xd = node.saved
    return (g * _NUMPY_ACTIVATIONS[name][1](xd, *params),)


def numpy_activation(x: Any, name: str, *params: float) -> Tensor:
    """The element-wise activation ``name`` of :data:`_NUMPY_ACTIVATIONS` (float math in
    NumPy, in the input's float dtype)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    xd = x._data
    if xd.dtype.kind != "f":  # torch: NotImplementedError (a RuntimeError)
        raise NotImplementedError(_not_float(name, xd.dtype))
    y = _NUMPY_ACTIVATIONS[name][0](xd, *params)
    if _state.enabled and x._rg:
        return named(_result(y, _np_activation_vjp, (x,), (name, params, xd), (stamp(x),)),
                     _NUMPY_ACT_NODES[name])
    return _result(y, None, ())


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """:math:`x \\sigma(x)` (also called swish)."""
    return numpy_activation(input, "silu")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """:math:`x` for :math:`x > 0`, else :math:`\\alpha (e^x - 1)`."""
    return numpy_activation(input, "elu", float(alpha))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """:math:`\\log(1 + e^{\\beta x}) / \\beta`, and :math:`x` where :math:`\\beta x` >
    ``threshold``."""
    return numpy_activation(input, "softplus", float(beta), float(threshold))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return activation(input, _Act.tanh)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    x = input
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    return activation(x, _Act.gelu if approximate == "none" else _Act.gelu_tanh)


# -- softmax -------------------------------------------------------------------
def _rows(d: np.ndarray, axis: int) -> tuple[np.ndarray, tuple[int, ...]]:
    moved = np.moveaxis(d, axis, -1)
    return np.ascontiguousarray(moved).reshape(-1, moved.shape[-1]), moved.shape


def _unrows(a2: np.ndarray, moved_shape: tuple[int, ...], axis: int) -> np.ndarray:
    return np.moveaxis(a2.reshape(moved_shape), -1, axis)


def _softmax_vjp(node, g):
    axis, y = node.saved
    if y.dtype == _F32:
        y2, moved = _rows(y, axis)
        g2, _ = _rows(g.astype(_F32, copy=False), axis)
        dx2 = np.empty_like(g2)
        _core.softmax_backward(dx2, g2, y2)
        return (_unrows(dx2, moved, axis),)
    return (y * (g - np.sum(g * y, axis=axis, keepdims=True)),)


def _empty_vjp(node, g):
    return (g,)


def _empty_like_result(x: Tensor) -> Tensor:
    """The (empty) result of a normalisation over a Tensor with no elements (of its dtype,
    integers included, as torch)."""
    y = np.empty(x._data.shape, x._data.dtype)
    if _state.enabled and x._rg:
        return _result(y, _empty_vjp, (x,))
    return _result(y, None, ())


def _dim_of(x: Tensor, dim: Any, func: str) -> int:
    if dim is None:
        dim = 0 if x._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return _check_dim(dim, x._data.ndim, func)


def softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """:math:`e^{x_i} / \\sum_j e^{x_j}` along ``dim``, by the softmax kernel for float32."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    xd = x._data
    if xd.ndim == 0:  # one element: its own dimension
        from .ops_shape import reshape
        return reshape(softmax(reshape(x, 1), 0), ())
    axis = _dim_of(x, dim, "softmax")
    if xd.size == 0:  # nothing to normalise: an empty result, as torch
        return _empty_like_result(x)
    _needs_float(x, "softmax")  # NumPy's formula gave float64 for integers
    if xd.dtype == _F32:
        x2, moved = _rows(xd, axis)
        y2 = np.empty_like(x2)
        _core.softmax_forward(y2, x2)
        y = np.ascontiguousarray(_unrows(y2, moved, axis))
    else:
        e = np.exp(xd - np.max(xd, axis=axis, keepdims=True))
        y = e / np.sum(e, axis=axis, keepdims=True)
    if _state.enabled and x._rg:
        out = _result(y, _softmax_vjp, (x,), (axis, y))
        out.grad_fn.stamps = (stamp(out),)
        return out
    return _result(y, None, ())


def _log_softmax_vjp(node, g):
    axis, y = node.saved
    return (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True),)


def log_softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    xd = x._data
    if xd.ndim == 0:  # one element: its own dimension
        from .ops_shape import reshape
        return reshape(log_softmax(reshape(x, 1), 0), ())
    axis = _dim_of(x, dim, "log_softmax")
    if xd.size == 0:
        return _empty_like_result(x)
    _needs_float(x, "log_softmax")
    with np.errstate(over="ignore"):  # -3e38 - 3e38 = -inf, as torch (silently)
        shifted = xd - np.max(xd, axis=axis, keepdims=True)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    if _state.enabled and x._rg:
        out = _result(y, _log_softmax_vjp, (x,), (axis, y))
        out.grad_fn.stamps = (stamp(out),)
        return out
    return _result(y, None, ())


# -- dropout -------------------------------------------------------------------
def _dropout_vjp(node, g):
    p, seed = node.saved
    g = _contiguous(g, _F32)
    dx = np.empty_like(g)
    _core.dropout_backward(dx.reshape(-1), g.reshape(-1), p, seed)
    return (dx,)


def _mask_vjp(node, g):
    return (g * node.saved[0],)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Inverted dropout: zeroes each element with probability ``p`` and scales the rest
    by ``1 / (1 - p)`` in training; the identity otherwise."""
    x = input
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if inplace and isinstance(x, Tensor):
        return in_place(x, dropout, p, training) if training and p > 0.0 else x
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if not training or p == 0.0:
        return x
    xd = x._data
    if xd.dtype.kind != "f" and p < 1.0:  # scaled values do not fit: torch's error
        raise RuntimeError(f"dropout(): result type float32 can't be cast to the desired "
                           f"output type {xd.dtype}; convert the input with .float() first")
    if p == 1.0 or xd.dtype != _F32:
        from .._random import default_generator
        keep = (default_generator().random(xd.shape) >= p) if p < 1.0 else np.zeros(xd.shape)
        mask = (keep / (1.0 - p) if p < 1.0 else keep).astype(xd.dtype)
        y = xd * mask
        if _state.enabled and x._rg:  # PyTorch's dropout on the CPU: a product
            return named(_result(y, _mask_vjp, (x,), (mask,)), "MulBackward0")
        return _result(y, None, ())
    xd = _contiguous(xd)
    seed = next_seed()
    if _state.trace is not None:  # a traced step draws its seeds in this order
        _state.trace.dropouts.append(seed)
    y = np.empty_like(xd)
    _core.dropout_forward(y.reshape(-1), xd.reshape(-1), float(p), seed)
    if _state.enabled and x._rg:
        return named(_result(y, _dropout_vjp, (x,), (float(p), seed)), "MulBackward0")
    return _result(y, None, ())


# -- losses --------------------------------------------------------------------
def _torch_node(name: str) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """Decorates a loss so that its result's node prints as PyTorch's ``name``."""
    def decorate(loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
        @functools.wraps(loss)
        def labelled(*args: Any, **kwargs: Any) -> Tensor:
            return named(loss(*args, **kwargs), name)
        return labelled
    return decorate


def _check_reduction(reduction: str, func: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{func}(): reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")


def _scalar_vjp(node, g):
    grad = node.saved[0]
    return (grad * g if g.ndim == 0 and g != 1 else grad,) + (None,) * (len(node.inputs) - 1)


def _kernel_loss(pred: Tensor, target: np.ndarray, reduction: str, fwd: Any, bwd: Any) -> Tensor:
    pd = _contiguous(pred._data)
    td = _contiguous(target, _F32)
    r = getattr(_core.Reduction, reduction)
    try:
        value = np.asarray(fwd(pd.reshape(-1), td.reshape(-1), r), _F32)
    except ValueError as e:  # BCE's probabilities outside [0, 1]: torch's RuntimeError too
        raise InputError(str(e)) from None
    if _state.enabled and pred._rg:
        grad = np.empty_like(pd)
        bwd(grad.reshape(-1), pd.reshape(-1), td.reshape(-1), r)
        return _result(value, _scalar_vjp, (pred,), (grad,), (stamp(pred),))
    return _result(value, None, ())


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair(input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(target)
    return x, t


@_torch_node("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or summed) squared error; shapes broadcast as in PyTorch."""
    _check_reduction(reduction, "mse_loss")
    x, t = _pair(input, target)
    if (reduction != "none" and x.shape == t.shape and x.dtype == _F32 and not t._rg
            and x._data.size):
        return _kernel_loss(x, t._data, reduction, _core.mse_forward, _core.mse_backward)
    if x.shape != t.shape:
        import warnings
        warnings.warn(f"Using a target size ({tuple(t.shape)}) that is different to the input "
                      f"size ({tuple(x.shape)}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=2)
    d = x - t
    return _reduce(d * d, reduction)


def _reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _warn_broadcast(x: Tensor, t: Tensor) -> None:
    if x.shape != t.shape:
        import warnings
        warnings.warn(f"Using a target size ({tuple(t.shape)}) that is different to the input "
                      f"size ({tuple(x.shape)}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or summed) absolute error."""
    _check_reduction(reduction, "l1_loss")
    x, t = _pair(input, target)
    _warn_broadcast(x, t)
    return _reduce_loss((x - t).abs(), reduction)


def _quadratic_part(d: Tensor, inside: Tensor) -> Tensor:
    """``d`` where ``inside``, else 0: the quadratic branch then never squares a huge or
    infinite difference (whose 0 * inf would make the other branch's gradient NaN)."""
    from .ops_shape import where
    return where(inside, d, _wrap(np.zeros((), d._data.dtype)))


@_torch_node("SmoothL1LossBackward0")
def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """:math:`0.5 d^2 / \\beta` where :math:`|d| < \\beta`, else :math:`|d| - 0.5 \\beta`."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss(): beta must be >= 0, got {beta}")
    x, t = _pair(input, target)
    _warn_broadcast(x, t)
    d = x - t
    if beta == 0:
        return _reduce_loss(d.abs(), reduction)
    from .ops_shape import where
    ad = d.abs()
    inside = ad < beta
    dq = _quadratic_part(d, inside)
    return _reduce_loss(where(inside, 0.5 * dq * dq / beta, ad - 0.5 * beta), reduction)


@_torch_node("HuberLossBackward0")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """:math:`0.5 d^2` where :math:`|d| \\le \\delta`, else :math:`\\delta (|d| - 0.5 \\delta)`."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss(): delta must be > 0, got {delta}")
    x, t = _pair(input, target)
    _warn_broadcast(x, t)
    from .ops_shape import where
    d = x - t
    if delta == float("inf"):  # all quadratic: the linear branch's gradient would be inf * 0
        return _reduce_loss(0.5 * d * d, reduction)
    ad = d.abs()
    inside = ad <= delta
    dq = _quadratic_part(d, inside)
    return _reduce_loss(where(inside, 0.5 * dq * dq, delta * (ad - 0.5 * delta)), reduction)


@_torch_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities (each log clamped at -100, as in PyTorch)."""
    _check_reduction(reduction, "binary_cross_entropy")
    x, t = _pair(input, target)
    _needs_float(x, "binary_cross_entropy")  # not "input out of [0, 1]" for integers
    if x.shape != t.shape:
        raise ValueError(f"Using a target size ({tuple(t.shape)}) that is different to the "
                         f"input size ({tuple(x.shape)}) is deprecated. Please ensure they "
                         "have the same size.")
    if (weight is None and reduction != "none" and x.dtype == _F32 and not t._rg
            and x._data.size):
        return _kernel_loss(x, t._data, reduction, _core.bce_forward, _core.bce_backward)
    xd = x._data
    if not np.all((xd >= 0) & (xd <= 1)):
        raise InputError("all elements of input should be between 0 and 1")
    td = t._data
    if not np.all((td >= 0) & (td <= 1)):
        raise InputError("all elements of target should be between 0 and 1")
    loss = _bce_terms(x, t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _bce_terms_vjp(node, g):
    xd, td, log_p, log_q = node.saved
    x_in, t_in = node.inputs
    gx = gt = None
    if x_in is not None:  # PyTorch's (x - t) / max(x (1 - x), 1e-12): finite at 0 and 1
        gx = g * (xd - td) / np.maximum(xd * (1 - xd), np.asarray(1e-12, xd.dtype))
        gx = gx.astype(xd.dtype, copy=False)
    if t_in is not None:
        gt = (g * (log_q - log_p)).astype(t_in._data.dtype, copy=False)
        if gt.shape != t_in._data.shape:
            gt = unbroadcast(gt, t_in._data.shape)
    return gx, gt


def _bce_terms(x: Tensor, t: Tensor) -> Tensor:
    """Per-element ``-(t log x + (1 - t) log(1 - x))``, each log clamped at -100, with
    PyTorch's gradient (the composed ops gave 0/0 = NaN where x is 0 or 1)."""
    xd, td = x._data, t._data
    if td.shape != xd.shape:
        td = np.broadcast_to(td, xd.shape)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(xd), -100).astype(xd.dtype, copy=False)
        log_q = np.maximum(np.log1p(-xd), -100).astype(xd.dtype, copy=False)
    value = -(td * log_p + (1 - td) * log_q).astype(xd.dtype, copy=False)
    rx = x if x._rg else None
    rt = t if t._rg else None
    if _state.enabled and (rx is not None or rt is not None):
        return _result(value, _bce_terms_vjp, (rx, rt), (xd, td, log_p, log_q))
    return _result(value, None, ())


@_torch_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy on logits, computed stably: ``max(z, 0) - z t + log1p(e^-|z|)``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x, t = _pair(input, target)
    _needs_float(x, "binary_cross_entropy_with_logits")  # gave a float32 loss of integers
    if x.shape != t.shape:
        raise ValueError(f"Target size ({tuple(t.shape)}) must be the same as input size "
                         f"({tuple(x.shape)})")
    if (weight is None and pos_weight is None and reduction != "none" and x.dtype == _F32
            and t._data.dtype != np.float64 and not t._rg and x._data.size):
        return _kernel_loss(x, t._data, reduction, _core.bce_with_logits_forward,
                            _core.bce_with_logits_backward)
    grads_elsewhere = t._rg or any(isinstance(v, Tensor) and v._rg
                                   for v in (weight, pos_weight))
    if not grads_elsewhere:
        return _reduce(_bce_logits_elements(x, t, weight, pos_weight), reduction)
    from . import ops_math  # target, weight or pos_weight on the graph: the composite
    log_sig = -(ops_math.maximum(-x, 0) + ops_math.log1p(ops_math.exp(-ops_math.abs(x))))
    log_one_minus = log_sig - x
    pw = 1 if pos_weight is None else pos_weight
    loss = -(pw * t * log_sig + (1 - t) * log_one_minus)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _bce_logits_elements(x: Tensor, t: Tensor, weight: Any, pos_weight: Any) -> Tensor:
    r"""The per-element loss of ``binary_cross_entropy_with_logits`` with PyTorch's value and
    gradient, for weights, pos_weight or ``reduction="none"``:

    .. math::
        \ell = w \left((1 - t) x - l_w \log\sigma(x)\right), \quad
        \partial \ell / \partial x = w \left(l_w \sigma(x) - p t\right), \quad
        l_w = 1 + (p - 1) t

    (:math:`p` the pos_weight, 1 without). Through autograd's composite the gradient of
    a negative logit came out as :math:`1 - (1 - \sigma(x))`: 17% off at -15 and 0 from
    -17 on, where :math:`\sigma(x)` itself is exact."""
    xd = x._data
    pw, w = (None if v is None else np.asarray(v._data if isinstance(v, Tensor) else v)
             for v in (pos_weight, weight))
    for name, v in (("weight", w), ("pos_weight", pw)):
        try:
            fits = v is None or np.broadcast_shapes(v.shape, xd.shape) == xd.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"binary_cross_entropy_with_logits(): {name} of shape "
                             f"{shape_str(v.shape)} does not broadcast to the input's shape "
                             f"{shape_str(xd.shape)}")
    # torch's result dtype: the input's and the target's (a float64 target makes a float64
    # loss); the weights are cast to it
    dtype = np.result_type(xd.dtype, t._data.dtype)
    dtype = dtype if dtype.kind == "f" else xd.dtype
    xd = xd.astype(dtype, copy=False)
    td = t._data.astype(dtype, copy=False)
    pw, w = (None if v is None else v.astype(dtype, copy=False) for v in (pw, w))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(-np.abs(xd))  # never exponentiates a positive number
        log_sig = np.minimum(xd, 0) - np.log1p(e)
        lw = 1 if pw is None else 1 + (pw - 1) * td
        loss = (1 - td) * xd - lw * log_sig
        if w is not None:
            loss = loss * w
        loss = np.asarray(loss, dtype)
        if not (_state.enabled and x._rg):
            return _result(loss, None, ())
        sig = np.where(xd >= 0, 1 / (1 + e), e / (1 + e))
        dx = lw * sig - (td if pw is None else pw * td)
        if w is not None:
            dx = dx * w
    dx = np.broadcast_to(np.asarray(dx, x._data.dtype), xd.shape)
    return named(_result(loss, _bce_logits_vjp, (x,), (dx,)),
                 "BinaryCrossEntropyWithLogitsBackward0")


def _bce_logits_vjp(node, g):
    return (node.saved[0] * g,)


def _labels(target: Any, n: int, func: str) -> np.ndarray:
    td = target._data if isinstance(target, Tensor) else np.asarray(target)
    if td.dtype.kind not in "iu":
        raise RuntimeError(f"{func}(): expected target of integer class indices (int64), got "
                           f"{td.dtype}")
    if td.dtype == np.uint64 and td.size and td.max() > np.iinfo(np.int64).max:
        # the int64 cast would wrap it to a negative label and report that value instead
        raise IndexError(f"{func}(): Target {td.max()} is out of bounds for {n} classes")
    return td.astype(np.int64, copy=False)


def _classes_last(x: Tensor, td: np.ndarray, func: str) -> tuple[Tensor, np.ndarray]:
    r"""PyTorch's K-dimensional case: logits :math:`(N, C, d_1, ..., d_K)` and class indices
    :math:`(N, d_1, ..., d_K)` become :math:`(N d_1 \cdots d_K, C)` and
    :math:`(N d_1 \cdots d_K,)`, the loss of each position one row (the mean reduction then
    divides by every position's weight, as torch's does)."""
    want = x.shape[:1] + x.shape[2:]
    if td.shape != want:
        raise ShapeError(f"{func}(): target shape {shape_str(td.shape)} must be (N, d1, ..., dK) "
                         f"= {shape_str(want)} for input shape {shape_str(x.shape)}")
    from .ops_shape import permute
    rows = permute(x, 0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])
    return rows, td.reshape(-1)


def _ce_vjp(node, g):
    grad = node.saved[0]
    return ((grad * g).astype(_F32, copy=False) if g != 1 else grad,)


def cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    r"""Softmax cross-entropy of logits :math:`(N, C)` against class indices :math:`(N,)`,
    or of :math:`(N, C, d_1, ..., d_K)` against :math:`(N, d_1, ..., d_K)` (each position a
    sample, as PyTorch), or against class probabilities of the input's shape.

    Value and gradient come from one pass of the fused kernel for float32 logits
    and the ``"mean"``/``"sum"`` reductions; class-probability targets, ``weight``,
    ``ignore_index`` hits and ``reduction="none"`` use ``log_softmax`` + ``nll_loss``.
    """
    _check_reduction(reduction, "cross_entropy")
    x = input if isinstance(input, Tensor) else Tensor(input)
    _needs_float(x, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    td = target._data if isinstance(target, Tensor) else np.asarray(target)
    if td.dtype.kind == "f":  # class probabilities
        if td.shape != x.shape:
            raise ShapeError(f"cross_entropy(): probability target shape {shape_str(td.shape)} "
                             f"must equal input shape {shape_str(x.shape)} (a float target "
                             "holds class probabilities; class indices are integers)")
        t = target if isinstance(target, Tensor) else Tensor(td)
        c = x.shape[1] if x.ndim > 1 else x.shape[0]
        if label_smoothing:
            t = t * (1 - label_smoothing) + label_smoothing / c
        loss = -(log_softmax(x, 1 if x.ndim > 1 else 0) * t).sum(1 if x.ndim > 1 else 0)
        if weight is not None:
            raise NotImplementedError("cross_entropy(): weight with probability targets is "
                                      "not supported by fastnn")
        return _reduce(loss, reduction)
    if x.ndim == 1:  # one sample
        out = cross_entropy(x.unsqueeze(0), _wrap(np.asarray(td).reshape(1)), weight,
                            ignore_index, reduction, label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    if x.ndim > 2:  # (N, C, d1, ..., dK): one row per position
        rows, flat = _classes_last(x, td, "cross_entropy")
        out = cross_entropy(rows, _wrap(flat), weight, ignore_index, reduction, label_smoothing)
        return out.reshape(td.shape) if reduction == "none" else out
    if x.ndim != 2:
        raise ShapeError(f"cross_entropy(): input must be (N, C) or (N, C, d1, ..., dK) "
                         f"logits, got {shape_str(x.shape)}")
    labels = _labels(td, x.shape[1], "cross_entropy")
    if labels.shape != x.shape[:1]:
        raise ShapeError(f"cross_entropy(): target shape {shape_str(labels.shape)} must be "
                         f"(N,) = ({x.shape[0]},) for input shape {shape_str(x.shape)}")
    _check_weight(weight, x.shape[1], "cross_entropy")
    if (x.dtype == _F32 and weight is None and reduction != "none" and x.shape[0] > 0
            and not np.any(labels == ignore_index)):
        logits = np.ascontiguousarray(x._data)
        grad = np.empty_like(logits)
        value = _core.cross_entropy_forward_backward(grad, logits, labels,
                                                     float(label_smoothing),
                                                     getattr(_core.Reduction, reduction))
        value = np.asarray(value, _F32)
        if _state.enabled and x._rg:  # the gradient is computed: x is not read again
            return named(_result(value, _ce_vjp, (x,), (grad,)),
                         "AddBackward0" if label_smoothing else "NllLossBackward0")
        return _result(value, None, ())
    logp = log_softmax(x, 1)
    nll = nll_loss(logp, _wrap(labels), weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    c = x.shape[1]
    w = 1 if weight is None else Tensor(weight) if not isinstance(weight, Tensor) else weight
    kept = labels != ignore_index
    valid = _wrap(kept.astype(x._data.dtype))
    if not kept.all():  # an ignored row's log-probabilities (-inf, or huge) never count:
        from .ops_shape import where  # 0 * (-inf) made the whole loss NaN
        logp = where(_wrap(kept[:, None]), logp, 0.0)
    smooth = -(logp * w).sum(1) * valid / c
    if reduction == "mean":
        denom = valid.sum() if weight is None else (w[_wrap(np.where(
            labels == ignore_index, 0, labels))] * valid).sum()
        if float(denom._data) == 0:  # every target ignored: NaN loss, zero gradient (torch)
            return nll
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * label_smoothing


def _check_weight(weight: Any, classes: int, func: str) -> None:
    """A class-weight vector must have one entry per class, as PyTorch requires."""
    if weight is None:
        return
    shape = tuple(weight.shape) if hasattr(weight, "shape") else np.shape(weight)
    if shape != (classes,):
        raise ShapeError(f"{func}(): weight tensor should be defined either for all {classes} "
                         f"classes or no classes but got weight tensor of shape: "
                         f"{list(shape)}")


def _nll_vjp(node, g):
    shape, rows, labels, scale = node.saved
    out = np.zeros(shape, _F32 if g.dtype == _F32 else g.dtype)
    gg = g if g.ndim == 0 else g[rows]
    out[rows, labels[rows]] = -gg * scale
    return (out,)


@_torch_node("NllLossBackward0")
def nll_loss(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities :math:`(N, C)` at class indices :math:`(N,)`,
    or of :math:`(N, C, d_1, ..., d_K)` at :math:`(N, d_1, ..., d_K)` (PyTorch's K-dimensional
    case)."""
    _check_reduction(reduction, "nll_loss")
    x = input if isinstance(input, Tensor) else Tensor(input)
    _needs_float(x, "nll_loss")
    if x.ndim == 1:  # one sample, a 0-d target: as a batch of one, as cross_entropy does
        td = target._data if isinstance(target, Tensor) else np.asarray(target)
        out = nll_loss(x.unsqueeze(0), _wrap(np.asarray(td).reshape(1)), weight,
                       ignore_index, reduction)
        return out.squeeze(0) if reduction == "none" else out
    if x.ndim > 2:  # (N, C, d1, ..., dK): one row per position
        td = target._data if isinstance(target, Tensor) else np.asarray(target)
        rows, flat = _classes_last(x, td, "nll_loss")
        out = nll_loss(rows, _wrap(flat), weight, ignore_index, reduction)
        return out.reshape(td.shape) if reduction == "none" else out
    if x.ndim != 2:
        raise ShapeError(f"nll_loss(): input must be (N, C) or (N, C, d1, ..., dK), got "
                         f"{shape_str(x.shape)}")
    _check_weight(weight, x.shape[1], "nll_loss")
    labels = _labels(target, x.shape[1], "nll_loss")
    if labels.shape != x.shape[:1]:
        raise ShapeError(f"nll_loss(): target shape {shape_str(labels.shape)} must be (N,) = "
                         f"({x.shape[0]},) for input shape {shape_str(x.shape)}")
    valid = labels != ignore_index
    bad = valid & ((labels < 0) | (labels >= x.shape[1]))
    if np.any(bad):
        raise IndexError(f"nll_loss(): Target {labels[bad][0]} is out of bounds for "
                         f"{x.shape[1]} classes")
    rows = np.nonzero(valid)[0]
    w = np.ones(x.shape[1], x.dtype) if weight is None else np.asarray(
        weight._data if isinstance(weight, Tensor) else weight, x.dtype)
    wi = np.zeros(x.shape[0], x.dtype)
    wi[rows] = w[labels[rows]]
    picked = np.zeros(x.shape[0], x.dtype)
    picked[rows] = x._data[rows, labels[rows]]
    per = -picked * wi
    if reduction == "none":
        value, scale = per, wi[rows]
    elif reduction == "sum":
        value, scale = np.asarray(per.sum(), x.dtype), wi[rows]
    else:
        total = wi.sum()
        with np.errstate(divide="ignore", invalid="ignore"):  # every target ignored: NaN,
            value = np.asarray(per.sum() / total, x.dtype)   # silently, as torch
            scale = wi[rows] / total
    if _state.enabled and x._rg:
        return _result(value, _nll_vjp, (x,), (x.shape, rows, labels, scale))
    return _result(value, None, ())
