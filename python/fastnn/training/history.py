"""``History``: what ``fit`` returns, as in Keras."""

from __future__ import annotations

from typing import Any


class History:
    """Per-epoch records of a :func:`fastnn.fit` run.

    Attributes:
        history (dict[str, list[float]]): one list per logged quantity, one entry
            per epoch: ``"loss"``, each metric (e.g. ``"accuracy"``), and their
            ``"val_"`` twins when validation data is used.
        epoch (list[int]): the 0-based indices of the epochs that ran.
        best_epoch (int | None): the best epoch (0-based): ``EarlyStopping``'s (the
            weights ``restore_best_weights`` loads), else a ``save_best_only``
            ``ModelCheckpoint``'s, else that of the first other callback that monitors a
            quantity (``ReduceLROnPlateau``); ``None`` without one.
        stopped_epoch (int | None): the epoch at which early stopping fired, else ``None``.
        params (dict): ``epochs``, ``steps`` (batches per epoch), ``verbose``.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.params: dict[str, Any] = {}

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """Appends ``epoch`` and each of its ``logs`` (as floats); ``fit`` calls it after the
        callbacks."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epoch)}, keys=[{keys}], best_epoch={self.best_epoch})"
