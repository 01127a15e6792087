"""Keras-style ``fit``, ``evaluate`` and ``predict`` for any :class:`fastnn.nn.Module`.

``fit`` checks its arguments, then runs an epoch loop (:func:`_epoch_loop`):
each epoch a pass of training steps (:func:`_train_epoch`) and an evaluation
of the validation data (:func:`_run_eval`), with the callbacks around them.
One training step is the loop a user would write by hand, chosen by
:func:`fastnn.training.steps.choose_step`:

* a model with its own ``backward`` (built-in layers, ``Sequential``) runs on
  NumPy arrays, layer by layer::

      optimizer.zero_grad(); pred = model(xb); value = loss(pred, yb)
      model.backward(loss.backward()); optimizer.step()

* a ``Module`` subclass that defines only ``forward`` (PyTorch style) runs on
  Tensors through autograd::

      optimizer.zero_grad(); value = loss(model(Tensor(xb)), Tensor(yb))
      value.backward(); optimizer.step()

so ``fit`` and a hand-written loop give identical results for the same seed.
When :class:`fastnn.nn.TrainStep` accepts the model, loss and optimizer (today
a Sequential of built-in layers, a built-in loss and optimizer; 2-D inputs, not
distributed), ``fit`` runs each step through it instead: one C++ call with
bit-identical results, so ``History`` and the weights are the same either way.
Evaluation and prediction run in eval mode without recording a graph and return
NumPy arrays whichever kind the model is.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import numpy as np

from .. import nn, optim
from .._random import local_generator
from .._validation import (
    NamedInput,
    as_array,
    as_float32,
    check_flag,
    check_int,
    check_number,
    shape_str,
)
from ..autograd import as_tensor, no_grad
from ..callbacks import Callback, EarlyStopping, ModelCheckpoint, TerminateOnNaN
from ..data import DataLoader
from ..distributed import init as init_distributed
from ..distributed._fit import FitContext, fingerprint, settings_of
from ..nn import functional as F
from ..nn.loss import _Loss
from .forward_state import forward_state_kept
from .history import History
from .metrics import MetricFn, check_metric_targets, resolve_metrics
from .model_lock import model_lock
from .progress import EpochProgress
from .steps import (
    Step,
    checked_loss,
    choose_step,
    counts_unequally,
    forward,
    mean_divisor,
    target_tensor,
    to_numpy,
    uses_autograd,
)

_LOSSES = {
    "mse": nn.MSELoss,
    "mean_squared_error": nn.MSELoss,
    "cross_entropy": nn.CrossEntropyLoss,
    # Keras's names take probabilities (its from_logits=False): a model ending in Softmax
    "categorical_crossentropy": nn.ProbabilityCrossEntropyLoss,
    "sparse_categorical_crossentropy": nn.ProbabilityCrossEntropyLoss,
    "bce": nn.BCELoss,
    "binary_crossentropy": nn.BCELoss,
    "bce_with_logits": nn.BCEWithLogitsLoss,
}
# The functional losses (with their default arguments) and loss classes that `loss=` also
# takes, as Keras takes a loss function: each stands for its module.
_LOSS_FUNCTIONS = {
    F.mse_loss: nn.MSELoss,
    F.cross_entropy: nn.CrossEntropyLoss,
    F.binary_cross_entropy: nn.BCELoss,
    F.binary_cross_entropy_with_logits: nn.BCEWithLogitsLoss,
}
_LOSS_CLASSES = tuple(_LOSS_FUNCTIONS.values())
_OPTIMIZERS = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
}


def _resolve_loss(loss: Any, func: str) -> nn.Module:
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise ValueError(f"{func}: unknown loss {loss!r}; expected one of {sorted(_LOSSES)}")
        return _LOSSES[loss]()
    if isinstance(loss, type) and loss in _LOSS_CLASSES:
        return loss()
    if isinstance(loss, FunctionType) and loss in _LOSS_FUNCTIONS:
        return _LOSS_FUNCTIONS[loss]()
    builtin_layer = isinstance(loss, nn.Module) and not isinstance(loss, _Loss) and \
        type(loss).__module__.startswith("fastnn.")  # e.g. nn.ReLU(): a layer, not a loss
    if builtin_layer or not (isinstance(loss, nn.Module) and
                             callable(getattr(loss, "backward", None))):
        raise TypeError(
            f"{func}: argument 'loss' must be a fastnn loss (e.g. nn.CrossEntropyLoss()), its "
            "class, F.cross_entropy / F.mse_loss / F.binary_cross_entropy(_with_logits) or a "
            f"name, got {type(loss).__name__}"
        )
    if getattr(loss, "reduction", None) == "none":
        raise ValueError(f"{func}: argument 'loss' has reduction='none' (per-sample losses); "
                         "training and evaluation need one number per batch: use 'mean' or "
                         "'sum'")
    return loss


def _resolve_optimizer(optimizer: Any, model: nn.Module) -> optim.Optimizer:
    if isinstance(optimizer, str):
        if optimizer not in _OPTIMIZERS:
            raise ValueError(
                f"fit(): unknown optimizer {optimizer!r}; expected one of {sorted(_OPTIMIZERS)}"
            )
        return _OPTIMIZERS[optimizer](model.parameters())
    if not isinstance(optimizer, optim.Optimizer):
        raise TypeError(
            f"fit(): argument 'optimizer' must be a fastnn.optim.Optimizer or a name, "
            f"got {type(optimizer).__name__}"
        )
    return optimizer


# Off only in tests that compare fit with and without the one-call step.
_USE_TRAIN_STEP = True


def _check_model(model: Any, func: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{func}: argument 'model' must be a fastnn.nn.Module, got {type(model).__name__}"
        )


def _check_width(model: nn.Module, X: np.ndarray, func: str, xname: str = "X") -> None:
    """Raises when ``X``'s feature count cannot feed the model's first layer (a Linear at
    the head of nested Sequentials), naming the data rather than an internal batch."""
    first: Any = model
    while isinstance(first, nn.Sequential) and len(first):
        first = first[0]
    if isinstance(first, nn.Linear) and X.ndim == 1:
        raise ValueError(f"{func}: argument '{xname}' has shape {shape_str(X.shape)}, one "
                         f"number per sample, but the model's first layer ({first!r}) takes "
                         f"samples of {first.in_features} features: shape (N, "
                         f"{first.in_features})")
    if isinstance(first, nn.Linear) and X.ndim >= 2 and X.shape[-1] != first.in_features:
        raise ValueError(f"{func}: argument '{xname}' has {X.shape[-1]} features per sample "
                         f"(shape {shape_str(X.shape)}), but the model's first layer "
                         f"({first!r}) takes {first.in_features}")


def _check_xy(
    X: Any, y: Any, func: str, xname: str = "X", yname: str = "y", model: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    X = as_float32(X, func, xname)
    y = as_array(y, func, yname)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{func}: argument '{yname}' must hold numbers (class labels or "
                        f"targets), got dtype {y.dtype}")
    if X.ndim == 0:
        raise ValueError(f"{func}: argument '{xname}' must have at least 1 dimension, got a scalar")
    if len(X) == 0:
        raise ValueError(f"{func}: argument '{xname}' is empty (0 samples)")
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(
            f"{func}: arguments '{xname}' and '{yname}' must have the same number of samples, "
            f"got {len(X)} and {len(y) if y.ndim else 'a scalar'}"
        )
    if model is not None:
        _check_width(model, X, func, xname)
    return X, y


# losses of class labels, and those of them that also take class-probability rows
_CLASS_LOSSES = (nn.CrossEntropyLoss, nn.NLLLoss, nn.ProbabilityCrossEntropyLoss)
_SOFT_TARGET_LOSSES = (nn.CrossEntropyLoss, nn.ProbabilityCrossEntropyLoss)
_ELEMENTWISE_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                       nn.BCEWithLogitsLoss)


def _output_width(model: nn.Module) -> int | None:
    """The output width of a Sequential MLP (its last Linear's), None when not known."""
    if not isinstance(model, nn.Sequential):
        return None
    last = None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            last = m
    return None if last is None else last.out_features


def _output_shape(model: nn.Module, X: np.ndarray) -> tuple[int, ...] | None:
    """The model's output shape per sample: ``(width,)`` for a Sequential MLP, else from a
    forward pass on the first sample in eval mode (no dropout, no graph; the mode is
    restored); ``None`` when that fails (the training step then reports the problem)."""
    width = _output_width(model)
    if width is not None and X.ndim == 2 and isinstance(list(model.modules())[-1], nn.Linear):
        return (width,)
    try:  # a throwaway random stream: a forward that draws (F.dropout's default
        # training=True) must not shift the global one, or fit would leave the hand loop's
        with _eval_mode(model), local_generator(np.random.default_rng(0)):
            out = to_numpy(forward(model, X[:1], uses_autograd(model)))
    except Exception:
        return None
    return tuple(out.shape[1:]) if out.ndim >= 1 and len(out) == 1 else None


def _keras_targets(model: nn.Module, loss: nn.Module, y: np.ndarray, X: np.ndarray,
                   func: str, yname: str) -> np.ndarray:
    """``y`` in the shape the loss takes, from the shapes Keras accepts: labels of shape
    ``(N, 1)`` and integer one-hot rows for cross-entropy, and ``(N,)`` targets for a
    one-column output, and bool labels or targets (as 0/1). Element-wise losses need
    targets of the output's shape: any other shape raises here, naming the argument
    (PyTorch would broadcast ``(N,)`` against ``(N, 1)`` into an ``(N, N)`` loss)."""
    if y.dtype == np.bool_:
        y = y.astype(np.int64 if isinstance(loss, _CLASS_LOSSES)
                     else np.float32)
    if isinstance(loss, _CLASS_LOSSES):
        return _class_targets(model, loss, y, X, func, yname)
    if not isinstance(loss, _ELEMENTWISE_LOSSES):
        return y
    shape = _output_shape(model, X)
    if shape is None:
        return y
    if y.ndim == 1 and shape == (1,):
        y = y.reshape(-1, 1)
    if tuple(y.shape[1:]) != shape:
        raise ValueError(
            f"{func}: argument '{yname}' has shape {shape_str(y.shape)}, but the model's "
            f"output has shape {shape_str((len(y),) + shape)}; {type(loss).__name__} needs "
            "targets of the output's shape")
    return y


def _class_targets(model: nn.Module, loss: nn.Module, y: np.ndarray, X: np.ndarray,
                   func: str, yname: str) -> np.ndarray:
    """Cross-entropy / NLL targets: labels ``(N,)`` or ``(N, 1)`` (Keras's sparse form),
    or for cross-entropy class probabilities ``(N, C)`` (one-hot integer rows become
    float), ``C`` the model's output width where it is known. Any other shape raises
    here, naming the argument, instead of inside a training step; so does a model whose
    output for ``X`` is not ``(N, C)`` class scores, and a label it has no class for
    (:func:`_check_labels`)."""
    shape = _output_shape(model, X)  # one forward of a sample at most, for both checks
    if shape is not None and len(shape) != 1:
        raise ValueError(
            f"{func}: the model's output for argument 'X' of shape {shape_str(X.shape)} has "
            f"shape {shape_str((len(X),) + shape)}, but {type(loss).__name__} takes (N, C) "
            "class scores (flatten the input, e.g. with nn.Flatten(), or reshape X)")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        _check_labels(model, loss, y, shape, func, yname)
        return y
    expected = "(N,) class labels" + (
        " or (N, C) class probabilities" if isinstance(loss, _SOFT_TARGET_LOSSES) else "")
    if y.ndim != 2 or not isinstance(loss, _SOFT_TARGET_LOSSES):
        raise ValueError(f"{func}: argument '{yname}' has shape {shape_str(y.shape)}; "
                         f"{type(loss).__name__} takes {expected}")
    if shape is not None and shape != (y.shape[1],):
        raise ValueError(
            f"{func}: argument '{yname}' has shape {shape_str(y.shape)}, class probabilities "
            f"over {y.shape[1]} classes, but the model's output has shape "
            f"{shape_str((len(y),) + shape)}; {type(loss).__name__} takes {expected}")
    return y.astype(np.float32) if y.dtype.kind in "iub" else y


def _check_labels(model: nn.Module, loss: nn.Module, y: np.ndarray,
                  shape: tuple[int, ...] | None, func: str, yname: str) -> None:
    """Float class labels that are not whole numbers, and labels beyond the model's
    output width (``shape``: its output for one sample, when known), raise here, naming
    the data (the step would report a batch's label under an internal name, after the
    steps before it changed the weights)."""
    if y.dtype.kind not in "iuf" or not y.size:
        return
    if y.dtype.kind == "f":
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            raise TypeError(f"{func}: argument '{yname}' must hold integer class labels "
                            f"(whole numbers), got non-integral values such as "
                            f"{float(y[~whole][0])!r}")
        huge = np.abs(y) >= 2.0**53  # would wrap in the int64 cast (1e20 read as -2**63)
        if huge.any():
            raise IndexError(f"{func}: argument '{yname}' holds class label "
                             f"{float(y[huge][0])!r}, beyond any number of classes")
        y = y.astype(np.int64)
    width = _output_width(model)
    if width is None:  # a Module subclass: the width its forward gives one sample
        width = shape[0] if shape is not None and len(shape) == 1 else None
    if width is None:
        return
    counted = y[y != getattr(loss, "ignore_index", None)]
    if counted.size and (counted.max() >= width or counted.min() < 0):
        bad = counted.max() if counted.max() >= width else counted.min()
        raise IndexError(f"{func}: argument '{yname}' holds class label {bad}, but the model "
                         f"outputs {width} classes (labels 0..{width - 1})")


def soft_targets(loss: nn.Module, y: np.ndarray) -> bool:
    """Whether ``y`` holds class probabilities (one-hot or smoothed rows) for cross-entropy:
    the fused step and the NumPy loss take class indices, autograd takes both."""
    return isinstance(loss, nn.CrossEntropyLoss) and y.ndim == 2 and y.dtype.kind == "f"


@contextmanager
def _modes_restored(model: nn.Module):
    """Runs the block, then restores each module's train/eval mode as it was before (read
    and written under the model's lock: not in the middle of another thread's pass)."""
    lock = model_lock(model)
    with lock:
        modes = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        with lock:
            for m, training in modes:
                object.__setattr__(m, "training", training)


@contextmanager
def _eval_mode(model: nn.Module):
    """Runs the block in eval mode, holding the model's lock, then restores each module's
    previous mode."""
    with model_lock(model), _modes_restored(model):
        model.eval()
        yield


class _Averages:
    """Running loss and metric averages over the batches of one pass."""

    def __init__(self, loss: nn.Module, metric_fns: dict[str, MetricFn]) -> None:
        self.loss = loss
        self.sum_reduction = getattr(loss, "reduction", "mean") == "sum"
        self.metric_fns = metric_fns
        self.loss_total = 0.0
        self.samples = 0.0  # the mean losses' divisors, summed (mean_divisor)
        self.metric_totals = {name: [0.0, 0] for name in metric_fns}

    def add(self, value: float, pred: np.ndarray | None, target: np.ndarray) -> None:
        """Adds one batch; ``pred`` is only read by metrics (``None`` when there are none)."""
        if self.sum_reduction:
            self.loss_total += value
        else:
            n = mean_divisor(self.loss, target)
            if n > 0:  # a batch of only ignored targets (loss NaN) counts for nothing
                self.loss_total += value * n
                self.samples += n
        for name, fn_ in self.metric_fns.items():
            s, c = fn_(pred, target)
            self.metric_totals[name][0] += s
            self.metric_totals[name][1] += c

    def reduce(self, dist: FitContext) -> None:
        """Adds up the totals of all ranks (distributed fit), in place."""
        totals = [self.loss_total, self.samples, *sum(self.metric_totals.values(), [])]
        totals = dist.sum(totals)
        self.loss_total, self.samples = totals[0], float(totals[1])
        for i, name in enumerate(self.metric_totals):
            self.metric_totals[name] = totals[2 + 2 * i : 4 + 2 * i]

    def logs_over(self, dist: FitContext) -> dict[str, float]:
        """:meth:`logs` of the totals summed over all ranks, this object unchanged."""
        twin = copy.copy(self)
        twin.metric_totals = {k: list(v) for k, v in self.metric_totals.items()}
        twin.reduce(dist)
        return twin.logs()

    def logs(self, prefix: str = "") -> dict[str, float]:
        if self.sum_reduction:
            loss = self.loss_total
        else:
            loss = self.loss_total / self.samples if self.samples > 0 else float("nan")
        out = {prefix + "loss": loss}
        for name, (s, c) in self.metric_totals.items():
            out[prefix + name] = s / max(c, 1)
        return out


def _run_eval(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    loss: nn.Module,
    metric_fns: dict[str, MetricFn],
    batch_size: int,
    prefix: str = "",
    dist: FitContext | None = None,
    func: str = "fit()",
    named: NamedInput | None = None,
) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``(X, y)`` in eval mode (without recording a graph);
    ``named`` names the argument ``X`` came from in the model's shape errors."""
    named = NamedInput(func, "X", X.shape) if named is None else named
    averages = _Averages(loss, metric_fns)
    if dist is not None:  # this rank's share, then the totals of all shares
        X, y = X[dist.val_share(len(X))], y[dist.val_share(len(y))]
    autograd = uses_autograd(model) or soft_targets(loss, y)
    with _eval_mode(model), no_grad():
        batches = DataLoader(X, y, batch_size=batch_size)._epoch(views=True) if len(X) else ()
        for xb, yb in batches:
            if autograd:
                pred = named.call(model, as_tensor(xb))
                value = float(checked_loss(loss, pred, target_tensor(loss, yb), func))
                pred = to_numpy(pred)
            else:
                pred = named.call(model, xb)
                value = float(loss(pred, yb))
            averages.add(value, pred, yb)
    if dist is not None:
        averages.reduce(dist)
    return averages.logs(prefix)


def _shard_batches(
    loader: DataLoader, dist: FitContext, epoch: int, shuffle: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """This rank's batches of ``epoch`` (distributed fit): its shard, in shard order."""
    idx = dist.train_indices(loader.dataset_size, epoch, shuffle)
    b = loader.batch_size
    for i in range(0, len(idx), b):
        yield loader.X[idx[i : i + b]], loader.y[idx[i : i + b]]


def fit(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    loss: Any,
    optimizer: Any,
    epochs: int = 10,
    batch_size: int | None = 32,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    callbacks: Iterable[Callback] | None = (),
    shuffle: bool = True,
    metrics: Sequence[str] | None = (),
    verbose: int = 1,
    seed: int | None = None,
    distributed: bool = False,
) -> History:
    r"""Trains ``model`` on ``(X, y)`` with mini-batch gradient descent, Keras-style.

    Each epoch runs over shuffled mini-batches in training mode (dropout on),
    then evaluates the validation data in eval mode. ``History.history`` gets
    ``"loss"``, each metric, and ``"val_"`` twins when there is validation data
    (means over the samples; with a loss of ``reduction="sum"``, sums over the
    training and validation sets, which then scale with the sets' sizes). When
    it returns, every module is back in the train/eval mode it had before.

    Args:
        model (Module): the network; its parameters are updated in place. Built-in
            layers and ``Sequential`` train on NumPy arrays through their own
            ``backward``; a ``Module`` subclass that defines only ``forward``
            (PyTorch style, with Tensor ops) is called on Tensors and trained with
            ``loss.backward()`` (see :mod:`fastnn.training.steps`), with every
            callback, ``distributed=True`` and ``fastnn.save`` working alike.
        X (array_like): inputs, shape ``(N, *)``; float64 is converted to float32 once.
        y (array_like): targets, shape ``(N, ...)`` (integer labels for cross-entropy).
        loss (Module, str or function): a fastnn loss (e.g. ``nn.CrossEntropyLoss()``),
            one of ``"cross_entropy"`` (logits), ``"mse"``, ``"bce"``, ``"bce_with_logits"``,
            Keras's ``"sparse_categorical_crossentropy"`` / ``"categorical_crossentropy"``
            (probabilities, as Keras: :class:`nn.ProbabilityCrossEntropyLoss`), or
            ``F.cross_entropy``, ``F.mse_loss``, ``F.binary_cross_entropy``,
            ``F.binary_cross_entropy_with_logits`` (or their classes), which stand for
            those losses with default arguments. For a
            forward-only model it may also be a forward-only loss Module returning a
            0-d Tensor.
        optimizer (Optimizer or str): e.g. ``optim.Adam(model.parameters())`` or
            ``"adam"``/``"sgd"``/... with PyTorch's defaults. A name builds a new
            optimizer for this call (Keras keeps the one ``compile`` made): to continue
            training with its state (Adam's moments, a rate a callback changed) in a
            later ``fit``, pass the same Optimizer object to both.
        epochs (int): passes over the training data. Default: 10.
        batch_size (int, optional): samples per step; ``None`` means 32 (Keras). Default: 32.
        validation_data (tuple, optional): ``(X_val, y_val)``; takes precedence over
            ``validation_split``. Default: ``None``.
        validation_split (float): fraction in [0, 1) of the samples held out for
            validation: ``X[floor(N * (1 - validation_split)):]``, the end of ``X``/``y``
            before shuffling, as Keras does.
            Default: 0.
        callbacks (iterable of Callback, optional): e.g. ``callbacks.EarlyStopping``.
            Default: ``()`` (``None`` is the same).
        shuffle (bool): reshuffle the training data every epoch. Default: ``True``.
        metrics (sequence of str, optional): from ``"accuracy"`` (``"acc"``), ``"mse"``,
            ``"mae"``. Default: ``()`` (``None`` is the same).
        verbose (int): 0 silent, 1 a progress bar per epoch, 2 one line per epoch
            (Keras's ``"auto"`` is 1, ``True`` / ``False`` are 1 / 0). Default: 1.
        seed (int, optional): seeds the shuffling order (epoch :math:`e`:
            ``np.random.default_rng([seed, e]).permutation(N)``, as
            :class:`fastnn.data.DataLoader` and :func:`fastnn.distributed.shard` draw
            it); ``None`` uses the global generator (:func:`fastnn.manual_seed`). Not
            the dropout masks, which come from the global generator as in a hand-written
            loop: for a run that repeats exactly with dropout, call
            :func:`fastnn.manual_seed` first (with ``distributed=True``, ``seed`` also
            seeds them, see below). Default: ``None``.
        distributed (bool): data-parallel training over MPI, every rank running
            this same call (e.g. under ``mpiexec -n 4``); see below. Default: ``False``.

    With ``distributed=True``, ``fit`` calls :func:`fastnn.distributed.init`,
    copies rank 0's weights to every rank (``broadcast_parameters``) and uses
    rank 0's ``seed`` (one drawn from rank 0's global generator when ``None``)
    on all ranks. Each epoch a rank trains on its
    :func:`fastnn.distributed.shard` of ``X`` (a fresh permutation per epoch
    when ``shuffle``; the last ``N mod world_size`` samples of the order sit
    the epoch out) with batches of ``batch_size`` per rank, and every step
    averages the gradients over ranks before ``optimizer.step()``: the same
    steps, to float rounding, as one process with batch
    ``world_size * batch_size`` (for mean-reduced losses). Validation is split
    ``r::world_size`` across ranks; losses and metrics (training and
    validation, and the running means that callbacks see after each batch) are added up
    over ranks,
    so ``History`` and every callback's decision (early stopping, learning
    rates) are the same on every rank. Rank 0 alone prints (its own progress
    and what callbacks print) and runs ``ModelCheckpoint`` and ``CSVLogger``;
    the other callbacks run on every rank. fastnn's global generator is
    reseeded per rank (child ``rank`` of ``seed``'s ``SeedSequence``), so
    dropout masks differ across ranks and repeat for the same ``seed``.

    Returns:
        History: per-epoch logs, ``epoch``, ``best_epoch`` and ``stopped_epoch``.

    Example::

        >>> model = fn.nn.Sequential(fn.nn.Linear(64, 64), fn.nn.ReLU(), fn.nn.Linear(64, 10))
        >>> hist = fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(),
        ...               optimizer=fn.optim.Adam(model.parameters()), epochs=20,
        ...               validation_split=0.1, metrics=["accuracy"],
        ...               callbacks=[fn.callbacks.EarlyStopping(patience=3)])
        >>> hist.history["val_accuracy"][-1]
    """
    func = "fit()"
    distributed = check_flag(distributed, func, "distributed")
    if distributed:  # first: a bad argument on one rank then aborts the job (init's hook)
        init_distributed()
    _check_model(model, func)
    X, y = _check_xy(X, y, func, model=model)
    loss = _resolve_loss(loss, func)
    optimizer = _resolve_optimizer(optimizer, model)
    epochs = check_int(epochs, func, "epochs", low=0)
    batch_size = 32 if batch_size is None else check_int(batch_size, func, "batch_size", low=1)
    if isinstance(verbose, str) and verbose == "auto":  # Keras's default, which means 1
        verbose = 1
    elif isinstance(verbose, (bool, np.bool_)):  # verbose=True / False, as Keras takes them
        verbose = int(verbose)
    verbose = check_int(verbose, func, "verbose", low=0)
    shuffle = check_flag(shuffle, func, "shuffle")
    if seed is not None:
        seed = check_int(seed, func, "seed", low=0)
    metric_fns = resolve_metrics(metrics, loss, func)
    callbacks = _check_callbacks(callbacks, func)
    x_named = NamedInput(func, "X", X.shape)  # X as given, before the validation split
    X, y, val = _split_validation(X, y, validation_data, validation_split, func)
    val_named = None if val is None else x_named  # the last validation_split of X
    if val is not None and validation_data is not None:
        _check_width(model, val[0], func, "validation_data[0]")
        val_named = NamedInput(func, "validation_data[0]", val[0].shape)
    y = _keras_targets(model, loss, y, X, func, "y")
    if metric_fns:
        check_metric_targets(metric_fns, _output_shape(model, X), y, func, "y")
    if val is not None:
        yname = "validation_data[1]" if validation_data is not None else "y"
        val = (val[0], _keras_targets(model, loss, val[1], val[0], func, yname))
        if metric_fns:
            check_metric_targets(metric_fns, _output_shape(model, val[0]), val[1], func, yname)
    optimizer._check_holds_any(model.parameters(), func)

    step = choose_step(model, loss, optimizer, X, distributed=distributed,
                       want_pred=bool(metric_fns), allow_fused=_USE_TRAIN_STEP,
                       soft_targets=soft_targets(loss, y), named=x_named,
                       weighted=distributed and counts_unequally(loss, y))
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    run = _Run(model, loss, step, metric_fns, callbacks, loader, loader.shuffle, val,
               max(batch_size, 256), epochs, len(loader), len(X), verbose,
               batch_hooks=any(_has_batch_hooks(cb) for cb in callbacks), val_named=val_named)
    if distributed:
        run.distribute(FitContext(model, seed), batch_size, optimizer, (X, y), func)
    history = History()
    history.params = {"epochs": epochs, "steps": run.steps, "verbose": run.verbose}
    for cb in run.callbacks:
        cb.set_model(model)
        cb.set_params(history.params)
        cb.optimizer = optimizer

    with run.dist.quiet() if run.dist is not None else nullcontext(), _modes_restored(model):
        _epoch_loop(run, history)
    for cb in run.callbacks:
        if getattr(cb, "stopped_epoch", 0):
            history.stopped_epoch = cb.stopped_epoch
            break
    # The best epoch: EarlyStopping's (whose weights restore_best_weights loads), else a
    # best-only ModelCheckpoint's (the file kept), else the first other callback that
    # judged a monitored quantity (ReduceLROnPlateau).
    judge = min((cb for cb in run.callbacks if getattr(cb, "best", None) is not None
                 and getattr(cb, "best_epoch", None) is not None),
                key=lambda cb: 0 if isinstance(cb, EarlyStopping) else
                1 if isinstance(cb, ModelCheckpoint) else 2, default=None)
    if judge is not None:
        history.best_epoch = judge.best_epoch
    if run.dist is not None:  # rank 0's: a best-only ModelCheckpoint judges there alone
        history.best_epoch, history.stopped_epoch = run.dist.from_root(
            (history.best_epoch, history.stopped_epoch))
    return history


def _check_callbacks(callbacks: Iterable[Callback] | None, func: str) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        raise TypeError(f"{func}: argument 'callbacks' must be a list of callbacks, got one "
                        f"{type(callbacks).__name__}: pass [{type(callbacks).__name__}(...)]")
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"{func}: argument 'callbacks' must be a list of callbacks, got "
                        f"{type(callbacks).__name__}") from None
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"{func}: callbacks must be fastnn.callbacks.Callback, got {type(cb).__name__}"
            )
    return callbacks


