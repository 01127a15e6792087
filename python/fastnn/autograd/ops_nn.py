"""Neural-network ops on Tensors, each on fastnn's C++ kernels where one exists.

``matmul`` (the packed GEMM for 2-D float32 operands), ``linear`` (GEMM with the
bias fused into the write-back; its backward accumulates dW and db straight into
the parameters' gradient buffers), the activations, ``softmax``/``log_softmax``,
``dropout`` (the counter-based kernel mask); the losses are in ``ops_loss``. float64
Tensors take NumPy formulas of the same maths, since the kernels are float32.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from .. import _core
from .._random import next_seed
from .._validation import as_float32, check_number, shape_str
from .errors import DtypeError, ShapeError
from .grad_mode import _state
from .graph import unbroadcast
from .ops_math import operand
from .tensor import Tensor, _check_dim, _result, _wrap, named, stamp

_F32 = np.dtype(np.float32)
_Act = _core.Activation


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
    x = tensor_arg(input, "linear")
    weight = tensor_arg(weight, "linear", "weight")
    bias = bias if bias is None else tensor_arg(bias, "linear", "bias")
    xd, wd = x._data, weight._data
    bd = None if bias is None else bias._data
    if xd.dtype.kind == "b":  # not a number (API.md); torch refuses it too
        raise DtypeError("linear(): expected a floating point input, got bool; convert it "
                         "with .float() first")
    if xd.dtype.kind in "iu":  # converted once, as the NumPy path's layers take integers
        x = _wrap(xd.astype(_F32))  # (torch raises): a model of them takes the same arrays
        xd = x._data
    if wd.ndim not in (1, 2):
        raise ShapeError(f"linear(): weight must be 2-D (out_features, in_features) or 1-D, "
                         f"got {shape_str(wd.shape)}")
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[-1]:
        raise ShapeError(f"linear(): mat1 and mat2 shapes cannot be multiplied "
                         f"({shape_str(xd.shape)} and {shape_str(wd.shape[::-1])})")
    if not (xd.dtype == wd.dtype == _F32 and (bd is None or bd.dtype == _F32)) or \
            wd.ndim == 1 or (bd is not None and bd.shape != wd.shape[:1]):
        # other dtypes, a 1-D weight (x @ w), a bias that broadcasts: as torch, by matmul
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


def tensor_arg(value: Any, func: str, arg: str = "input") -> Tensor:
    """A functional op's array argument as a Tensor: a Tensor as it is, an array or list
    converted to float32 after the check fastnn's layers make (a bool, complex or string
    array raises ``TypeError`` naming ``func`` and ``arg``, as a bool Tensor is refused)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(as_float32(value, f"{func}()", arg))


def number_arg(value: Any, func: str, arg: str) -> float:
    """A functional op's hyper-parameter as a float: a real number or a 0-d Tensor, as
    torch takes them; anything else (a string, ``None``, a bool) raises
    ``TypeError`` naming ``func`` and ``arg``. The op checks the range."""
    if type(value) is float:
        return value
    if isinstance(value, Tensor) and value._data.ndim == 0 and value._data.dtype.kind in "fiu":
        return float(value._data.reshape(()))
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{func}(): argument '{arg}' must be a number, got "
                        f"{type(value).__name__}")
    return float(value)


