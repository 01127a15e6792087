"""Keras-style callbacks for :func:`fastnn.fit`.

A callback sees the training loop through hooks (``on_train_begin``,
``on_epoch_begin``, ``on_train_batch_begin``, ``on_train_batch_end``,
``on_epoch_end``, ``on_train_end``; ``on_batch_begin`` / ``on_batch_end`` are Keras's
older names of the batch hooks, called by them), each given a ``logs`` dict, as Keras
gives them:
``on_train_batch_end`` the epoch's running loss and metrics so far (over all ranks in a
distributed fit), ``on_epoch_end`` the epoch's (validation included, and callbacks may
add to them), ``on_train_end`` the last epoch's. ``fit`` sets
``callback.model``, ``callback.optimizer`` and ``callback.params`` before
training. A callback stops training by setting ``self.model.stop_training = True``.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import check_flag, check_int, check_number

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]


class Callback:
    """Base class: subclass it and override the hooks you need.

    Example::

        >>> class PrintLoss(fn.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.optimizer: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Called by ``fit`` before training with the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called by ``fit`` before training with ``{"epochs", "steps", "verbose"}``."""
        self.params = params

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """Called once after the last epoch, with the last epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called at the start of each epoch (0-based ``epoch``)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called after each epoch with its logs (``loss``, metrics, ``val_*``); may set
        ``self.model.stop_training``."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called before each training batch (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)  # Keras's backwards-compatible alias

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called after each training batch with the running means of the epoch so far."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Keras's older name of :meth:`on_train_batch_begin`, which calls it."""

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Keras's older name of :meth:`on_train_batch_end`, which calls it."""


def _check_verbose(verbose: Any, func: str, mode_follows: bool = False) -> int:
    """``verbose`` as an int >= 0 (a bool reads as 0 / 1). ``mode_follows``: in this
    signature ``mode`` comes right after ``verbose`` (Keras's order), so a mode string
    given positionally one place early is named as such."""
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    if mode_follows and isinstance(verbose, str) and verbose in ("auto", "min", "max"):
        raise TypeError(f"{func}: argument 'verbose' must be an int, got {verbose!r}: 'mode' "
                        f"comes after 'verbose' here (Keras's order), pass mode={verbose!r}")
    return check_int(verbose, func, "verbose", low=0)


# Directions of the quantities "auto" mode knows (Keras 3 asks each metric object for
# its direction and raises for a name it cannot place)
_MAXIMISED = frozenset({"acc", "accuracy", "auc", "precision", "recall", "f1", "f1_score",
                        "fbeta_score", "r2", "r2_score"})
_MINIMISED = frozenset({"loss", "mse", "mae", "mape", "msle", "rmse", "learning_rate", "lr",
                        "mean_squared_error", "mean_absolute_error", "root_mean_squared_error",
                        "mean_absolute_percentage_error", "mean_squared_logarithmic_error"})


def _auto_mode(monitor: str, func: str) -> str:
    """``"max"`` or ``"min"`` for ``mode="auto"``: ReduceLROnPlateau maximises any name
    holding "acc" (Keras 3's rule for it); the others know accuracies, AUC, precision,
    recall, F1 and R2 (max), and losses and errors (min), and raise, as Keras 3 does, for a
    name whose direction they cannot tell."""
    if func.startswith("ReduceLROnPlateau"):
        return "max" if "acc" in monitor else "min"
    name = monitor.removeprefix("val_")
    if name in _MAXIMISED or name.endswith("accuracy"):
        return "max"
    if name in _MINIMISED or name.endswith(("loss", "crossentropy", "error")):
        return "min"
    raise ValueError(f"{func}: cannot tell whether monitor={monitor!r} should be maximized or "
                     "minimized; pass mode='max' or mode='min'")


def _start(cb: Any) -> str:
    """What a monitor's best starts from, as Keras prints it: inf (min) or -inf (max)."""
    return "-inf" if cb.mode == "max" else "inf"


class _MonitorMixin:
    """Shared 'is this value an improvement' logic (Keras's ``_is_improvement``)."""

    monitor: str
    min_delta: float

    def _init_monitor(self, func: str, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str):
            raise TypeError(
                f"{func}: argument 'monitor' must be a str, got {type(monitor).__name__}"
            )
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"{func}: argument 'mode' must be 'auto', 'min' or 'max', got {mode!r}"
            )
        self.monitor = monitor
        self.mode = _auto_mode(monitor, func) if mode == "auto" else mode
        self.min_delta = abs(check_number(min_delta, func, "min_delta"))

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:  # Keras starts from -inf / +inf, which NaN never beats
            return not math.isnan(value)
        if self.mode == "max":
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def _get_monitor_value(self, logs: dict[str, float] | None) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: monitor '{self.monitor}' is not in the logs "
                f"(available: {sorted(logs or {})}); pass validation data or change 'monitor'",
                RuntimeWarning,
                stacklevel=3,
            )
        return value


