"""scikit-learn's stochastic solvers ("adam", "sgd") on fastnn's fused training step.

One epoch shuffles the sample indices with the estimator's ``RandomState`` (as
scikit-learn does, so the batches are the same), then runs one
``nn.TrainStep`` call per batch: forward, loss, backward and optimizer update
in one C++ call with the GIL released. Around it, scikit-learn's bookkeeping:
``loss_curve_``, ``t_``, ``n_iter_``, the ``tol`` / ``n_iter_no_change``
stopping rule on the training loss or the validation score, the "invscaling"
and "adaptive" learning-rate schedules of "sgd", restoring the best weights
after early stopping, and the ``ConvergenceWarning`` at ``max_iter``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import nn, optim
from ..autograd import from_numpy
from ._network import (
    Objective,
    clip_log_loss,
    dense,
    linears,
    squared_sum,
    weight_views,
    weighted_loss,
)
from ._sparse import SparseFirstLayer, fits_dense

# step(x, y, w) -> fastnn's loss on the batch; w: the batch's sample weights or None. It
# sets obj.logits.read to a reader of the batch's logits (before its update).
Step = Callable[[Any, np.ndarray, "np.ndarray | None"], float]


class Schedule(NamedTuple):
    """The solver settings an optimizer is built with, read from them afterwards, as
    scikit-learn's optimizer object keeps them: ``set_params`` between ``partial_fit``
    calls leaves them as they were (a new ``fit`` builds a new optimizer, and takes them
    anew)."""

    solver: str
    learning_rate: str
    learning_rate_init: float
    power_t: float
    epsilon: float
    beta_2: float


def schedule_of(est: Any) -> Schedule:
    return Schedule(est.solver, est.learning_rate, float(est.learning_rate_init),
                    float(est.power_t), float(est.epsilon), float(est.beta_2))


def make_optimizer(est: Any, model: nn.Sequential, obj: Objective) -> optim.Optimizer:
    """The optimizer for ``est.solver`` over two groups: weights (L2 set per batch) and biases.

    Runs on the objective scaled by ``k = obj.grad_scale`` (see ``_network``): SGD's
    learning rate is divided by ``k``, Adam's epsilon multiplied by it (and set per step,
    ``_set_adam_eps``).
    """
    layers = linears(model)
    groups = [{"params": [m.weight for m in layers], "weight_decay": 0.0},
              {"params": [m.bias for m in layers], "weight_decay": 0.0}]
    if est.solver == "sgd":
        momentum = float(est.momentum)
        return optim.SGD(groups, lr=est.learning_rate_init / obj.grad_scale, momentum=momentum,
                         nesterov=bool(est.nesterovs_momentum) and momentum > 0)
    return optim.Adam(groups, lr=est.learning_rate_init, betas=(est.beta_1, est.beta_2),
                      eps=est.epsilon * obj.grad_scale)


def make_step(model: nn.Sequential, obj: Objective, opt: optim.Optimizer) -> Step:
    """``step(x, y, w) -> loss``: ``nn.TrainStep``; with sample weights, or for the Poisson
    loss (written with Tensor ops, which TrainStep does not take as a loss), the eager
    autograd loop."""
    fused: list[nn.TrainStep] = []  # built at the first unweighted batch
    logits = obj.logits

    def step(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
        if w is None and not obj.poisson:
            if not fused:
                fused.append(nn.TrainStep(model, obj.loss_fn, opt))
            logits.read = lambda: fused[0].output
            return fused[0](x, y)
        opt.zero_grad()
        z, target = model(from_numpy(x)), from_numpy(y)
        loss = obj.loss_fn(z, target) if w is None else weighted_loss(obj, z, target, w)
        logits.read = z.detach().numpy
        loss.backward()
        opt.step()
        return float(loss.item())

    return step


# The least "sgd" rate the optimizer runs with. A step ``lr g`` below it is far below
# float32's resolution of any weight, so the update is the same; the floor keeps the
# momentum buffers (``v / lr``, see _set_lr) finite when "invscaling" drives lr towards 0.
_LR_FLOOR = 1e-20


def _set_lr(opt: optim.Optimizer, est: Any, obj: Objective, lr: float) -> None:
    """Sets the "sgd" learning rate to scikit-learn's ``lr``.

    scikit-learn's velocity ``v <- momentum v - lr g`` carries the rates it was built
    with; PyTorch's buffer ``b <- momentum b + g`` is rate-free (``v = -lr b``). Scaling
    the buffers by ``old_lr / lr`` keeps ``v`` unchanged, so the two stay the same
    update, Nesterov's included, across a schedule's changes.
    """
    old, est._learning_rate = est._learning_rate, lr
    ratio = max(old, _LR_FLOOR) / max(lr, _LR_FLOOR)
    for group in opt.param_groups:
        group["lr"] = max(lr, _LR_FLOOR) / obj.grad_scale
        for p in group["params"]:
            buffer = opt.state.get(p, {}).get("momentum_buffer")
            if buffer is not None:
                buffer *= np.float32(ratio)


def make_sparse_step(model: nn.Sequential, obj: Objective, opt: optim.Optimizer) -> Step:
    """``step(x, y, w) -> loss`` for a CSR batch ``x`` too wide to densify: the first layer
    as a sparse product (``_sparse``), the rest on the eager autograd loop."""
    net = SparseFirstLayer(model)
    logits = obj.logits

    def step(x: Any, y: np.ndarray, w: np.ndarray | None) -> float:
        opt.zero_grad()

        def loss_fn(z: Any, t: Any) -> Any:
            logits.read = z.detach().numpy
            return obj.loss_fn(z, t) if w is None else weighted_loss(obj, z, t, w)

        loss = net.loss_backward(x, loss_fn, from_numpy(y))
        opt.step()
        return float(loss.item())

    return step


def _set_adam_eps(opt: optim.Optimizer, est: Any, obj: Objective) -> None:
    """Sets Adam's epsilon for its next step so that PyTorch's update, whose epsilon is
    added to ``sqrt(v_hat) = sqrt(v / (1 - beta_2^t))``, equals scikit-learn's, whose
    epsilon is added to ``sqrt(v)``: ``eps_t = k eps / sqrt(1 - beta_2^t)``."""
    est._adam_t += 1
    s = est._schedule
    eps = obj.grad_scale * s.epsilon / np.sqrt(1.0 - s.beta_2 ** est._adam_t)
    for group in opt.param_groups:
        group["eps"] = eps


def _no_improvement(est: Any, val_score: float | None) -> None:
    """scikit-learn's ``_update_no_improvement_count`` (keeps the best weights when validating)."""
    if val_score is not None:
        est.validation_scores_.append(val_score)
        if est.verbose:
            print(f"Validation score: {val_score:f}")
        if val_score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if val_score > est.best_validation_score_:
            est.best_validation_score_ = val_score
            est._best_params = [p._data.copy() for p in est.model_.parameters()]
        return
    if est.loss_curve_[-1] > est.best_loss_ - est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    if est.loss_curve_[-1] < est.best_loss_:
        est.best_loss_ = est.loss_curve_[-1]


