"""Losses on Tensors, PyTorch's ``torch.nn.functional`` losses: MSE, L1, smooth L1, Huber,
binary cross-entropy (on probabilities and on logits), cross-entropy and NLL.

Float32 ``"mean"`` / ``"sum"`` losses run the fused C++ kernels, value and gradient in
one pass; weights, ``reduction="none"``, ignored targets and float64 Tensors use
autograd's composite of the same maths (tested against torch).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from .._validation import shape_str
from .errors import InputError, ShapeError
from .grad_mode import _state
from .graph import unbroadcast
from .ops_nn import _F32, _contiguous, _needs_float, log_softmax, number_arg, tensor_arg
from .ops_shape import _warn_user
from .tensor import Tensor, _result, _wrap, named, stamp

_REDUCTIONS = ("mean", "sum", "none")


def _torch_node(name: str) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """Decorates a loss so that its result's node prints as PyTorch's ``name``."""
    def decorate(loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
        @functools.wraps(loss)
        def labelled(*args: Any, **kwargs: Any) -> Tensor:
            return named(loss(*args, **kwargs), name)
        return labelled
    return decorate


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str, func: str) -> str:
    """``reduction``, or PyTorch's reading of its deprecated ``size_average`` / ``reduce``
    arguments where either is given (with its warning): both true (or None) "mean",
    ``reduce`` alone true "sum", else "none". They hold their slots in the signatures so
    that positional arguments land where PyTorch puts them."""
    if size_average is None and reduce is None:
        _check_reduction(reduction, func)
        return reduction
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if isinstance(value, str):  # an older call's reduction, one slot too early
            raise TypeError(f"{func}(): argument '{name}' must be a bool or None, got "
                            f"{value!r} (pass the reduction as reduction={value!r})")
    size_average = True if size_average is None else bool(size_average)
    reduce = True if reduce is None else bool(reduce)
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    _warn_user(f"size_average and reduce args will be deprecated, please use "
               f"reduction='{legacy}' instead.")
    return legacy


def _checked_index(ignore_index: Any, func: str) -> int:
    """``ignore_index`` as an int (TypeError otherwise, as torch's)."""
    try:
        return operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"{func}(): argument 'ignore_index' must be an int, got "
                        f"{type(ignore_index).__name__}") from None


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
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
             reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mean (or summed) squared error; shapes broadcast as in PyTorch (``size_average`` /
    ``reduce``: PyTorch's deprecated form of ``reduction``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "mse_loss")
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


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
            reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mean (or summed) absolute error (``size_average`` / ``reduce``: PyTorch's deprecated
    form of ``reduction``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "l1_loss")
    x, t = _pair(input, target)
    _warn_broadcast(x, t)
    return _reduce_loss((x - t).abs(), reduction)


def _quadratic_part(d: Tensor, inside: Tensor) -> Tensor:
    """``d`` where ``inside``, else 0: the quadratic branch then never squares a huge or
    infinite difference (whose 0 * inf would make the other branch's gradient NaN)."""
    from .ops_shape import where
    return where(inside, d, _wrap(np.zeros((), d._data.dtype)))


@_torch_node("SmoothL1LossBackward0")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """:math:`0.5 d^2 / \\beta` where :math:`|d| < \\beta`, else :math:`|d| - 0.5 \\beta`
    (``size_average`` / ``reduce``: PyTorch's deprecated form of ``reduction``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
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


def _check_fits_input(func: str, name: str, value: Any, shape: tuple[int, ...]) -> None:
    """A weight must broadcast to the input's shape without enlarging it (PyTorch raises
    where the broadcast result would not fit the loss's elements)."""
    vshape = np.shape(value._data if isinstance(value, Tensor) else value)
    try:
        fits = np.broadcast_shapes(vshape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{func}(): {name} of shape {shape_str(vshape)} does not broadcast "
                         f"to the input's shape {shape_str(shape)}")


@_torch_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Any = None,  # noqa: A002
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities (each log clamped at -100, as in PyTorch;
    ``size_average`` / ``reduce``: PyTorch's deprecated form of ``reduction``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
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
        _check_fits_input("binary_cross_entropy", "weight", weight, x.shape)
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
                                     weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy on logits, computed stably: ``max(z, 0) - z t + log1p(e^-|z|)``
    (``size_average`` / ``reduce``: PyTorch's deprecated form of ``reduction``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction,
                                  "binary_cross_entropy_with_logits")
    x, t = _pair(input, target)
    _needs_float(x, "binary_cross_entropy_with_logits")  # gave a float32 loss of integers
    if x.shape != t.shape:
        raise ValueError(f"Target size ({tuple(t.shape)}) must be the same as input size "
                         f"({tuple(x.shape)})")
    if (weight is None and pos_weight is None and reduction != "none" and x.dtype == _F32
            and t._data.dtype != np.float64 and not t._rg and x._data.size):
        return _kernel_loss(x, t._data, reduction, _core.bce_with_logits_forward,
                            _core.bce_with_logits_backward)
    for name, v in (("weight", weight), ("pos_weight", pos_weight)):
        if v is not None:
            _check_fits_input("binary_cross_entropy_with_logits", name, v, x.shape)
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
    return td.astype(np.int64)  # a copy: the caller may refill the target before backward


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
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    r"""Softmax cross-entropy of logits :math:`(N, C)` against class indices :math:`(N,)`,
    or of :math:`(N, C, d_1, ..., d_K)` against :math:`(N, d_1, ..., d_K)` (each position a
    sample, as PyTorch), or against class probabilities of the input's shape.

    Value and gradient come from one pass of the fused kernel for float32 logits
    and the ``"mean"``/``"sum"`` reductions; class-probability targets, ``weight``,
    ``ignore_index`` hits and ``reduction="none"`` use ``log_softmax`` + ``nll_loss``.
    """
    ignore_index = _checked_index(ignore_index, "cross_entropy")
    reduction = _legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    x = tensor_arg(input, "cross_entropy")
    _needs_float(x, "cross_entropy")
    label_smoothing = number_arg(label_smoothing, "cross_entropy", "label_smoothing")
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
        if weight is not None:  # w_c t_ic: the mean still divides by the count, as torch
            w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight, x.dtype))
            if tuple(w.shape) != (c,):
                raise ShapeError(f"cross_entropy(): weight must have shape ({c},) (one per "
                                 f"class), got {shape_str(tuple(w.shape))}")
            t = t * w.reshape((1, c) + (1,) * (x.ndim - 2) if x.ndim > 1 else (c,))
        loss = -(log_softmax(x, 1 if x.ndim > 1 else 0) * t).sum(1 if x.ndim > 1 else 0)
        return _reduce(loss, reduction)
    if x.ndim == 1:  # one sample: a 0-d or one-element 1-D target, as torch
        if td.ndim > 1:
            raise ShapeError("cross_entropy(): 0D or 1D target tensor expected, multi-target "
                             f"not supported (target shape {shape_str(td.shape)})")
        if td.size != 1:
            raise ShapeError(f"cross_entropy(): For 1D input, 1D target must have size 1, but "
                             f"got target size: {td.size}")
        out = cross_entropy(x.unsqueeze(0), _wrap(np.asarray(td).reshape(1)), weight,
                            ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    if x.ndim > 2:  # (N, C, d1, ..., dK): one row per position
        rows, flat = _classes_last(x, td, "cross_entropy")
        out = cross_entropy(rows, _wrap(flat), weight, ignore_index=ignore_index,
                            reduction=reduction, label_smoothing=label_smoothing)
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
    nll = nll_loss(logp, _wrap(labels), weight, ignore_index=ignore_index, reduction=reduction)
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
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities :math:`(N, C)` at class indices :math:`(N,)`,
    or of :math:`(N, C, d_1, ..., d_K)` at :math:`(N, d_1, ..., d_K)` (PyTorch's K-dimensional
    case)."""
    ignore_index = _checked_index(ignore_index, "nll_loss")
    reduction = _legacy_reduction(size_average, reduce, reduction, "nll_loss")
    x = tensor_arg(input, "nll_loss")
    _needs_float(x, "nll_loss")
    if x.ndim == 1:  # one sample, a 0-d target: as a batch of one, as cross_entropy does
        td = target._data if isinstance(target, Tensor) else np.asarray(target)
        out = nll_loss(x.unsqueeze(0), _wrap(np.asarray(td).reshape(1)), weight,
                       ignore_index=ignore_index, reduction=reduction)
        return out.squeeze(0) if reduction == "none" else out
    if x.ndim > 2:  # (N, C, d1, ..., dK): one row per position
        td = target._data if isinstance(target, Tensor) else np.asarray(target)
        rows, flat = _classes_last(x, td, "nll_loss")
        out = nll_loss(rows, _wrap(flat), weight, ignore_index=ignore_index,
                       reduction=reduction)
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
