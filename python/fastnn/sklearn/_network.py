"""The network behind ``fastnn.sklearn``'s estimators: layers, initialisation, objective.

An MLP with layer sizes ``[n_features, *hidden_layer_sizes, n_outputs]`` is an
``nn.Sequential`` of ``Linear`` layers with the hidden activation (and, with
``dropout > 0``, a ``Dropout``) after each hidden one. The output activation is
not a layer: it is folded into the loss (softmax into ``CrossEntropyLoss``,
logistic into ``BCEWithLogitsLoss``, identity into ``MSELoss``, exp into the
Poisson loss) and applied by :func:`output` at prediction time.

scikit-learn's objective on a batch of ``n`` samples with ``C`` outputs is::

    L = loss(y, out) + alpha / (2 n) * sum_l ||W_l||^2        (biases not penalised)

with gradient ``(out - y) / n`` at the output's pre-activation (its canonical
link). fastnn's mean-reduced losses give ``k`` times that gradient, ``k`` =
:attr:`Objective.grad_scale`; the step therefore runs on ``k L`` (weight decay
``k alpha / n``), which leaves Adam's trajectory unchanged when its epsilon is
scaled by ``k`` too, and SGD's when its learning rate is divided by ``k``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from .. import nn
from ..autograd import Tensor, from_numpy
from ..nn import functional as F
from ._sparse import SparseFirstLayer, fits_dense

_HIDDEN = {"identity": None, "logistic": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def build(layer_units: list[int], activation: str, dropout: float,
          rng: np.random.RandomState) -> nn.Sequential:
    """The MLP, with scikit-learn's Glorot-uniform initialisation drawn from ``rng``.

    Draws exactly what scikit-learn draws, in its order (``coefs_[i]`` of shape
    ``(fan_in, fan_out)``, then ``intercepts_[i]``, layer by layer), so the same
    ``random_state`` starts both libraries from the same weights (rounded to float32).
    """
    layers = []
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        linear = nn.Linear(fan_in, fan_out)
        bound = np.sqrt(factor / (fan_in + fan_out))
        linear.weight._data[...] = rng.uniform(-bound, bound, (fan_in, fan_out)).T
        linear.bias._data[...] = rng.uniform(-bound, bound, fan_out)
        layers.append(linear)
    return assemble(layers, activation, dropout)


def assemble(layers: list[nn.Linear], activation: str, dropout: float) -> nn.Sequential:
    """``layers`` with the hidden activation (and ``Dropout(dropout)``) after each but the last."""
    modules: list[nn.Module] = []
    for i, linear in enumerate(layers):
        modules.append(linear)
        if i < len(layers) - 1:
            if _HIDDEN[activation] is not None:
                modules.append(_HIDDEN[activation]())
            if dropout > 0:
                modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)


def linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def weight_views(model: nn.Sequential) -> list[np.ndarray]:
    """The Linear layers' weights as flat views: the arrays of the L2 term."""
    return [m.weight._data.ravel() for m in linears(model)]


def squared_sum(arrays: list[np.ndarray]) -> float:
    """``sum ||a||^2`` over ``arrays``."""
    return sum(float(np.dot(a, a)) for a in arrays)


# Rows densified at a time when predicting from a sparse matrix.
_SPARSE_CHUNK = 4096


def dense(X: Any) -> np.ndarray:
    """A float32 array of ``X``'s rows: ``X`` itself, or a CSR matrix densified."""
    return X.toarray() if sp.issparse(X) else X


def decision(model: nn.Sequential, X: Any, out_activation: str) -> np.ndarray:
    """The network's output ``(N, n_outputs)`` in float64 for float32 ``X`` (an array, or a
    CSR matrix: densified a chunk of rows at a time, or for wide data run through a sparse
    first layer, ``_sparse``), in eval mode. A row's output does not depend on the rows
    computed with it (the GEMM's rows are batch-invariant)."""
    model.eval()
    if not fits_dense(X, min(X.shape[0], _SPARSE_CHUNK)):
        z = SparseFirstLayer(model).predict(X)
    elif sp.issparse(X):
        z = np.concatenate([np.asarray(model(dense(X[i:i + _SPARSE_CHUNK])))
                            for i in range(0, X.shape[0], _SPARSE_CHUNK)])
    else:
        z = np.asarray(model(X))
    return output(z.astype(np.float64), out_activation)


def output(z: np.ndarray, out_activation: str) -> np.ndarray:
    """Applies scikit-learn's output activation to the last layer's pre-activation ``z``."""
    if out_activation == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if out_activation == "logistic":
        return expit(z)  # 1 / (1 + exp(-z)), as scikit-learn (in (0, 1) for |z| < ~36)
    if out_activation == "exp":
        return np.exp(z)
    return z


class PoissonLoss(nn.Module):
    """Half the Poisson deviance of ``exp(z)`` against ``y``, without its constant terms:
    ``mean(exp(z) - y z)``, gradient ``(exp(z) - y) / (N C)``."""

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return (z.exp() - y * z).mean()


class LastLogits:
    """The last layer's pre-activation on the batch a step just trained on (computed
    before its update), read only when the loss report needs it (``read`` set by the
    step: its TrainStep's output, or the eager forward's)."""

    read: Callable[[], np.ndarray] | None = None

    def __call__(self) -> np.ndarray:
        assert self.read is not None, "no step has run"
        return self.read()