def _split_validation(
    X: np.ndarray, y: np.ndarray, validation_data: Any, validation_split: Any, func: str
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """``(X_train, y_train, (X_val, y_val) or None)`` from fit's validation arguments."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(f"{func}: argument 'validation_data' must be a tuple (X_val, y_val)")
        return X, y, _check_xy(*validation_data, func, "validation_data[0]", "validation_data[1]")
    split = check_number(
        validation_split, func, "validation_split", low=0.0, high=1.0, high_open=True
    )
    n_val = len(X) - math.floor(len(X) * (1.0 - split))  # Keras's split point
    if split > 0 and (n_val == 0 or n_val == len(X)):
        raise ValueError(
            f"{func}: validation_split={split} leaves {n_val} validation and "
            f"{len(X) - n_val} training samples out of {len(X)}; both must be >= 1"
        )
    if not n_val:
        return X, y, None
    cut = len(X) - n_val
    return X[:cut], y[:cut], (X[cut:], y[cut:])


@dataclass
class _Run:
    """What one ``fit`` call's epochs read: the model, its step, the data and the callbacks."""

    model: nn.Module
    loss: nn.Module
    step: Step
    metric_fns: dict[str, MetricFn]
    callbacks: list[Callback]
    loader: DataLoader
    shuffle: bool
    val: tuple[np.ndarray, np.ndarray] | None
    val_batch_size: int
    epochs: int
    steps: int  # per epoch (per rank when distributed)
    samples: int  # per epoch, over all ranks
    verbose: int
    dist: FitContext | None = None
    # Whether callbacks see per-batch logs (distributed: a collective per batch), decided
    # before the other ranks drop rank 0's file writers, so all run the same collectives.
    batch_hooks: bool = False
    # names the argument the validation inputs came from in the model's shape errors
    val_named: NamedInput | None = None

    def distribute(self, dist: FitContext, batch_size: int, optimizer: optim.Optimizer,
                   data: tuple[np.ndarray, np.ndarray], func: str) -> None:
        """Turns this run into one rank's share of a data-parallel fit."""
        dist.check_sizes(self.samples, 0 if self.val is None else len(self.val[0]), func)
        dist.check_same({
            "epochs": self.epochs, "batch_size": batch_size, "shuffle": self.shuffle,
            "metrics": list(self.metric_fns), "loss": settings_of(self.loss),
            "optimizer": (type(optimizer).__name__,
                          [settings_of(g) for g in optimizer.param_groups]),
            "data": fingerprint(*data),
            "validation data": None if self.val is None else fingerprint(*self.val),
        }, func)
        self.dist = dist
        self.samples -= self.samples % dist.size
        self.steps = -(-(self.samples // dist.size) // batch_size)
        self.callbacks = dist.callbacks(self.callbacks)
        self.verbose = self.verbose if dist.is_root else 0

    def batches(self, epoch: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        if self.dist is None:
            return self.loader._epoch(views=True)  # the step only reads its batch
        return _shard_batches(self.loader, self.dist, epoch, self.shuffle)


def _has_batch_hooks(cb: Callback) -> bool:
    """Whether ``cb`` overrides a per-batch method of :class:`Callback`."""
    return any(getattr(type(cb), name) is not getattr(Callback, name)
               for name in ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
                            "on_batch_end"))


def _epoch_loop(run: _Run, history: History) -> None:
    """Trains ``run.epochs`` epochs (fewer if a callback stops), recording each in ``history``."""
    model, callbacks = run.model, run.callbacks
    model.stop_training = False
    # The first non-finite batch loss is reported with where it happened, unless
    # TerminateOnNaN is there to say so (and stop).
    nan_watch = [not any(isinstance(cb, TerminateOnNaN) for cb in callbacks)]
    for cb in callbacks:
        cb.on_train_begin({})
    logs: dict[str, float] = {}
    for epoch in range(run.epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        progress = EpochProgress(epoch, run.epochs, run.steps, run.verbose)
        logs = _train_epoch(run, epoch, progress, nan_watch)
        if run.val is not None:
            logs.update(_run_eval(model, *run.val, run.loss, run.metric_fns, run.val_batch_size,
                                  prefix="val_", dist=run.dist, named=run.val_named))
        progress.close()
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        progress.summary(logs)  # after the callbacks, as Keras's: learning_rate shows
        history.record(epoch, logs)  # last, as Keras: it sees what callbacks added
        if run.dist is not None:  # a rank stopping alone would leave the others waiting
            model.stop_training = run.dist.any(model.stop_training)
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(dict(logs))  # the last epoch's logs, as Keras


def _train_epoch(run: _Run, epoch: int, progress: EpochProgress,
                 nan_watch: list[bool]) -> dict[str, float]:
    """One pass over this rank's training batches in training mode; returns the epoch's logs.

    ``nan_watch[0]`` is ``True`` until a non-finite loss has been reported (once per fit).
    """
    lock = model_lock(run.model)
    with lock:
        run.model.train()
    averages = _Averages(run.loss, run.metric_fns)
    dist, callbacks = run.dist, run.callbacks
    for index, (xb, yb) in enumerate(run.batches(epoch)):
        for cb in callbacks:
            cb.on_train_batch_begin(index, {})
        with lock:  # a predict in another thread runs between steps (model_lock.py)
            value, pred = run.step(xb, yb)
        averages.add(value, pred, yb)
        if nan_watch[0] and not math.isfinite(value):
            nan_watch[0] = False  # once per fit: the first bad batch says where
            warnings.warn(f"fit(): the training loss is {value} at epoch {epoch + 1}, "
                          f"batch {index} (add callbacks.TerminateOnNaN() to stop there)",
                          RuntimeWarning, stacklevel=4)
        if run.batch_hooks:
            # Keras's batch logs: the epoch's running loss and metrics so far (over all
            # ranks when distributed: the same on every rank)
            batch_logs = averages.logs() if dist is None else averages.logs_over(dist)
            for cb in callbacks:
                cb.on_train_batch_end(index, batch_logs)
            if dist is not None:  # any rank's callbacks stopping stops every rank
                run.model.stop_training = dist.any(run.model.stop_training)
        progress.update(len(xb) * (1 if dist is None else dist.size), averages.logs)
        if run.model.stop_training:
            break
    if dist is not None:
        averages.reduce(dist)
    return averages.logs()


def evaluate(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    loss: Any,
    metrics: Sequence[str] | None = (),
    batch_size: int | None = 256,
) -> dict[str, float]:
    """Computes the loss and metrics of ``model`` on ``(X, y)`` in eval mode (no dropout).

    The model's previous train/eval mode is restored afterwards, and so is what its last
    forward saved for ``backward`` (a NumPy-path backward after this pass still sees it).

    Args:
        model (Module): the network.
        X (array_like): inputs, shape ``(N, *)``.
        y (array_like): targets.
        loss (Module or str): as in :func:`fit`.
        metrics (sequence of str, optional): as in :func:`fit`. Default: ``()``.
        batch_size (int, optional): samples per forward pass (``None``: 256). Default: 256.

    Returns:
        dict[str, float]: ``"loss"`` and one key per metric.

    Example::

        >>> fn.evaluate(model, X_test, y_test, loss="cross_entropy", metrics=["accuracy"])
        {'loss': 0.0841..., 'accuracy': 0.9777...}
    """
    func = "evaluate()"
    _check_model(model, func)
    X, y = _check_xy(X, y, func, model=model)
    loss = _resolve_loss(loss, func)
    batch_size = 256 if batch_size is None else check_int(batch_size, func, "batch_size", low=1)
    metric_fns = resolve_metrics(metrics, loss, func)
    # the checks may run the model on a sample: inside, so that a backward to come still
    # sees what the last forward before this call saved
    with model_lock(model), forward_state_kept(model, loss):
        y = _keras_targets(model, loss, y, X, func, "y")
        if metric_fns:
            check_metric_targets(metric_fns, _output_shape(model, X), y, func, "y")
        return _run_eval(model, X, y, loss, metric_fns, batch_size, func=func)


def predict(model: nn.Module, X: Any, batch_size: int | None = 256) -> np.ndarray:
    """Runs ``model`` on ``X`` in eval mode (no dropout) and returns the outputs.

    The model's previous train/eval mode is restored afterwards, and so is what its last
    forward saved for ``backward`` (a NumPy-path backward after this pass still sees it).

    Args:
        model (Module): the network.
        X (array_like): inputs, shape ``(N, *)``.
        batch_size (int, optional): samples per forward pass (``None``: 256). Default: 256.

    Returns:
        np.ndarray: float32 outputs, shape ``(N, *)``.

    Example::

        >>> logits = fn.predict(model, X_test)           # (N, classes)
        >>> labels = logits.argmax(axis=1)
    """
    func = "predict()"
    _check_model(model, func)
    X = as_float32(X, func, "X")
    if X.ndim == 0:
        raise ValueError(f"{func}: argument 'X' must have at least 1 dimension, got a scalar")
    _check_width(model, X, func)
    batch_size = 256 if batch_size is None else check_int(batch_size, func, "batch_size", low=1)
    autograd = uses_autograd(model)
    named = NamedInput(func, "X", X.shape)
    with _eval_mode(model), forward_state_kept(model):  # a backward to come uses them
        if len(X) <= batch_size:
            return to_numpy(forward(model, X, autograd, named))
        outs = [to_numpy(forward(model, X[i : i + batch_size], autograd, named))
                for i in range(0, len(X), batch_size)]
    return np.concatenate(outs, axis=0)
