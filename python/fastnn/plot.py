"""``plot_history``: training curves of a :func:`fastnn.fit` run, drawn with matplotlib.

matplotlib is an optional dependency (the ``plot`` extra), imported only when
``plot_history`` is called. The figure is a plain ``matplotlib.figure.Figure``
on an Agg canvas: no pyplot global state, and the user's chosen backend is left
alone (it also works on a machine without a display).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._optional import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_history"]

_FUNC = "fn.plot_history()"
_VAL = "val_"
_MAX_COLUMNS = 3  # subplots per row
_SUBPLOT_SIZE = (5.0, 3.6)  # inches, per subplot
_TRAIN_COLOR, _VAL_COLOR = "C0", "C1"
_BEST_COLOR, _STOP_COLOR = "C2", "C3"


def _import_matplotlib() -> tuple[Any, Any, Any]:
    """(Figure, FigureCanvasAgg, MaxNLocator), or an ImportError naming the extra."""
    require("matplotlib", _FUNC, "plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    return Figure, FigureCanvasAgg, MaxNLocator


def _records(history: Any) -> tuple[dict[str, np.ndarray], np.ndarray, int | None, int | None]:
    """Validated ``(curves, x, best_epoch, stopped_epoch)`` of a History or a dict of lists.

    ``curves`` maps each key to a float64 vector, ``x`` holds the 1-based epoch
    numbers, the best and stopped epochs are 0-based (or None).
    """
    if isinstance(history, Mapping):
        logs, epochs, best, stopped = history, None, None, None
    elif isinstance(getattr(history, "history", None), Mapping):
        # fastnn's History, or any object shaped like it (e.g. a Keras History).
        logs = history.history
        epochs = getattr(history, "epoch", None)
        best = getattr(history, "best_epoch", None)
        stopped = getattr(history, "stopped_epoch", None)
    else:
        raise TypeError(
            f"{_FUNC}: argument 'history' must be a History (what fn.fit returns) or a dict "
            f"of per-epoch lists, got {type(history).__name__}"
        )
    if not logs:
        raise ValueError(f"{_FUNC}: the history is empty (no quantity was recorded)")

    curves: dict[str, np.ndarray] = {}
    for key, values in logs.items():
        if not isinstance(key, str):
            raise TypeError(f"{_FUNC}: history keys must be str, got {type(key).__name__}")
        try:
            curve = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{_FUNC}: history[{key!r}] must be a list of numbers, "
                f"got {type(values).__name__}"
            ) from None
        if curve.ndim != 1:
            raise ValueError(
                f"{_FUNC}: history[{key!r}] must be a flat list (one value per epoch), "
                f"got shape {curve.shape}"
            )
        curves[key] = curve
    lengths = {key: len(curve) for key, curve in curves.items()}
    n = next(iter(lengths.values()))
    if any(length != n for length in lengths.values()):
        raise ValueError(f"{_FUNC}: history lists differ in length (one per epoch): {lengths}")
    if n == 0:
        raise ValueError(f"{_FUNC}: the history is empty (no epoch was recorded)")

    if epochs is not None and len(epochs) == n:
        x = np.asarray(epochs, dtype=np.int64) + 1
    else:
        x = np.arange(1, n + 1)
    for name, epoch in (("best_epoch", best), ("stopped_epoch", stopped)):
        if epoch is not None and (
            isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer))
            or epoch + 1 not in x
        ):
            raise ValueError(
                f"{_FUNC}: history.{name} = {epoch!r} is not one of the recorded epochs "
                f"(0-based {int(x[0]) - 1}..{int(x[-1]) - 1})"
            )
    return curves, x, best, stopped


def _quantities(curves: Mapping[str, np.ndarray], metrics: Sequence[str] | None) -> list[str]:
    """The quantities to draw, one per subplot: ``loss`` first, then the chosen metrics."""
    present: list[str] = []
    for key in curves:
        name = key.removeprefix(_VAL)
        if name not in present:
            present.append(name)
    if metrics is None:
        chosen = present
    else:
        if isinstance(metrics, str) or not isinstance(metrics, Sequence):
            raise TypeError(
                f"{_FUNC}: argument 'metrics' must be a list of names, e.g. ['accuracy'], "
                f"got {metrics!r}"
            )
        for name in metrics:
            if name not in present:
                raise ValueError(
                    f"{_FUNC}: metric {name!r} is not in the history; recorded: "
                    f"{', '.join(present)}"
                )
        chosen = ["loss", *metrics] if "loss" in present else list(metrics)
        if not chosen:
            raise ValueError(f"{_FUNC}: nothing to draw: no loss recorded and 'metrics' is empty")
    return list(dict.fromkeys(sorted(chosen, key=lambda name: name != "loss")))


def _check_path(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{_FUNC}: argument 'path' must be a str or path, got {type(path).__name__}"
        )
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"{_FUNC}: cannot save to '{path}': directory '{path.parent}' does not exist"
        )
    return path


def plot_history(
    history: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    r"""Draws the training curves of a :func:`fastnn.fit` run, one subplot per quantity.

    The loss comes first, then each metric (e.g. accuracy); each subplot shows
    the training curve and, when recorded, the validation (``val_``) curve
    against the epoch number, counted from 1. A dashed vertical line marks the
    best epoch (``history.best_epoch``, set when a callback such as
    ``EarlyStopping`` monitored a quantity), with a dot on each validation curve
    there, and a dotted one the epoch at which early stopping fired
    (``history.stopped_epoch``). A plain dict of lists, such as a Keras
    ``history.history``, is drawn the same way without the markers.

    The figure is built on matplotlib's non-interactive Agg canvas without
    pyplot, so no backend is changed and no display is needed.

    Args:
        history (History or dict[str, list[float]]): what ``fn.fit`` returned, or
            its ``history`` dict (one list per quantity, one value per epoch).
        path (str or os.PathLike, optional): if given, the figure is saved there as
            a PNG, or in the format its extension names where matplotlib writes it
            (``.pdf``, ``.svg``, ``.jpg``...). Its directory must exist. Default: None
            (not saved).
        metrics (list[str], optional): the metrics to draw after the loss, by
            their training name (``"accuracy"``, not ``"val_accuracy"``).
            Default: None (every recorded quantity).
        title (str, optional): a title over the whole figure. Default: None.

    Returns:
        matplotlib.figure.Figure: the figure, one ``Axes`` per quantity.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'fastnn[plot]'``).
        TypeError: ``history`` is neither a History nor a dict of lists.
        ValueError: an empty history, lists of different lengths, or an unknown metric.
        FileNotFoundError: the directory of ``path`` does not exist.

    Examples::

        >>> history = fn.fit(model, X, y, loss="cross_entropy", optimizer="adam",
        ...                  validation_split=0.1, metrics=["accuracy"],
        ...                  callbacks=[fn.callbacks.EarlyStopping(patience=5)])  # doctest: +SKIP
        >>> fig = fn.plot_history(history, "curves.png")  # doctest: +SKIP
        >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
        ['loss', 'accuracy']
    """
    curves, x, best, stopped = _records(history)
    names = _quantities(curves, metrics)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{_FUNC}: argument 'title' must be a str, got {type(title).__name__}")
    target = None if path is None else _check_path(path)
    Figure, FigureCanvasAgg, MaxNLocator = _import_matplotlib()

    columns = min(len(names), _MAX_COLUMNS)
    rows = math.ceil(len(names) / columns)
    fig = Figure(
        figsize=(_SUBPLOT_SIZE[0] * columns, _SUBPLOT_SIZE[1] * rows), layout="constrained"
    )
    FigureCanvasAgg(fig)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, columns, i + 1)
        if name in curves:  # the learning rate is a setting, not a training curve
            ax.plot(x, curves[name], color=_TRAIN_COLOR,
                    label="learning rate" if name in ("learning_rate", "lr") else "train")
        val = curves.get(_VAL + name)
        if val is not None:
            ax.plot(x, val, color=_VAL_COLOR, label="validation")
        if best is not None:
            ax.axvline(best + 1, color=_BEST_COLOR, linestyle="--",
                       label=f"best epoch ({best + 1})")
            if val is not None:
                ax.plot([best + 1], [val[x == best + 1][0]], "o", color=_BEST_COLOR)
        if stopped is not None:
            ax.axvline(stopped + 1, color=_STOP_COLOR, linestyle=":",
                       label=f"early stop ({stopped + 1})")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title is not None:
        fig.suptitle(title)
    if target is not None:
        kind = target.suffix.lower().lstrip(".")
        fig.savefig(target, format=kind if kind in fig.canvas.get_supported_filetypes()
                    else "png")
    return fig