@dataclass(frozen=True)
class Objective:
    """The loss for one output activation and how it relates to scikit-learn's.

    Attributes:
        loss_fn: fastnn's loss on the last layer's pre-activation.
        grad_scale: ``k``, fastnn's gradient over scikit-learn's.
        report_scale: fastnn's loss value times this is scikit-learn's ``loss_`` term.
        labels: whether the loss takes class indices (else float targets like the output).
        poisson: whether scikit-learn's loss value adds ``mean(y log y - y)`` per output,
            a constant fastnn's loss leaves out.
        logits: the last batch's logits, which the training step records for
            :func:`clip_log_loss`.
    """

    loss_fn: nn.Module
    grad_scale: float
    report_scale: float
    labels: bool
    poisson: bool = False
    logits: LastLogits = field(default_factory=LastLogits, compare=False)

    def report(self, value: float, y: np.ndarray, w: np.ndarray | None = None) -> float:
        """scikit-learn's loss (without the L2 term) from fastnn's ``value`` on targets ``y``
        (with sample weights ``w``: their weighted mean, as :func:`weighted_loss`)."""
        value *= self.report_scale
        if self.poisson:
            ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
            per_sample = (ylogy - y).sum(axis=1, dtype=np.float64)
            value += float(per_sample.mean() if w is None else per_sample @ w / w.sum())
        return value


def objective(out_activation: str, n_outputs: int) -> Objective:
    if out_activation == "softmax":  # log_loss: mean over samples of -log p[y]
        return Objective(nn.CrossEntropyLoss(), 1.0, 1.0, True)
    if out_activation == "logistic":  # binary_log_loss: summed over outputs
        return Objective(nn.BCEWithLogitsLoss(), 1.0 / n_outputs, float(n_outputs), False)
    if out_activation == "exp":  # poisson: summed over outputs
        return Objective(PoissonLoss(), 1.0 / n_outputs, float(n_outputs), False, poisson=True)
    # squared_error: 0.5 * mean over samples and outputs, gradient (out - y) / n
    return Objective(nn.MSELoss(), 2.0 / n_outputs, 0.5, False)


def clip_log_loss(obj: Objective, value: float, y: np.ndarray, w: np.ndarray | None,
                  eps: float) -> float:
    """scikit-learn's log-loss report of a batch: its ``log_loss`` and ``binary_log_loss``
    clip every probability to ``[eps, 1 - eps]`` (``eps`` of the input's float dtype)
    before the log, which caps a sample's (an output's) term at ``-log(eps)``: 36.04 for
    float64 inputs, 15.94 for float32. ``value`` is the exact mean (scikit-learn's scale);
    where a term may pass the cap (the batch's terms sum to more, or with sample weights,
    and a bound on each term read off the batch's logits, ``obj.logits``, before the
    step's update, passes it) it is recomputed, clipped, from those logits, so that
    ``loss_curve_`` and the ``tol`` rule that reads it follow scikit-learn's. (Where
    nothing passes the cap, the lower clip, a term of at least -log(1 - eps), is left out:
    it moves a term by less than eps.)"""
    binary = isinstance(obj.loss_fn, nn.BCEWithLogitsLoss)
    cap = -np.log(eps)
    if not (obj.labels or binary) or (w is None and value * len(y) <= cap):
        return value
    z = obj.logits()
    # bounds on every term, in float32 on the logits: -log softmax(z)[y] <= max_c z - z_y
    # + log C <= max(z) - min(z_y) + log C; a logistic output's <= |z| + log 2. Below the
    # cap (ordinary training) nothing is clipped and the exact mean stands. The looser
    # class bound first: a batch-wide max and min cost 2 us, the per-row max 15.
    rows = np.arange(len(y))
    if obj.labels:
        picked, log_c = z[rows, y], np.log(z.shape[1])
        if float(z.max()) - float(picked.min()) + log_c <= cap or \
                float((z.max(axis=1) - picked).max()) + log_c <= cap:
            return value
    elif float(np.abs(z).max()) + np.log(2.0) <= cap:
        return value
    z = z.astype(np.float64)
    if obj.labels:  # -log softmax(z)[y]
        top = z.max(axis=1, keepdims=True)
        lse = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]
        terms = lse - z[rows, y]
    else:  # -(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))), per output
        terms = np.logaddexp(0.0, z) - y * z
    per_sample = np.clip(terms, -np.log1p(-eps), cap)
    if binary:
        per_sample = per_sample.sum(axis=1)
    return float(per_sample.mean() if w is None else per_sample @ w / w.sum())


def weighted_loss(obj: Objective, z: Tensor, y: Tensor, w: np.ndarray) -> Tensor:
    """fastnn's loss with sample weights ``w`` (float64, shape ``(n,)``, a positive sum):
    ``sum_i w_i l_i / sum_i w_i``, ``l_i`` sample ``i``'s term of the mean-reduced loss
    (its mean over the outputs), so that with equal weights it is ``obj.loss_fn``'s value.
    scikit-learn weighs its loss and its gradient ``(out - y) w_i / sum(w)`` the same way,
    so the scales ``k`` of :class:`Objective` hold unchanged."""
    if obj.labels:
        per_sample = F.cross_entropy(z, y, reduction="none")
    else:
        if obj.poisson:
            terms = z.exp() - y * z
        elif isinstance(obj.loss_fn, nn.BCEWithLogitsLoss):
            terms = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        else:
            terms = (z - y) ** 2
        per_sample = terms.mean(dim=1)
    weights = from_numpy((w / w.sum()).astype(np.float32))
    return (per_sample * weights).sum()
