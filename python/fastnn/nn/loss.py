r"""Loss modules: ``MSELoss``, ``BCELoss``, ``BCEWithLogitsLoss``, ``CrossEntropyLoss``,
``NLLLoss``, and (autograd on both paths) ``L1Loss``, ``SmoothL1Loss``, ``HuberLoss``.

A loss is a Module whose forward takes ``(pred, target)`` and returns a Python
float; ``backward(grad_out=1.0)`` then returns :math:`\partial L / \partial
\text{pred}` for that call, a float32 array of ``pred``'s shape. Values and
gradients follow PyTorch's formulas; values are summed in double with fixed
chunking, so they are bit-identical at any thread count.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np

from .. import _core
from .._validation import as_array, as_float32, check_int, check_number, shape_str
from ..autograd import enable_grad, ops_loss
from ..autograd.tensor import Tensor
from .module import Module

_REDUCTIONS = {"mean": _core.Reduction.mean, "sum": _core.Reduction.sum}


class _Loss(Module):
    """Shared state of the losses: the reduction and the last forward's inputs.

    ``reduction="none"`` (per-element or per-sample losses, as in PyTorch) and the
    options of the fused kernels do not cover (``weight``, ``ignore_index``) run on the
    NumPy path through the autograd functional (:meth:`_autograd_forward`): forward
    returns the value (an ndarray for ``"none"``) and ``backward(grad_out)`` takes a
    number, or for ``"none"`` an array of the value's shape (default: ones).
    """

    _saved_for_backward = ("_cache", "_graph", "_grad")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if not isinstance(reduction, str) or reduction not in (*_REDUCTIONS, "none"):
            raise ValueError(f"{type(self).__name__}(): argument 'reduction' must be 'mean', "
                             f"'sum' or 'none', got {reduction!r}")
        self.reduction = reduction
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self._graph: tuple[Tensor, Tensor] | None = None  # (input, loss) of _autograd_forward

    def _begin_backward(self, grad_out: Any) -> tuple[np.ndarray, np.ndarray, float]:
        name = f"{type(self).__name__}.backward()"
        if self._cache is None:
            raise RuntimeError(f"{name} called before a forward on NumPy arrays: call "
                               "loss(pred, target) first (a loss computed on fn.Tensors "
                               "returns a Tensor: call .backward() on that instead)")
        scale = check_number(grad_out, name, "grad_out")
        return self._cache[0], self._cache[1], scale

    def _autograd_forward(self, functional: Callable[..., Tensor], pred: np.ndarray,
                          target: Any, **options: Any) -> Any:
        """The NumPy path through ``functional`` on Tensors: the value, keeping the graph."""
        if isinstance(target, np.ndarray):  # the graph keeps it (labels, say): the caller
            target = target.copy()  # may change its array before backward()
        with enable_grad():  # backward() needs the graph even when called under no_grad
            x = Tensor(pred, requires_grad=True)  # a copy: pred may change before backward
            loss = functional(x, target, reduction=self.reduction, **options)
        self._graph, self._cache = (x, loss), None
        value = loss.detach().numpy()
        return value.copy() if self.reduction == "none" else float(value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # a forward that fails leaves nothing for backward() to use
        self._cache, self._graph = None, None
        if "input" in kwargs and not args:  # PyTorch's keyword: loss(input=..., target=...)
            args = (kwargs.pop("input"),)
        return super().__call__(*args, **kwargs)

    def _autograd_backward(self, grad_out: Any) -> np.ndarray:
        name = f"{type(self).__name__}.backward()"
        x, loss = self._graph
        if self.reduction == "none":
            g = np.asarray(grad_out)
            if g.dtype.kind not in "fiu":
                raise TypeError(f"{name}: argument 'grad_out' must be a number or an array of "
                                f"the loss's shape {shape_str(loss.shape)}, got "
                                f"{type(grad_out).__name__}")
            try:
                g = np.broadcast_to(g.astype(np.float32), loss.shape)
            except ValueError:
                raise ValueError(f"{name}: argument 'grad_out' of shape {shape_str(g.shape)} "
                                 f"does not fit the loss's shape {shape_str(loss.shape)}") from None
        else:
            g = np.float32(check_number(grad_out, name, "grad_out"))
        x.grad = None
        loss.backward(Tensor(np.array(g, np.float32)), retain_graph=True)
        return x.grad.numpy().copy()

    def backward(self, grad_out: Any = 1.0) -> np.ndarray:
        if self._graph is not None:
            return self._autograd_backward(grad_out)
        return self._kernel_backward(grad_out)

    def __deepcopy__(self, memo: dict) -> Any:
        """A copy without the last forward's autograd graph: its Tensors are not leaves,
        which ``copy.deepcopy`` refuses (as PyTorch's). After a forward that kept one
        (``weight=``, ``reduction="none"``, ...), the copy's ``backward()`` needs a forward
        of its own; a fused-kernel forward's cached arrays are copied."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            object.__setattr__(new, name, None if name == "_graph" else copy.deepcopy(value, memo))
        return new

    def _kernel_backward(self, grad_out: Any = 1.0) -> np.ndarray:
        """The kernel losses' backward (overridden); without a kernel, only reached
        before any forward, which ``_begin_backward`` reports."""
        self._begin_backward(grad_out)
        raise NotImplementedError(f"{type(self).__name__} has no kernel backward")

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


# |v| from which a double rounds to float32 infinity: float32's largest value plus half
# its last step (ties go to the even infinity)
_FLOAT32_OVERFLOW = 2.0**128 - 2.0**103


def _kernel_value(value: float) -> float:
    """A fused kernel's loss (accumulated in double) as a float32 value would be where it
    leaves float32's range: infinity, not a finite double that ``isfinite`` passes. The
    double is kept otherwise, the nearest to the exact loss (PyTorch's float32 terms and
    sums can overflow to inf before that: a term of 1e38 does)."""
    if abs(value) >= _FLOAT32_OVERFLOW:
        return math.copysign(math.inf, value)
    return float(value)


def _scaled(grad: np.ndarray, scale: float) -> np.ndarray:
    if scale != 1.0:
        grad *= np.float32(scale)
    return grad


def _own(a: np.ndarray, given: Any) -> np.ndarray:
    """``a``, or a copy where it is (a view of) the caller's array ``given``."""
    return a.copy() if isinstance(given, np.ndarray) and np.may_share_memory(a, given) else a


def _same_shape_pair(pred: Any, target: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``target`` as float32 arrays of one shape (no broadcasting)."""
    pred = as_float32(pred, name, "pred")
    target = as_float32(target, name, "target")
    if pred.shape != target.shape:
        raise ValueError(f"{name}: 'pred' shape {shape_str(pred.shape)} and 'target' shape "
                         f"{shape_str(target.shape)} must be equal (no broadcasting)")
    return pred, target


class _ElementwiseLoss(_Loss):
    """A loss over pred and target of one shape: one kernel pair from ``_core``."""

    _functional: Callable[..., Any]
    _forward_kernel: Callable[..., float]
    _backward_kernel: Callable[..., None]

    def forward(self, pred: Any, target: Any) -> Any:
        if isinstance(pred, Tensor) or isinstance(target, Tensor):  # autograd: a 0-d Tensor
            return type(self)._functional(pred, target, reduction=self.reduction)
        name = f"{type(self).__name__}.forward()"
        given = (pred, target)
        pred, target = _same_shape_pair(pred, target, name)
        if pred.size == 0:
            raise ValueError(f"{name}: empty batch: 'pred' has shape {shape_str(pred.shape)}")
        if self.reduction == "none":
            self._check_values(pred, target, name)
            return self._autograd_forward(type(self)._functional, pred, target)
        try:
            value = type(self)._forward_kernel(pred.reshape(-1), target.reshape(-1),
                                               _REDUCTIONS[self.reduction])
        except ValueError:  # the kernel's check: said again naming this loss and the index
            self._check_values(pred, target, name)
            raise
        # backward reads both: copies of the caller's own arrays (as_float32 returns a
        # float32 C-contiguous argument itself), which it may change in place in between
        self._cache, self._graph = (_own(pred, given[0]), _own(target, given[1])), None
        return _kernel_value(value)

    def _check_values(self, pred: np.ndarray, target: np.ndarray, name: str) -> None:
        """Checks the kernels make on their inputs, for the NumPy path through autograd
        (``reduction="none"``, weights), whose functional raises as torch's does."""

    def _kernel_backward(self, grad_out: float = 1.0) -> np.ndarray:
        pred, target, scale = self._begin_backward(grad_out)
        grad = np.empty_like(pred)
        type(self)._backward_kernel(grad.reshape(-1), pred.reshape(-1), target.reshape(-1),
                                    _REDUCTIONS[self.reduction])
        return _scaled(grad, scale)


class MSELoss(_ElementwiseLoss):
    r"""Mean squared error: :math:`\ell = \frac{1}{n}\sum_i (p_i - t_i)^2` (``"mean"``) or the sum.

    Args:
        reduction (str): ``"mean"`` (default) divides by the number of elements,
            ``"sum"`` does not.

    Shape:
        - pred: :math:`(*)`, any shape with at least one element.
        - target: :math:`(*)`, the same shape (no broadcasting).
        - backward: returns :math:`\partial \ell / \partial p = 2 (p - t) / n`,
          shape of pred.

    Example::

        >>> loss = fn.nn.MSELoss()
        >>> loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        2.5
        >>> loss.backward()
        array([1., 2.], dtype=float32)
    """

    _functional = staticmethod(ops_loss.mse_loss)
    _forward_kernel = _core.mse_forward
    _backward_kernel = _core.mse_backward


def _element_weights(value: Any, name: str, arg: str) -> np.ndarray | None:
    """A rescaling weight that broadcasts against the loss's input, as float32, or None."""
    if value is None:
        return None
    w = np.asarray(value._data if isinstance(value, Tensor) else value)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{name}: argument '{arg}' must be numeric, got dtype {w.dtype}")
    return np.array(w, np.float32)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without growing it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class _BinaryLoss(_ElementwiseLoss):
    """BCELoss / BCEWithLogitsLoss: the fused kernels, or with rescaling weights (buffers,
    as torch) the functional through autograd on both paths."""

    _options: tuple[str, ...] = ("weight",)

    def forward(self, pred: Any, target: Any) -> Any:
        options = {k: getattr(self, k) for k in self._options}
        if all(v is None for v in options.values()):
            return super().forward(pred, target)
        if isinstance(pred, Tensor) or isinstance(target, Tensor):
            return type(self)._functional(pred, target, reduction=self.reduction, **options)
        name = f"{type(self).__name__}.forward()"
        pred, target = _same_shape_pair(pred, target, name)
        if pred.size == 0:
            raise ValueError(f"{name}: empty batch: 'pred' has shape {shape_str(pred.shape)}")
        self._check_values(pred, target, name)
        for arg, w in options.items():
            if w is not None and not _broadcasts_to(w.shape, pred.shape):
                raise ValueError(f"{name}: argument '{arg}' of shape {shape_str(w.shape)} does "
                                 f"not broadcast to 'pred' shape {shape_str(pred.shape)}")
        return self._autograd_forward(type(self)._functional, pred, target, **options)


class BCELoss(_BinaryLoss):
    r"""Binary cross-entropy on probabilities:
    :math:`\ell_i = -w_i \left(t_i \log p_i + (1 - t_i) \log(1 - p_i)\right)`.

    As in PyTorch, each log is clamped at -100 so that :math:`p \in \{0, 1\}`
    gives a finite loss, and the gradient
    :math:`(p - t) / \max(p (1 - p), 10^{-12})` is finite too. For outputs of a
    sigmoid, prefer :class:`BCEWithLogitsLoss` on the logits: it is stabler.

    Args:
        weight (array_like, optional): rescaling weight :math:`w`, broadcast against
            the input (e.g. one per output column). Default: ``None`` (all 1).
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.

    Shape:
        - pred: :math:`(*)`, probabilities in [0, 1] (else ``ValueError``).
        - target: :math:`(*)`, same shape, values in [0, 1].

    Example::

        >>> loss = fn.nn.BCELoss()
        >>> round(loss(np.array([0.5, 0.5]), np.array([1.0, 0.0])), 6)
        0.693147
    """

    _functional = staticmethod(ops_loss.binary_cross_entropy)
    _forward_kernel = _core.bce_forward
    _backward_kernel = _core.bce_backward

    def _check_values(self, pred: np.ndarray, target: np.ndarray, name: str) -> None:
        for arg, a in (("pred", pred), ("target", target)):
            bad = ~((a >= 0) & (a <= 1))  # NaN too
            if bad.any():
                i = tuple(int(j) for j in np.argwhere(bad)[0])
                what = "input" if arg == "pred" else "target"  # torch's words in the middle
                raise ValueError(f"{name}: argument '{arg}' must hold probabilities in [0, 1], "
                                 f"got {a[i]} at index {i if len(i) != 1 else i[0]} (all "
                                 f"elements of {what} should be between 0 and 1)")

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        _no_legacy(size_average, reduce, "BCELoss()")
        super().__init__(reduction)
        self.register_buffer("weight", _element_weights(weight, "BCELoss()", "weight"))


class BCEWithLogitsLoss(_BinaryLoss):
    r"""Binary cross-entropy on logits, :math:`\text{BCELoss}(\sigma(z), t)` computed stably:
    :math:`\ell_i = \max(z_i, 0) - z_i t_i + \log(1 + e^{-|z_i|})`.

    The gradient is :math:`(\sigma(z) - t) / n` for ``"mean"``. With weights, as in
    PyTorch: :math:`\ell_i = -w_i \left(p_c t_i \log \sigma(z_i) + (1 - t_i)
    \log(1 - \sigma(z_i))\right)`, :math:`p_c` the ``pos_weight`` of the column.

    Args:
        weight (array_like, optional): rescaling weight :math:`w`, broadcast against
            the input. Default: ``None``.
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.
        pos_weight (array_like, optional): weight of the positive targets, one per
            class (last dimension), e.g. ``negatives / positives`` for imbalanced
            labels. Default: ``None``.

    Shape:
        - pred: :math:`(*)`, logits (any real values).
        - target: :math:`(*)`, same shape, values in [0, 1].

    Example::

        >>> loss = fn.nn.BCEWithLogitsLoss()
        >>> round(loss(np.array([0.0]), np.array([1.0])), 6)
        0.693147
    """

    _functional = staticmethod(ops_loss.binary_cross_entropy_with_logits)
    _forward_kernel = _core.bce_with_logits_forward
    _backward_kernel = _core.bce_with_logits_backward
    _options = ("weight", "pos_weight")

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Any = None) -> None:
        _no_legacy(size_average, reduce, "BCEWithLogitsLoss()")
        super().__init__(reduction)
        name = "BCEWithLogitsLoss()"
        self.register_buffer("weight", _element_weights(weight, name, "weight"))
        self.register_buffer("pos_weight", _element_weights(pos_weight, name, "pos_weight"))


def _no_legacy(size_average: Any, reduce: Any, name: str) -> None:
    """PyTorch's deprecated ``size_average`` / ``reduce`` arguments raise, naming ``reduction``."""
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average and reduce are deprecated in PyTorch; use "
                        "reduction=")