def activation(x: Tensor, act: Any, param: float = 0.0) -> Tensor:
    """``act`` applied element-wise, by the activation kernel for float32."""
    if not isinstance(x, Tensor):
        x = tensor_arg(x, act.name)
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
    r""":math:`\max(x, 0)` element-wise (``inplace=True`` writes into ``input``)."""
    if inplace and isinstance(input, Tensor):
        return in_place(input, relu)
    return activation(input, _Act.relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """:math:`x` where positive, ``negative_slope * x`` elsewhere, element-wise."""
    if inplace and isinstance(input, Tensor):
        return in_place(input, leaky_relu, negative_slope)
    if type(negative_slope) is not float:
        negative_slope = check_number(negative_slope, "leaky_relu()", "negative_slope")
    return activation(input, _Act.leaky_relu, negative_slope)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """:math:`1 / (1 + e^{-x})` element-wise."""
    return activation(input, _Act.sigmoid)


# -- element-wise activations with parameters: SiLU, ELU, Softplus ----------------------
# float32 runs the C++ kernels (activation_forward / activation_backward with two
# parameters); other float dtypes the NumPy formulas below, (f(x, *params), f'(x, *params)).
def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _silu(x: np.ndarray) -> np.ndarray:
    return np.asarray(x * _np_sigmoid(x), x.dtype)


def _silu_grad(x: np.ndarray) -> np.ndarray:
    s = _np_sigmoid(x)
    return s * (1 + x * (1 - s))


def _elu(x: np.ndarray, alpha: float) -> np.ndarray:
    # x itself at +-0 and NaN, as torch
    return np.where(x < 0, alpha * np.expm1(np.minimum(x, 0)), x).astype(x.dtype, copy=False)


def _elu_grad(x: np.ndarray, alpha: float) -> np.ndarray:
    # 1 at NaN, as torch's scalar path (its mask is x <= 0)
    return np.where(x <= 0, alpha * np.exp(np.minimum(x, 0)), 1).astype(x.dtype, copy=False)


def _softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    z = beta * x
    soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta  # never overflows
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
_PARAM_ACT_KERNELS = {"silu": _Act.silu, "elu": _Act.elu, "softplus": _Act.softplus}


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _kernel_params(name: str, params: tuple[float, ...]) -> tuple[float, float]:
    """The kernel's (param, param2), which must fit float32 (torch refuses them too)."""
    for p in params:
        if abs(p) > _FLOAT32_MAX and math.isfinite(p):
            raise RuntimeError(f"{name}(): value cannot be converted to type float without "
                               f"overflow: {p}")
    return (params + (0.0, 0.0))[:2]


def param_activation_forward(name: str, x: np.ndarray, *params: float) -> np.ndarray:
    """``name``'s f(x) (of :data:`_NUMPY_ACTIVATIONS`): the C++ kernel for float32, NumPy
    otherwise."""
    if x.dtype != _F32:
        return _NUMPY_ACTIVATIONS[name][0](x, *params)
    x = _contiguous(x)
    y = np.empty(x.shape, _F32)
    p1, p2 = _kernel_params(name, params)
    _core.activation_forward(_PARAM_ACT_KERNELS[name], p1, y.reshape(-1), x.reshape(-1), p2)
    return y


def param_activation_backward(name: str, g: np.ndarray, x: np.ndarray,
                              *params: float) -> np.ndarray:
    """``g * f'(x)`` for ``name``: the C++ kernel for float32, NumPy otherwise."""
    if x.dtype != _F32:
        return g * _NUMPY_ACTIVATIONS[name][1](x, *params)
    g = _contiguous(g, _F32)
    x = _contiguous(x)
    dx = np.empty(x.shape, _F32)
    p1, p2 = _kernel_params(name, params)
    _core.activation_backward(_PARAM_ACT_KERNELS[name], p1, dx.reshape(-1), g.reshape(-1),
                              x.reshape(-1), None, p2)
    return dx


def _np_activation_vjp(node, g):
    name, params, xd = node.saved
    return (param_activation_backward(name, g, xd, *params),)


def numpy_activation(x: Any, name: str, *params: float) -> Tensor:
    """The element-wise activation ``name`` of :data:`_NUMPY_ACTIVATIONS` (the C++ kernel
    for float32, the NumPy formula in the input's dtype for other floats)."""
    x = tensor_arg(x, name)
    xd = x._data
    if xd.dtype.kind != "f":  # torch: NotImplementedError (a RuntimeError)
        raise NotImplementedError(_not_float(name, xd.dtype))
    y = param_activation_forward(name, xd, *params)
    if _state.enabled and x._rg:
        return named(_result(y, _np_activation_vjp, (x,), (name, params, xd), (stamp(x),)),
                     _NUMPY_ACT_NODES[name])
    return _result(y, None, ())


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """:math:`x \\sigma(x)` (also called swish)."""
    return numpy_activation(input, "silu")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """:math:`x` for :math:`x > 0`, else :math:`\\alpha (e^x - 1)`."""
    return numpy_activation(input, "elu", number_arg(alpha, "elu", "alpha"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """:math:`\\log(1 + e^{\\beta x}) / \\beta`, and :math:`x` where :math:`\\beta x` >
    ``threshold``."""
    return numpy_activation(input, "softplus", number_arg(beta, "softplus", "beta"),
                            number_arg(threshold, "softplus", "threshold"))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """The hyperbolic tangent element-wise."""
    return activation(input, _Act.tanh)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    r""":math:`x \Phi(x)` element-wise (``approximate="tanh"``: PyTorch's tanh form)."""
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


def _rows_forward(kernel: Any, xd: np.ndarray, axis: int) -> np.ndarray:
    """A row kernel's forward (``_core.softmax_forward``, ...) of float32 ``xd`` along
    ``axis``, as a C-contiguous array of ``xd``'s shape."""
    x2, moved = _rows(xd, axis)
    y2 = np.empty_like(x2)
    kernel(y2, x2)
    return np.ascontiguousarray(_unrows(y2, moved, axis))


def _rows_backward(kernel: Any, g: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """A row kernel's backward (``_core.softmax_backward``, ...) from ``g`` and the
    forward's float32 output ``y`` along ``axis``."""
    y2, moved = _rows(y, axis)
    g2, _ = _rows(g.astype(_F32, copy=False), axis)
    dx2 = np.empty_like(g2)
    kernel(dx2, g2, y2)
    return _unrows(dx2, moved, axis)


def _softmax_vjp(node, g):
    axis, y = node.saved
    if y.dtype == _F32:
        return (_rows_backward(_core.softmax_backward, g, y, axis),)
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
    x = tensor_arg(input, "softmax")
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
        y = _rows_forward(_core.softmax_forward, xd, axis)
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
    if y.dtype == _F32:
        return (_rows_backward(_core.log_softmax_backward, g, y, axis),)
    return (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True),)


def log_softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x = tensor_arg(input, "log_softmax")
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
    if xd.dtype == _F32:
        y = _rows_forward(_core.log_softmax_forward, xd, axis)
    else:
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
    p = number_arg(p, "dropout", "p")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if inplace and isinstance(x, Tensor):
        return in_place(x, dropout, p, training) if training and p > 0.0 else x
    x = tensor_arg(x, "dropout")
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