def _keep_going(est: Any, early_stopping: bool) -> bool:
    """After ``n_iter_no_change`` epochs without progress: stop, or for "adaptive" SGD go on
    (the caller divides the learning rate by 5) unless it is at most 1e-6."""
    what = "Validation score" if early_stopping else "Training loss"
    msg = (f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} "
           "consecutive epochs.")
    if est._schedule.solver != "sgd" or est._schedule.learning_rate != "adaptive":
        if est.verbose:
            print(msg + " Stopping.")
        return False
    if est._learning_rate <= 1e-6:
        if est.verbose:
            print(msg + " Learning rate too small. Stopping.")
        return False
    if est.verbose:
        print(f"{msg} Setting learning rate to {est._learning_rate / 5.0:f}")
    return True


def run_epochs(est: Any, X: Any, Y: np.ndarray, sw: np.ndarray | None, val: tuple | None,
               step: Step, opt: optim.Optimizer, obj: Objective, rng: np.random.RandomState,
               incremental: bool) -> None:
    """Trains ``est.model_`` on float32 ``X`` (an array, or a CSR matrix: densified a batch
    at a time, or for batches too wide for that run through a sparse first layer) and
    targets ``Y`` (class indices or floats), with float64 sample weights ``sw`` or None.

    ``val`` is ``(X_val, y_val, sw_val)`` with early stopping, else ``None``. One epoch
    only when ``incremental`` (``partial_fit``). With sample weights a batch's objective
    is scikit-learn's: the weighted mean loss plus ``alpha / (2 sum(w)) ||W||^2``; a
    batch whose weights sum to 0 (scikit-learn: a ZeroDivisionError) is skipped and adds
    0 to the epoch's loss.
    """
    n = X.shape[0]
    batch_size = min(200, n) if est.batch_size == "auto" else est.batch_size
    if batch_size > n:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                      "It is going to be clipped", stacklevel=4)
    batch_size = int(np.clip(batch_size, 1, n))
    wide = not fits_dense(X, batch_size)
    if wide:
        step = make_sparse_step(est.model_, obj, opt)
    weights = opt.param_groups[0]
    alpha, k = float(est.alpha), obj.grad_scale
    adam = est._schedule.solver == "adam"
    flat_weights = weight_views(est.model_)
    est.model_.train()
    sample_idx = np.arange(n)
    try:
        for _ in range(est.max_iter):
            if est.shuffle:  # sklearn.utils.shuffle's draw, without its argument checks
                perm = np.arange(n)
                rng.shuffle(perm)
                sample_idx = sample_idx[perm]
            accumulated = 0.0
            for start in range(0, n, batch_size):
                batch = slice(start, min(start + batch_size, n))
                idx = sample_idx[batch] if est.shuffle else batch
                xb, yb = (X[idx] if wide else dense(X[idx])), Y[idx]
                wb = None if sw is None else sw[idx]
                nb = batch.stop - start
                total = nb if wb is None else float(wb.sum())
                if total == 0.0:
                    continue
                penalty = 0.5 * alpha * squared_sum(flat_weights) / total if alpha else 0.0
                weights["weight_decay"] = k * alpha / total
                if adam:
                    _set_adam_eps(opt, est, obj)
                reported = obj.report(step(xb, yb, wb), yb, wb)
                reported = clip_log_loss(obj, reported, yb, wb, est._report_eps)
                accumulated += (reported + penalty) * nb
            est.n_iter_ += 1
            est.loss_ = np.float64(accumulated / n)  # scikit-learn's type
            est.t_ += n
            est.loss_curve_.append(est.loss_)
            if est.verbose:
                print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
            _no_improvement(est, None if val is None else est._validation_score(*val))
            s = est._schedule
            if s.solver == "sgd" and s.learning_rate == "invscaling":
                _set_lr(opt, est, obj, s.learning_rate_init / (est.t_ + 1) ** s.power_t)
            if est._no_improvement_count > est.n_iter_no_change:
                if not _keep_going(est, val is not None):
                    break
                est._no_improvement_count = 0
                _set_lr(opt, est, obj, est._learning_rate / 5.0)
            if incremental:
                break
            if est.n_iter_ == est.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                              "reached and the optimization hasn't converged yet.",
                              ConvergenceWarning, stacklevel=4)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=4)
    if val is not None:  # restore the best weights
        for p, best in zip(est.model_.parameters(), est._best_params):
            p._data[...] = best