class EarlyStopping(_MonitorMixin, Callback):
    r"""Stops training when a monitored quantity has stopped improving (Keras semantics).

    After each epoch the monitored value is compared with the best so far; an
    improvement must beat it by more than ``min_delta``. Training stops once
    ``patience`` epochs in a row brought no improvement.

    The first five arguments come in API.md's order (Keras has ``verbose`` before
    ``mode``, so its positional calls beyond ``patience`` do not carry over: the others
    are keyword-only, and an int in ``mode``'s place is a ``TypeError`` saying so).

    Args:
        monitor (str): quantity to watch. Default: ``"val_loss"``.
        min_delta (float): minimum change that counts as an improvement. Default: 0.
        patience (int): epochs without improvement before stopping. Default: 0.
        mode (str): ``"min"``, ``"max"`` or ``"auto"`` (``max`` for accuracies, AUC,
            precision, recall, F1 and R2, ``min`` for losses and errors; another name
            needs an explicit mode, a ``ValueError`` says so, as in Keras 3).
            Default: ``"auto"``.
        restore_best_weights (bool): at the end of training (stopped early or
            not), load the weights of the best epoch. Default: ``False``.
        verbose (int, keyword-only): 1 prints a line when training stops. Default: 0.
        baseline (float, keyword-only, optional): training also stops if the value does
            not beat ``baseline`` within ``patience`` epochs, even while it improves
            (as Keras documents it and Keras 2 did; Keras 3 stops only at an epoch without
            improvement). Default: ``None``.
        start_from_epoch (int, keyword-only): epochs to wait before monitoring. Default: 0.

    Attributes:
        best (float | None): best monitored value; ``best_epoch`` (int): its epoch;
        stopped_epoch (int): the epoch at which training stopped (0 if it did not).

    Example::

        >>> stop = fn.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
        >>> fn.fit(model, X, y, loss=loss, optimizer=opt, epochs=100,
        ...        validation_split=0.1, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        *,
        verbose: int = 0,
        baseline: float | None = None,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        func = "EarlyStopping()"
        if isinstance(mode, (int, np.integer)):
            raise TypeError(f"{func}: argument 'mode' must be 'auto', 'min' or 'max', got "
                            f"{mode!r}: the fourth argument is mode here (API.md's order: "
                            "monitor, min_delta, patience, mode, restore_best_weights), pass "
                            "verbose= by keyword")
        self._init_monitor(func, monitor, mode, min_delta)
        self.patience = check_int(patience, func, "patience", low=0)
        self.verbose = _check_verbose(verbose, func)
        self.baseline = None if baseline is None else check_number(baseline, func, "baseline")
        self.restore_best_weights = check_flag(restore_best_weights, func,
                                               "restore_best_weights")
        self.start_from_epoch = check_int(start_from_epoch, func, "start_from_epoch", low=0)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        value = self._get_monitor_value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.state_dict()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            # Only restart the count when both the best and the baseline are beaten. An
            # improvement that misses the baseline can still stop training (Keras's
            # documented rule and Keras 2's code; Keras 3 returns here, so a value that
            # improves every epoch but never reaches the baseline never stops it).
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
                return
        # only after the first monitored epoch (Keras 2 checks epoch > 0, which with
        # start_from_epoch let a baseline stop come one epoch early)
        if self.wait >= self.patience and epoch > self.start_from_epoch:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)


def _scale_lr(optimizer: Any, factor: float, min_lr: float) -> bool:
    """Multiplies every group's rate by ``factor``, no lower than ``min_lr`` (each group
    keeps its own rate, as in Keras and torch); True where any rate changed."""
    changed = False
    for group in optimizer.param_groups:
        old = float(group["lr"])
        if old > min_lr:
            group["lr"] = max(old * factor, min_lr)
            changed = True
    return changed


class ReduceLROnPlateau(_MonitorMixin, Callback):
    r"""Multiplies the learning rate by ``factor`` when a quantity stops improving (Keras);
    every parameter group's own rate is multiplied.

    Args:
        monitor (str): quantity to watch. Default: ``"val_loss"``.
        factor (float): new_lr = lr * factor, in (0, 1). Default: 0.1.
        patience (int): epochs without improvement before reducing. Default: 10.
        verbose (int): 1 prints a line at each reduction. Default: 0.
        mode (str): ``"min"``, ``"max"`` or ``"auto"`` (``max`` when the name contains
            "acc", else ``min``: Keras's rule for this callback). Default: ``"auto"``.
        min_delta (float): threshold for measuring an improvement. Default: 1e-4.
        cooldown (int): epochs to wait after a reduction before counting again. Default: 0.
        min_lr (float): lower bound on the learning rate. Default: 0.

    Example::

        >>> cb = fn.callbacks.ReduceLROnPlateau(factor=0.5, patience=3, min_lr=1e-5)
        >>> fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=50,
        ...        validation_split=0.2, callbacks=[cb])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        func = "ReduceLROnPlateau()"
        self._init_monitor(func, monitor, mode, min_delta)
        self.factor = check_number(
            factor, func, "factor", low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.patience = check_int(patience, func, "patience", low=0)
        self.cooldown = check_int(cooldown, func, "cooldown", low=0)
        self.min_lr = check_number(min_lr, func, "min_lr", low=0.0)
        self.verbose = _check_verbose(verbose, func, mode_follows=True)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None  # History.best_epoch when this is the monitor
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:  # the rate this epoch ran with, as Keras logs it
            logs["learning_rate"] = float(self.optimizer.param_groups[0]["lr"])
        value = self._get_monitor_value(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                if _scale_lr(self.optimizer, self.factor, self.min_lr):
                    new_lr = float(self.optimizer.param_groups[0]["lr"])
                    if self.verbose > 0:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr:.4g}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    Args:
        schedule (Callable): ``schedule(epoch, lr) -> new_lr`` (epoch is 0-based), called
            with each parameter group's own rate; a one-argument ``schedule(epoch)`` is
            accepted too (its rate then goes to every group).
        verbose (int): 1 prints the new rate each epoch. Default: 0.

    Example::

        >>> sched = fn.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "LearningRateScheduler(): argument 'schedule' must be callable, "
                f"got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.verbose = _check_verbose(verbose, "LearningRateScheduler()")

    def _new_lr(self, epoch: int, lr: float) -> float:
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # one-argument schedule(epoch)
            new_lr = self.schedule(epoch)
        try:
            new_lr = float(new_lr)
        except (TypeError, ValueError):
            raise TypeError("LearningRateScheduler: schedule must return a number (the new "
                            f"lr), got {type(new_lr).__name__} {new_lr!r}") from None
        if not math.isfinite(new_lr) or new_lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule returned an invalid lr {new_lr!r}")
        return new_lr

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        # each parameter group's rate goes through the schedule on its own
        new_lrs = [self._new_lr(epoch, float(g["lr"])) for g in self.optimizer.param_groups]
        for group, new_lr in zip(self.optimizer.param_groups, new_lrs):
            group["lr"] = new_lr
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{new_lrs[0]:.4g}."
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:  # as Keras logs it
            logs["learning_rate"] = float(self.optimizer.param_groups[0]["lr"])


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite, saying where (Keras).

    Prints ``Epoch E, batch B: invalid loss nan, terminating training`` (E 1-based,
    B 0-based within the epoch) and sets ``model.stop_training``.

    Example::

        >>> fn.fit(model, X, y, loss="mse", optimizer=fn.optim.SGD(model.parameters(), lr=10.0),
        ...        callbacks=[fn.callbacks.TerminateOnNaN()])
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Epoch {self._epoch + 1}, batch {batch}: invalid loss {loss}, "
                  "terminating training")
            self.model.stop_training = True