def _array_like(value: Any) -> bool:
    """Whether a loss's first positional argument is PyTorch's ``weight`` (an array, list
    or Tensor) rather than fastnn's number or reduction name there."""
    return isinstance(value, (np.ndarray, Tensor, list, tuple))


def _class_weights(weight: Any, name: str) -> np.ndarray | None:
    """A per-class weight vector as float32 (1-D), or ``None``."""
    if weight is None:
        return None
    w = np.asarray(weight._data if isinstance(weight, Tensor) else weight)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{name}: argument 'weight' must be numeric, got dtype {w.dtype}")
    w = np.array(w, np.float32)
    if w.ndim != 1:
        raise ValueError(f"{name}: argument 'weight' must be 1-D (one weight per class), got "
                         f"shape {shape_str(w.shape)}")
    return w


_INT64_MAX = np.iinfo(np.int64).max


def _class_labels(target: Any, name: str) -> np.ndarray:
    """Integer class labels as int64; float arrays are accepted if every value is integral."""
    t = as_array(target, name, "target")
    if t.dtype.kind in "iu" or (t.dtype.kind == "f" and np.all(np.isfinite(t))
                                and np.all(t == np.trunc(t))):
        in_int64 = t.dtype.kind == "i" or (t.dtype.kind == "u" and t.dtype.itemsize < 8)
        if not in_int64 and t.size:  # float or uint64 values may wrap in int64
            limit = 2.0 ** 63 if t.dtype.kind == "f" else _INT64_MAX + 1  # exact either way
            if t.max() >= limit or t.min() < -limit:
                bad = t.max() if t.max() >= limit else t.min()
                raise IndexError(f"{name}: Target {bad} is out of bounds")
        return t.astype(np.int64, copy=False)
    raise TypeError(f"{name}: argument 'target' must hold integer class indices, got dtype "
                    f"{t.dtype}" + (" with non-integral values" if t.dtype.kind == "f" else ""))


