"""Metrics for ``fit``/``evaluate``, accumulated over batches as (sum, count).

Names: ``"accuracy"`` (alias ``"acc"``), ``"mse"``, ``"mae"``.

``accuracy`` follows Keras: with a binary cross-entropy loss (``BCELoss``,
``BCEWithLogitsLoss``) it is Keras's ``binary_accuracy``, every output thresholded
at 0.5 (probabilities) or 0 (logits) and compared with its target (> 0.5), so
multi-label outputs score per label; otherwise, with logits of shape (N, C), C > 1,
it compares the argmax with integer labels (or the argmax of one-hot rows), and
with a single output column (or 1-D output) it thresholds at 0.5 (and warns, once,
when the targets are not 0/1 labels: a regression model's "accuracy" means nothing).
Targets equal to the loss's ``ignore_index`` (CrossEntropyLoss, NLLLoss) are not scored.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray], "tuple[float, int]"]

_ALIASES = {"acc": "accuracy", "mean_squared_error": "mse", "mean_absolute_error": "mae"}


def _accuracy(logit_threshold: float, ignore_index: int | None = None,
              binary: bool = False) -> MetricFn:
    def accuracy(pred: np.ndarray, target: np.ndarray) -> tuple[float, int]:
        target = np.asarray(target)
        if pred.ndim == 2 and pred.shape[1] > 1 and not binary:
            labels = target.reshape(-1) if target.ndim == 2 and target.shape[1] == 1 else target
            if labels.ndim == 2:  # one-hot or probability targets
                labels = labels.argmax(axis=1)
            hits = pred.argmax(axis=1) == labels
            if ignore_index is not None:  # targets the loss ignores are not scored either
                hits = hits[labels != ignore_index]
        else:
            flat = target.reshape(-1)
            if not binary and flat.dtype != np.bool_ and np.any((flat != 0) & (flat != 1)):
                warnings.warn(
                    "metric 'accuracy' on a single output thresholds it at 0.5 and compares "
                    "with targets > 0.5, but these targets are not 0/1 labels (a regression "
                    "target?); use metrics=['mse'] or ['mae'] for regression",
                    UserWarning, stacklevel=2)
            hits = (pred.reshape(-1) > logit_threshold) == (flat > 0.5)
        return float(np.count_nonzero(hits)), int(hits.size)

    return accuracy


def _difference(pred: np.ndarray, target: np.ndarray, name: str) -> np.ndarray:
    """``pred - target`` in float64 for the regression metrics, which compare outputs with
    targets of the same size (not class labels: those take ``"accuracy"``)."""
    t = np.asarray(target, dtype=np.float64)
    if t.size != pred.size:
        raise ValueError(f"metric '{name}' compares the model's outputs with targets of the "
                         f"same size; got outputs of shape {pred.shape} and targets of shape "
                         f"{t.shape} (for class labels use metrics=['accuracy'])")
    return pred.astype(np.float64) - t.reshape(pred.shape)


def _mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, int]:
    d = _difference(pred, target, "mse")
    return float(np.sum(d * d)), int(d.size)


def _mae(pred: np.ndarray, target: np.ndarray) -> tuple[float, int]:
    d = _difference(pred, target, "mae")
    return float(np.sum(np.abs(d))), int(d.size)


def check_metric_targets(metric_fns: dict[str, MetricFn], output_shape: tuple[int, ...] | None,
                         y: np.ndarray, func: str, yname: str) -> None:
    """``ValueError`` naming ``yname`` when a regression metric (``"mse"``, ``"mae"``) cannot
    compare the model's outputs (``output_shape`` per sample, ``None`` when unknown) with
    the targets ``y`` element by element: before the first step, not in the middle of an
    epoch whose steps already changed the weights."""
    if output_shape is None:
        return
    per_sample = int(np.prod(y.shape[1:], dtype=np.int64))
    outputs = int(np.prod(output_shape, dtype=np.int64))
    for name, metric in metric_fns.items():
        if metric in (_mse, _mae) and per_sample != outputs:
            raise ValueError(
                f"{func}: metric '{name}' compares the model's outputs with targets of the "
                f"same size, but argument '{yname}' has shape {tuple(y.shape)} and the "
                f"model's output has shape {(len(y),) + tuple(output_shape)} (for class "
                "labels use metrics=['accuracy'])")


def resolve_metrics(names: Iterable[str] | None, loss: object,
                    func: str = "fit()") -> dict[str, MetricFn]:
    """Maps metric names to functions; unknown names raise ``ValueError`` naming ``func``."""
    if names is None:
        names = ()
    elif isinstance(names, str):
        names = (names,)
    from ..nn import BCELoss, BCEWithLogitsLoss

    threshold = 0.0 if isinstance(loss, BCEWithLogitsLoss) else 0.5
    ignore = getattr(loss, "ignore_index", None)
    binary = isinstance(loss, (BCELoss, BCEWithLogitsLoss))
    table: dict[str, MetricFn] = {"accuracy": _accuracy(threshold, ignore, binary),
                                  "mse": _mse, "mae": _mae}
    out: dict[str, MetricFn] = {}
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{func}: argument 'metrics' must hold metric names, got {name!r}")
        key = _ALIASES.get(name, name)
        if key not in table:
            raise ValueError(
                f"{func}: unknown metric {name!r}; "
                f"expected one of {sorted(table) + sorted(_ALIASES)}"
            )
        out[name] = table[key]  # logged under the name the user gave, as Keras does
    return out
