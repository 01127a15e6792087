r"""``ProbabilityCrossEntropyLoss``: cross-entropy of class probabilities, as Keras computes it.

Keras's ``"categorical_crossentropy"`` and ``"sparse_categorical_crossentropy"`` (with
their default ``from_logits=False``) take the model's output as probabilities, the
output of a final softmax, where :class:`CrossEntropyLoss` (PyTorch's) takes logits.
``fit``'s Keras loss names stand for this loss, so a Keras-style model that ends in
``nn.Softmax()`` gets Keras's loss values and gradients, not a second softmax.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array, as_float32, shape_str
from ..autograd.tensor import Tensor
from .loss import _check_label_range, _class_labels, _Loss

# Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log
EPSILON = 1e-7


def probability_cross_entropy(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    r"""Keras's categorical cross-entropy on Tensors (differentiable in ``pred``), for
    inputs :func:`checked_inputs` accepted.

    Each row of ``pred`` is divided by its sum, clipped to :math:`[\epsilon, 1 -
    \epsilon]` (:math:`\epsilon = 10^{-7}`), and :math:`\ell_i = -\sum_c t_{ic} \log
    q_{ic}`, or :math:`-\log q_{i, y_i}` for integer labels; reduced by the mean over
    :math:`N`, the sum, or not (``"none"``: shape :math:`(N,)`).

    Args:
        pred (Tensor): :math:`(N, C)` probabilities.
        target (ndarray or Tensor): :math:`(N,)` int64 labels or :math:`(N, C)` class
            probabilities.
        reduction (str): ``"mean"``, ``"sum"`` or ``"none"``.
    """
    q = pred / pred.sum(dim=-1, keepdim=True)
    log_q = q.clamp(EPSILON, 1.0 - EPSILON).log()
    if np.ndim(target) == 1:
        per_sample = -log_q[np.arange(len(target)), np.asarray(target)]
    else:
        t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, np.float32))
        per_sample = -(t.float() * log_q).sum(dim=-1)
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def checked_inputs(p: np.ndarray, t: np.ndarray, name: str) -> np.ndarray:
    r"""Checks the values of ``pred`` (``p``) and ``target`` (``t``); returns ``t`` as int64
    labels, or as it is for class probabilities.

    Raises:
        ValueError: ``p`` not :math:`(N, C)` with :math:`N \ge 1`, ``t`` of another shape
            than :math:`(N,)` or :math:`(N, C)`, or ``p`` outside [0, 1] (logits).
        TypeError: non-numeric ``t``, or labels that are not whole numbers.
        IndexError: a label outside :math:`[0, C)`.
    """
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{name}: argument 'pred' must have shape (N, C) with N >= 1, "
                         f"got {shape_str(p.shape)}")
    if t.shape not in (p.shape[:1], p.shape):
        raise ValueError(f"{name}: 'target' shape {shape_str(t.shape)} must be (N,) class "
                         f"labels or (N, C) class probabilities for 'pred' shape "
                         f"{shape_str(p.shape)}")
    if t.ndim == 1:
        t = _class_labels(t, name)
        _check_label_range(t, p.shape[1], name)
    elif t.dtype.kind not in "biuf":
        raise TypeError(f"{name}: argument 'target' must be numeric, got dtype {t.dtype}")
    outside = ~((p >= 0) & (p <= 1))  # NaN included
    if outside.any():
        raise ValueError(
            f"{name}: argument 'pred' must hold probabilities in [0, 1] (Keras's "
            f"categorical cross-entropy, from_logits=False), got {float(p[outside][0])!r}; "
            "end the model with nn.Softmax(), or for logits use nn.CrossEntropyLoss() "
            "(loss='cross_entropy')")
    return t


class ProbabilityCrossEntropyLoss(_Loss):
    r"""Cross-entropy between class probabilities and targets: Keras's
    ``categorical_crossentropy`` / ``sparse_categorical_crossentropy`` with
    ``from_logits=False``.

    For probabilities :math:`p \in [0, 1]^{N \times C}` (e.g. the output of
    :class:`Softmax`), with :math:`q_i = \text{clip}(p_i / \sum_c p_{ic}, \epsilon,
    1 - \epsilon)` and :math:`\epsilon = 10^{-7}` (Keras's steps):

    .. math::
        \ell_i = -\log q_{i, y_i} \quad\text{(labels)}, \qquad
        \ell_i = -\sum_c t_{ic} \log q_{ic} \quad\text{(class-probability targets)}

    reduced by the mean over :math:`N`, the sum, or not (``"none"``).
    ``fit(loss="categorical_crossentropy")`` and ``"sparse_categorical_crossentropy"``
    use it; for logits use
    :class:`CrossEntropyLoss` (``loss="cross_entropy"``), which fuses the softmax.

    Args:
        reduction (str): ``"mean"`` (default), ``"sum"`` or ``"none"``.

    Shape:
        - pred: :math:`(N, C)` probabilities (finite, in [0, 1]; anything else, such as
          logits, raises ``ValueError``), :math:`N \ge 1`.
        - target: :math:`(N,)` integer class indices in :math:`[0, C)`, or :math:`(N, C)`
          class probabilities (one-hot rows).

    Example::

        >>> loss = fn.nn.ProbabilityCrossEntropyLoss()
        >>> round(loss(np.full((2, 4), 0.25), np.array([0, 3])), 6)   # log(4)
        1.386294
    """

    def forward(self, pred: Any, target: Any) -> Any:
        name = "ProbabilityCrossEntropyLoss.forward()"
        if isinstance(pred, Tensor) or isinstance(target, Tensor):  # autograd: a 0-d Tensor
            x = pred if isinstance(pred, Tensor) else Tensor(as_float32(pred, name, "pred"))
            t = target.detach().numpy() if isinstance(target, Tensor) else \
                as_array(target, name, "target")
            checked = checked_inputs(x.detach().numpy(), t, name)
            # soft targets stay the Tensor given (a gradient may flow into them)
            t = target if checked.ndim == 2 and isinstance(target, Tensor) else checked
            return probability_cross_entropy(x, t, self.reduction)
        p = as_float32(pred, name, "pred")
        t = checked_inputs(p, as_array(target, name, "target"), name)
        return self._autograd_forward(probability_cross_entropy, p, t)