def _check_label_range(labels: np.ndarray, classes: int, name: str) -> None:
    """``IndexError`` naming ``name`` for the first label outside ``[0, classes)``."""
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise IndexError(f"{name}: target {labels[bad][0]} is out of bounds for "
                         f"{classes} classes")


def _scores_and_labels(pred: Any, target: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` as float32 ``(N, C)`` (N >= 1) and ``target`` as int64 ``(N,)``, checked."""
    scores = as_float32(pred, name, "pred")
    labels = _own(_class_labels(target, name), target)  # kept for backward: not the caller's
    if scores.ndim != 2:
        raise ValueError(f"{name}: argument 'pred' must have shape (N, C), "
                         f"got {shape_str(scores.shape)}")
    if labels.shape != scores.shape[:1]:
        raise ValueError(f"{name}: 'target' shape {shape_str(labels.shape)} must be (N,) for "
                         f"'pred' shape {shape_str(scores.shape)}")
    if scores.shape[0] == 0:
        raise ValueError(f"{name}: empty batch: 'pred' has shape {shape_str(scores.shape)}")
    return scores, labels


class CrossEntropyLoss(_Loss):
    r"""Softmax cross-entropy between logits and integer class targets, with label smoothing.

    For logits :math:`z \in \mathbb{R}^{N \times C}` and targets :math:`y_i \in
    \{0, \dots, C-1\}`, with :math:`\log p_{i} = \text{log\_softmax}(z_i)` and
    smoothing :math:`\varepsilon`:

    .. math::
        \ell_i = (1 - \varepsilon)\,(-\log p_{i, y_i})
                 + \varepsilon\, \frac{1}{C} \sum_{c} (-\log p_{i, c})

    (PyTorch's formula), reduced by the mean over :math:`N` or the sum. The
    gradient is :math:`(\text{softmax}(z_i) - q_i) / N` with
    :math:`q_i = (1 - \varepsilon)\,\text{onehot}(y_i) + \varepsilon / C`.

    Args:
        label_smoothing (float): :math:`\varepsilon` in [0, 1]. Default: ``0.0``. An
            array or Tensor here is taken as ``weight`` (PyTorch's first positional
            argument: ``CrossEntropyLoss(w)``).
        reduction (str): ``"mean"`` (default), ``"sum"``, or ``"none"`` (the per-sample
            losses, shape :math:`(N,)`; ``backward(grad_out)`` then takes an array of
            that shape, default ones).
        weight (array_like, optional): a weight per class, shape :math:`(C,)`, as in
            PyTorch (``"mean"`` divides by the summed weights of the targets).
            Keyword-only. Default: ``None``.
        ignore_index (int): targets equal to it add nothing and get no gradient, as in
            PyTorch. Keyword-only. Default: ``-100``.

    ``weight``, ``ignore_index`` hits and ``"none"`` run through the autograd
    ``cross_entropy`` (PyTorch's formulas, tested against it) instead of the fused
    kernel, and :class:`TrainStep` runs such a loss eagerly.

    Shape:
        - pred: :math:`(N, C)` logits, :math:`N \ge 1`.
        - target: :math:`(N,)` integer class indices in :math:`[0, C)` (float
          arrays with integral values are accepted); out of range: ``IndexError``.
        - On Tensors also PyTorch's K-dimensional case, pred :math:`(N, C, d_1, ..., d_K)`
          and target :math:`(N, d_1, ..., d_K)` (each position a sample), and class
          probabilities of pred's shape as target.

    Example::

        >>> loss = fn.nn.CrossEntropyLoss()
        >>> round(loss(np.zeros((2, 4)), np.array([0, 3])), 6)   # log(4)
        1.386294
        >>> loss.backward()[0]
        array([-0.375,  0.125,  0.125,  0.125], dtype=float32)
    """

    def __init__(self, label_smoothing: Any = 0.0, reduction: str = "mean", *,
                 weight: Any = None, ignore_index: int = -100) -> None:
        if weight is None and _array_like(label_smoothing):  # torch's CrossEntropyLoss(w)
            weight, label_smoothing = label_smoothing, 0.0
        super().__init__(reduction)
        self.label_smoothing = check_number(label_smoothing, "CrossEntropyLoss()",
                                            "label_smoothing", low=0.0, high=1.0)
        self.register_buffer("weight", _class_weights(weight, "CrossEntropyLoss()"))  # as torch
        self.ignore_index = check_int(ignore_index, "CrossEntropyLoss()", "ignore_index")

    def forward(self, pred: Any, target: Any) -> Any:
        if isinstance(pred, Tensor) or isinstance(target, Tensor):  # autograd: a 0-d Tensor
            return ops_loss.cross_entropy(pred, target, weight=self.weight,
                                        ignore_index=self.ignore_index, reduction=self.reduction,
                                        label_smoothing=self.label_smoothing)
        logits, labels = _scores_and_labels(pred, target, "CrossEntropyLoss.forward()")
        if (self.weight is not None or self.reduction == "none"
                or np.any(labels == self.ignore_index)):  # beyond the fused kernel
            return self._autograd_forward(ops_loss.cross_entropy, logits, labels,
                                          weight=self.weight, ignore_index=self.ignore_index,
                                          label_smoothing=self.label_smoothing)
        # Value and gradient in one pass over the logits (the softmax is computed once);
        # backward hands out the gradient kept here.
        grad = np.empty_like(logits)
        try:
            value = _core.cross_entropy_forward_backward(grad, logits, labels,
                                                         self.label_smoothing,
                                                         _REDUCTIONS[self.reduction])
        except IndexError:  # the kernel checks the labels (and names itself): say who calls
            _check_label_range(labels, logits.shape[1], "CrossEntropyLoss.forward()")
            raise
        self._cache, self._graph = (logits, labels), None
        self._grad: np.ndarray | None = grad
        return _kernel_value(value)

    def _kernel_backward(self, grad_out: float = 1.0) -> np.ndarray:
        logits, _, scale = self._begin_backward(grad_out)
        grad = self._grad
        self._grad = None  # a second backward gets its own copy
        if grad is None:
            grad = np.empty_like(logits)
            _core.cross_entropy_backward(grad, logits, self._cache[1], self.label_smoothing,
                                         _REDUCTIONS[self.reduction])
        return _scaled(grad, scale)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    r"""Negative log-likelihood of log-probabilities at integer class targets.

    For log-probabilities :math:`x \in \mathbb{R}^{N \times C}` (e.g. the output of
    :class:`LogSoftmax`) and targets :math:`y_i \in \{0, \dots, C-1\}`:
    :math:`\ell_i = -x_{i, y_i}`, reduced by the mean over :math:`N` or the sum. The
    gradient is :math:`-1/N` (``"mean"``) or :math:`-1` at :math:`(i, y_i)`, 0 elsewhere.
    ``LogSoftmax`` followed by ``NLLLoss`` equals :class:`CrossEntropyLoss` on the logits,
    which does it in one fused pass.

    Args:
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"`` (as in
            :class:`CrossEntropyLoss`). An array or Tensor here is taken as ``weight``
            (PyTorch's first positional argument: ``NLLLoss(w)``).
        weight (array_like, optional): a weight per class, shape :math:`(C,)`.
            Keyword-only. Default: ``None``.
        ignore_index (int): targets equal to it add nothing. Keyword-only.
            Default: ``-100``.

    Shape:
        - pred: :math:`(N, C)` log-probabilities, :math:`N \ge 1`.
        - target: :math:`(N,)` integer class indices in :math:`[0, C)`; out of range:
          ``IndexError``.
        - On Tensors also pred :math:`(N, C, d_1, ..., d_K)` and target
          :math:`(N, d_1, ..., d_K)`, as PyTorch.

    Example::

        >>> loss = fn.nn.NLLLoss()
        >>> loss(np.log(np.full((2, 4), 0.25)), np.array([0, 3]))   # log(4)
        1.3862943649291992
        >>> loss.backward()[0]
        array([-0.5,  0. ,  0. ,  0. ], dtype=float32)
    """

    def __init__(self, reduction: Any = "mean", *, weight: Any = None,
                 ignore_index: int = -100) -> None:
        if weight is None and _array_like(reduction):  # torch's NLLLoss(w)
            weight, reduction = reduction, "mean"
        super().__init__(reduction)
        self.register_buffer("weight", _class_weights(weight, "NLLLoss()"))  # as torch
        self.ignore_index = check_int(ignore_index, "NLLLoss()", "ignore_index")

    def forward(self, pred: Any, target: Any) -> Any:
        options = {"weight": self.weight, "ignore_index": self.ignore_index}
        if isinstance(pred, Tensor) or isinstance(target, Tensor):  # autograd: a 0-d Tensor
            return ops_loss.nll_loss(pred, target, reduction=self.reduction, **options)
        name = "NLLLoss.forward()"
        logp, labels = _scores_and_labels(pred, target, name)
        if (self.weight is not None or self.reduction == "none"
                or np.any(labels == self.ignore_index)):
            return self._autograd_forward(ops_loss.nll_loss, logp, labels, **options)
        _check_label_range(labels, logp.shape[1], name)
        picked = logp[np.arange(len(labels)), labels].astype(np.float64)
        self._cache, self._graph = (logp, labels), None
        total = -float(picked.sum())
        return total / len(labels) if self.reduction == "mean" else total

    def _kernel_backward(self, grad_out: float = 1.0) -> np.ndarray:
        logp, labels, scale = self._begin_backward(grad_out)
        grad = np.zeros_like(logp)
        per = -scale / len(labels) if self.reduction == "mean" else -scale
        grad[np.arange(len(labels)), labels] = np.float32(per)  # rounded once
        return grad


class _AutogradLoss(_Loss):
    """A regression loss whose NumPy path runs its autograd functional (no kernel)."""

    _functional: Callable[..., Any]

    def _options(self) -> dict[str, Any]:
        return {}

    def forward(self, pred: Any, target: Any) -> Any:
        if isinstance(pred, Tensor) or isinstance(target, Tensor):
            return type(self)._functional(pred, target, reduction=self.reduction,
                                          **self._options())
        name = f"{type(self).__name__}.forward()"
        pred, target = _same_shape_pair(pred, target, name)
        if pred.size == 0:  # as every NumPy-path loss (the mean of nothing was a silent NaN)
            raise ValueError(f"{name}: empty batch: 'pred' has shape {shape_str(pred.shape)}")
        return self._autograd_forward(type(self)._functional, pred, target, **self._options())


class L1Loss(_AutogradLoss):
    r"""Mean (or summed) absolute error :math:`|\text{pred} - \text{target}|`; the gradient
    is :math:`\text{sign}(d)` (0 at 0, as PyTorch).

    Args:
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.
    """

    _functional = staticmethod(ops_loss.l1_loss)


class SmoothL1Loss(_AutogradLoss):
    r""":math:`0.5 d^2 / \beta` where :math:`|d| < \beta`, else :math:`|d| - 0.5 \beta`
    (:math:`d = \text{pred} - \text{target}`), as PyTorch.

    Args:
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.
        beta (float): the switch point, >= 0 (0: L1). Default: ``1.0``.
    """

    _functional = staticmethod(ops_loss.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_number(beta, "SmoothL1Loss()", "beta", low=0.0)

    def _options(self) -> dict[str, Any]:
        return {"beta": self.beta}


class HuberLoss(_AutogradLoss):
    r""":math:`0.5 d^2` where :math:`|d| \le \delta`, else :math:`\delta (|d| - 0.5 \delta)`,
    as PyTorch.

    Args:
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.
        delta (float): the switch point, > 0. Default: ``1.0``.
    """

    _functional = staticmethod(ops_loss.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = check_number(delta, "HuberLoss()", "delta")
        if self.delta <= 0:
            raise ValueError(f"HuberLoss(): argument 'delta' must be > 0, got {delta!r}")

    def _options(self) -> dict[str, Any]:
        return {"delta": self.delta}
