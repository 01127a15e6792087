"""The training step ``fit`` runs, and the forward pass ``evaluate``/``predict`` run.

A step takes one mini-batch ``(xb, yb)`` of NumPy arrays, updates the model and
returns ``(loss value, prediction or None)``; the prediction is only made when
metrics need it. :func:`choose_step` picks one of three, in this order:

1. :class:`fastnn.nn.TrainStep`, when it accepts the model, loss and optimizer
   (one C++ call per step, bit-identical to 3.);
2. the eager autograd step, for a model written as a ``Module`` that has no
   ``backward`` of its own (PyTorch style: ``forward`` only, with Tensor ops)::

       optimizer.zero_grad(); loss = loss_fn(model(Tensor(xb)), Tensor(yb))
       loss.backward(); optimizer.step()

3. the NumPy step, layer by layer, for models with their own ``backward``
   (every built-in layer and ``Sequential`` of them)::

       optimizer.zero_grad(); value = loss_fn(model(xb), yb)
       model.backward(loss_fn.backward()); optimizer.step()

In a distributed fit, 2. and 3. average the gradients over ranks before
``optimizer.step()``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np

from .. import nn, optim
from .._validation import NamedInput
from ..autograd import as_tensor, no_grad
from ..autograd.tensor import Tensor
from ..distributed import allreduce_gradients
from ..nn.loss import _class_labels

# (xb, yb) -> (loss value, prediction as an ndarray or None)
Step = Callable[[np.ndarray, np.ndarray], tuple[float, "np.ndarray | None"]]

def uses_autograd(model: nn.Module) -> bool:
    """Whether ``model`` trains through autograd rather than its own ``backward``.

    ``True`` when the model, or a layer that a built-in ``Sequential`` would call
    ``backward`` on, has no ``backward`` of its own (it inherits
    :meth:`fastnn.nn.Module.backward`): a PyTorch-style module that defines only
    ``forward``. Such a model is called on Tensors (and returns Tensors); every
    other model is called on NumPy arrays, as before autograd existed.
    """
    cls = type(model)
    if isinstance(model, nn.Sequential) and cls.backward is nn.Sequential.backward:
        layers = list(model._modules.values())
        if len({id(m) for m in layers}) != len(layers):
            return True  # a module at two positions: only autograd gets its gradient right
        return any(uses_autograd(m) for m in layers)
    return cls.backward is nn.Module.backward


def choose_step(model: nn.Module, loss: nn.Module, optimizer: optim.Optimizer,
                X: np.ndarray, *, distributed: bool, want_pred: bool,
                allow_fused: bool = True, soft_targets: bool = False,
                named: NamedInput, weighted: bool = False) -> Step:
    """The step ``fit`` runs: a TrainStep if it applies, else autograd or layer by layer.

    Args:
        model, loss, optimizer: as given to ``fit`` (resolved).
        X (np.ndarray): the training inputs (TrainStep takes 2-D inputs only).
        distributed (bool): the gradients are averaged over ranks each step
            (TrainStep cannot do that between its backward and its update).
        want_pred (bool): the step returns the model's output (for metrics).
        allow_fused (bool): ``False`` never uses TrainStep (for tests comparing paths).
        soft_targets (bool): the targets are class probabilities, which only the
            autograd step takes.
        named (NamedInput): names the argument the batches come from in the model's
            shape errors (``fit()``'s ``X``, of the shape it was given).
        weighted (bool): with ``distributed``, the ranks' gradients are weighted by their
            loss's mean divisors (:func:`counts_unequally`).
    """
    if soft_targets:
        return _autograd_step(model, loss, optimizer, distributed, want_pred, named, weighted)
    if allow_fused and not distributed and X.ndim == 2:
        try:
            fused = nn.TrainStep(model, loss, optimizer)
        except (TypeError, ValueError):  # unsupported model, loss or optimizer
            pass
        else:
            # a model with its own backward keeps the NumPy step unless the one-call plan
            # runs it (a traced program would be no faster, and could warn)
            if fused.one_call or uses_autograd(model):
                fused.input_name = named
                return _fused_step(fused, want_pred)
    if uses_autograd(model):
        return _autograd_step(model, loss, optimizer, distributed, want_pred, named, weighted)
    return _numpy_step(model, loss, optimizer, distributed, named, weighted)


def mean_divisor(loss: nn.Module, target: np.ndarray) -> float:
    """What a mean-reduced ``loss`` divided this batch's total by: the batch size, or for
    a classification loss with class weights or ``ignore_index`` the summed weight of the
    targets it counted (PyTorch's weighted mean), so that batch means combine into the
    dataset's mean whatever the batch size."""
    n = len(target)
    ignore = getattr(loss, "ignore_index", None)
    if ignore is None or not isinstance(loss, (nn.CrossEntropyLoss, nn.NLLLoss)):
        return float(n)
    y = np.asarray(target)
    if y.ndim != 1 or y.dtype.kind not in "iuf":  # class probabilities: every row counts
        return float(n)
    y = y.astype(np.int64, copy=False)
    counted = y[y != ignore]
    weight = loss.weight
    if weight is None:
        return float(counted.size)
    return float(np.asarray(weight, np.float64)[counted].sum())


def counts_unequally(loss: nn.Module, y: np.ndarray) -> bool:
    """Whether a mean-reduced ``loss`` may divide ranks' batches of ``y`` by different
    counts: class weights, or an ignored target somewhere in ``y`` (the same ``y`` on every
    rank, so every rank decides alike). Only then does a distributed step weigh the ranks'
    gradients (one more small collective per step)."""
    if getattr(loss, "reduction", "mean") != "mean" or \
            not isinstance(loss, (nn.CrossEntropyLoss, nn.NLLLoss)):
        return False
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.dtype.kind not in "iuf":  # class probabilities
        return False
    return loss.weight is not None or bool((labels == loss.ignore_index).any())


def _fused_step(fused: nn.TrainStep, want_pred: bool) -> Step:
    def step(xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray | None]:
        value = fused(xb, yb)
        return value, fused.output if want_pred else None

    return step


def _numpy_step(model: nn.Module, loss: nn.Module, optimizer: optim.Optimizer,
                distributed: bool, named: NamedInput, weighted: bool = False) -> Step:
    def step(xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray | None]:
        optimizer.zero_grad()
        pred = named.call(model, xb)
        value = float(loss(pred, yb))
        model.backward(loss.backward())
        if distributed:
            allreduce_gradients(model, weight=mean_divisor(loss, yb) if weighted else None)
        optimizer.step()
        return value, pred

    return step


def _autograd_step(model: nn.Module, loss: nn.Module, optimizer: optim.Optimizer,
                   distributed: bool, want_pred: bool, named: NamedInput,
                   weighted: bool = False) -> Step:
    def step(xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray | None]:
        optimizer.zero_grad()
        pred = named.call(model, as_tensor(xb))
        value = checked_loss(loss, pred, target_tensor(loss, yb), "fit()")
        value.backward()
        if distributed:
            allreduce_gradients(model, weight=mean_divisor(loss, yb) if weighted else None)
        optimizer.step()
        return float(value), pred.detach().numpy() if want_pred else None

    return step


def target_tensor(loss: nn.Module, yb: np.ndarray) -> Tensor:
    """The targets as a Tensor; float class labels become int64, as on the NumPy path.

    (PyTorch reads a float target of cross-entropy as class probabilities; ``fit``
    takes integral floats as labels whichever path runs, as ``TrainStep`` does.)
    """
    if isinstance(loss, nn.CrossEntropyLoss) and yb.dtype.kind == "f" and yb.ndim == 1:
        yb = _class_labels(yb, f"{type(loss).__name__}.forward()")
    return as_tensor(yb)


def checked_loss(loss: nn.Module, pred: Any, target: Tensor, func: str) -> Tensor:
    """``loss(pred, target)`` for an autograd model, with a clear error if it is no Tensor."""
    if not isinstance(pred, Tensor):
        raise TypeError(
            f"{func}: the model returned {type(pred).__name__} for a Tensor "
            "input; a Module without its own backward() trains through autograd, so its "
            "forward must return a Tensor (write it with Tensor ops and fastnn.nn layers)")
    value = loss(pred, target)
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{func}: the loss {type(loss).__name__} returned {type(value).__name__} for "
            "Tensor inputs; a model without its own backward() trains through autograd and "
            "needs a loss that returns a 0-d Tensor (every built-in loss does)")
    return value


def forward(model: nn.Module, xb: np.ndarray, autograd: bool,
            named: NamedInput | None = None) -> Any:
    """``model(xb)`` for evaluation: on a Tensor without recording for autograd models;
    through ``named`` (which names the argument in a shape error) when given."""
    if autograd:
        xb = as_tensor(xb)
    with no_grad() if autograd else nullcontext():
        return model(xb) if named is None else named.call(model, xb)


def to_numpy(out: Any) -> np.ndarray:
    """A model's output as an ndarray (a Tensor's values without a copy)."""
    return out.detach().numpy() if isinstance(out, Tensor) else np.asarray(out)