class ModelCheckpoint(_MonitorMixin, Callback):
    r"""Saves the model and optimizer state with :func:`fastnn.save` after epochs (Keras).

    ``path`` may hold ``str.format`` fields filled from the epoch (1-based) and the
    epoch's logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``, and with an
    integer ``save_freq`` the batch too (``{batch}``, 1-based within the epoch). Each file
    is written atomically and holds the optimizer state and ``{"epoch": N}`` as
    metadata, so ``fn.load(path, model, optimizer=opt)`` resumes training.

    Args:
        path (str or os.PathLike): where to save.
        monitor (str): quantity compared when ``save_best_only``. Default: ``"val_loss"``.
        save_best_only (bool): save only when ``monitor`` improves on the best so far.
            Default: ``False`` (save every epoch).
        mode (str): ``"min"``, ``"max"`` or ``"auto"`` (as :class:`EarlyStopping`).
            Default: ``"auto"``.
        verbose (int): 1 prints a line per save decision. Default: 0.
        save_weights_only (bool): save ``model.state_dict()`` only (no architecture, no
            optimizer), as Keras's weights file: reload with
            ``model.load_state_dict(fn.load(path, weights_only=True))``. Default: ``False``.
        save_freq (str or int): ``"epoch"``, or a number of batches: then it saves after
            every ``save_freq``-th batch (counted across epochs), judging
            ``save_best_only`` on that batch's logs (the epoch's running means so far),
            as Keras. Default:
            ``"epoch"``.
        initial_value_threshold (float, optional): a value the first save must beat.
            Default: ``None``.

    Attributes:
        best (float | None), best_epoch (int | None): the best monitored value and its
        0-based epoch, when ``save_best_only`` (``best_epoch`` is ``None`` before this
        run's first improvement; ``best`` carries over to a later ``fit``, as in Keras).

    Example::

        >>> ckpt = fn.callbacks.ModelCheckpoint("best.safetensors", save_best_only=True)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        verbose: int = 0,
        save_weights_only: bool = False,
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        func = "ModelCheckpoint()"
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"{func}: save_freq must be 'epoch' or a positive number of "
                             f"batches, got {save_freq!r}")
        self.save_freq = save_freq
        self.save_weights_only = check_flag(save_weights_only, func, "save_weights_only")
        self._batches = 0
        self._epoch = 0
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"{func}: argument 'path' must be a str or os.PathLike, got {type(path).__name__}"
            )
        self._init_monitor(func, monitor, mode, 0.0)
        self.path = os.fspath(path)
        self.save_best_only = check_flag(save_best_only, func, "save_best_only")
        self.verbose = _check_verbose(verbose, func)
        self.initial_value_threshold = (
            None
            if initial_value_threshold is None
            else check_number(initial_value_threshold, func, "initial_value_threshold")
        )
        self.best: float | None = self.initial_value_threshold
        self.best_epoch: int | None = None  # until save_best_only saves an improvement

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        # ``best`` carries over to the next fit, as in Keras (a later run saves only what
        # beats it); ``best_epoch`` counts this run's epochs, so it is cleared.
        self.best_epoch = None

    def _file_path(self, epoch: int, logs: dict[str, float], batch: int | None) -> str:
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None:  # saving every save_freq batches: 1-based in the epoch, as Keras
            fields["batch"] = batch + 1
        try:
            return self.path.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint: cannot fill path {self.path!r} from the fields "
                f"{sorted(fields)}: {err!r}"
            ) from None

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save(self._epoch, logs or {}, batch)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _save(self, epoch: int, logs: dict[str, float], batch: int | None = None) -> None:
        from .io import save

        path = self._file_path(epoch, logs, batch)
        if self.save_best_only:
            value = self._get_monitor_value(logs)
            if value is None:
                return
            if not self._is_improvement(value, self.best):
                if self.verbose > 0:
                    before = _start(self) if self.best is None else f"{self.best:.5f}"
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {before}")
                return
            if self.verbose > 0:
                before = _start(self) if self.best is None else f"{self.best:.5f}"
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {before} to {value:.5f}, "
                    f"saving model to {path}"
                )
            self.best, self.best_epoch = value, epoch
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:  # as Keras: a checkpoint directory is created when missing
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            save(self.model.state_dict(), path)
        else:
            save(self.model, path, optimizer=self.optimizer, metadata={"epoch": epoch + 1})


class CSVLogger(Callback):
    r"""Streams each epoch's logs to a CSV file (Keras semantics).

    Columns: ``epoch`` (0-based, as Keras writes it), then the log keys of the
    first epoch in sorted order. Each row is flushed as written, so the file
    survives a crash mid-training.

    Args:
        filename (str or os.PathLike): the CSV file.
        separator (str): the field delimiter. Default: ``","``.
        append (bool): append to an existing file (without a second header)
            instead of overwriting it. Default: ``False``.

    Example::

        >>> fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=5,
        ...        validation_split=0.2, callbacks=[fn.callbacks.CSVLogger("training.csv")])
        >>> open("training.csv").readline()
        'epoch,loss,val_loss\n'
    """

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(
                "CSVLogger(): argument 'filename' must be a str or os.PathLike, "
                f"got {type(filename).__name__}"
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"CSVLogger(): argument 'separator' must be one character, got {separator!r}"
            )
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = check_flag(append, "CSVLogger()", "append")
        self._file = None
        self._writer = None

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        continuing = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None
        self._write_header = not continuing

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self._writer = csv.DictWriter(
                self._file,
                fieldnames=["epoch", *sorted(logs)],
                delimiter=self.separator,
                extrasaction="ignore",
                restval="NA",
            )
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **logs})
        self._file.flush()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
