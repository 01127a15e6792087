"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

A scheduler edits ``optimizer.param_groups[i]["lr"]``. Construct it after the
optimizer (it records each group's ``"initial_lr"`` and applies epoch 0), then
call ``scheduler.step()`` once per epoch after ``optimizer.step()``. The epoch
schedulers update the learning rate recursively from its current value, as
PyTorch's chainable form does, so their values equal PyTorch's and they compose
with manual changes of ``group["lr"]``; :class:`ReduceLROnPlateau` instead
reacts to a metric passed to ``step(metrics)``.

Example::

    >>> opt = fn.optim.SGD(model.parameters(), lr=0.1)
    >>> sched = fn.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    >>> for epoch in range(100):
    ...     train_one_epoch(model, opt)
    ...     sched.step()
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any, SupportsFloat

from .._validation import check_int, check_number
from .optimizer import Optimizer

__all__ = [
    "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "ExponentialLR",
    "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR",
    "ReduceLROnPlateau", "StepLR",
]

_EPOCH_DEPRECATED = ("{}.step(): the 'epoch' argument is deprecated (as in PyTorch, where "
                     "it sets last_epoch and uses the closed form where one exists); call "
                     "step() once per epoch")


def _check_epochs(value: Any, func: str, arg: str, *, low: int) -> int | float:
    """A count of epochs as PyTorch takes it: an int, or a float (``T_max=1e4``,
    ``step_size=30.0``), which its arithmetic accepts; an integral float becomes an int."""
    v = check_number(value, func, arg, low=low)
    if math.isinf(v):
        raise ValueError(f"{func}: argument '{arg}' must be finite, got {value!r}")
    return int(v) if v.is_integer() else v


def _check_optimizer(optimizer: Any, name: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{name}(): argument 'optimizer' must be a fastnn.optim.Optimizer, "
            f"got {type(optimizer).__name__}"
        )


class LRScheduler:
    r"""Base class of the epoch-based schedulers.

    Args:
        optimizer (Optimizer): the optimizer whose learning rates are scheduled.
        last_epoch (int): index of the last epoch; ``-1`` (default) starts a new
            schedule. A value >= 0 resumes one and needs ``"initial_lr"`` in every
            group (as a loaded optimizer state has).

    Attributes:
        base_lrs (list[float]): each group's ``"initial_lr"``.
        last_epoch (int): the epoch of the current learning rates.

    Subclasses implement :meth:`get_lr`, the learning rates for ``last_epoch``
    computed from the current ``group["lr"]`` values.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(optimizer, name)
        last_epoch = check_int(last_epoch, f"{name}()", "last_epoch", low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}(): param_groups[{i}] has no 'initial_lr', which resuming with "
                        f"last_epoch={last_epoch} needs (load the optimizer state first)"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # The initial step applies the schedule's value for epoch last_epoch + 1.
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """Returns each group's learning rate for ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """Returns the learning rates set by the last :meth:`step`, one per group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advances one epoch and sets each group's ``"lr"``; call after ``optimizer.step()``.

        Args:
            epoch (int, optional): deprecated in PyTorch and accepted as there, with a
                ``UserWarning``: sets ``last_epoch`` to ``epoch`` and the learning rates
                to the schedule's closed form for it (where the scheduler has one; else
                its usual update). Default: ``None``.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            name = type(self).__name__
            warnings.warn(_EPOCH_DEPRECATED.format(name), UserWarning, stacklevel=2)
            epoch = check_number(epoch, f"{name}.step()", "epoch")  # a float too, as torch
            self.last_epoch = int(epoch) if epoch.is_integer() else epoch
            closed_form = getattr(self, "_closed_form_lr", None)
            lrs = self.get_lr() if closed_form is None else closed_form()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Returns the scheduler's state: every attribute except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores a state from :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    r"""Multiplies the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math::
        \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    Args:
        optimizer (Optimizer): wrapped optimizer.
        step_size (int): period of the decay, in epochs (>= 1; a float is taken, as in
            PyTorch).
        gamma (float, optional): multiplicative factor. Default: ``0.1``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = StepLR(opt, step_size=30, gamma=0.1)  # lr 0.05, 0.005 from epoch 30, ...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = _check_epochs(step_size, "StepLR()", "step_size", low=1)
        self.gamma = check_number(gamma, "StepLR()", "gamma", low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiplies the learning rate by ``gamma`` at each milestone epoch.

    .. math::
        \eta_t = \eta_0 \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    Args:
        optimizer (Optimizer): wrapped optimizer.
        milestones (iterable of int): epochs at which to decay (a repeated
            milestone decays once per repetition).
        gamma (float, optional): multiplicative factor. Default: ``0.1``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(
            check_int(m, "MultiStepLR()", "milestones", low=0) for m in milestones
        )
        self.gamma = check_number(gamma, "MultiStepLR()", "gamma", low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = sum(n for m, n in self.milestones.items() if m <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Scales the learning rate by a factor that moves linearly over ``total_iters`` epochs.

    .. math::
        \eta_t = \eta_0 \left(s + (e - s) \frac{\min(t, T)}{T}\right)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`T` = ``total_iters``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        start_factor (float, optional): factor at epoch 0, in (0, 1]. Default: ``1/3``.
        end_factor (float, optional): factor from epoch ``total_iters`` on, in [0, 1].
            Default: ``1.0``.
        total_iters (int, optional): epochs of the ramp (>= 1). Default: ``5``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = LinearLR(opt, start_factor=0.1, total_iters=10)  # warm-up
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = check_number(start_factor, "LinearLR()", "start_factor", low=0,
                                         high=1, low_open=True)
        self.end_factor = check_number(end_factor, "LinearLR()", "end_factor", low=0, high=1)
        self.total_iters = check_int(total_iters, "LinearLR()", "total_iters", low=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * delta)
        return [lr * factor for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        factor = self.start_factor + (self.end_factor - self.start_factor) * min(
            self.total_iters, self.last_epoch) / self.total_iters
        return [base * factor for base in self.base_lrs]


def _lambdas(lr_lambda: Any, optimizer: Optimizer, name: str) -> list[Any]:
    """One callable per parameter group (a single one is shared), as PyTorch takes them."""
    n = len(optimizer.param_groups)
    lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
    if len(lambdas) != n:
        raise ValueError(f"{name}(): expected {n} lr_lambdas, but got {len(lambdas)}")
    for f in lambdas:
        if not callable(f):
            raise TypeError(f"{name}(): argument 'lr_lambda' must be a function of the epoch "
                            f"(or one per group), got {type(f).__name__}")
    return lambdas


class _LambdaScheduler(LRScheduler):
    """LambdaLR / MultiplicativeLR: the functions are not part of ``state_dict()`` (as in
    PyTorch, which saves only callable objects' state)."""

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None] * len(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        lambdas = self.lr_lambdas
        super().load_state_dict(state_dict)
        self.lr_lambdas = lambdas


class LambdaLR(_LambdaScheduler):
    r"""Sets each group's learning rate to its initial one times a function of the epoch:
    :math:`\eta_t = \eta_0 \, \lambda(t)`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): :math:`\lambda(t)`, or one function per group.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.95 ** epoch)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "LambdaLR")
        self.lr_lambdas = _lambdas(lr_lambda, optimizer, "LambdaLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    r"""Multiplies each group's learning rate by a function of the epoch at every step
    after the first: :math:`\eta_t = \eta_{t-1} \, \lambda(t)`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): :math:`\lambda(t)`, or one function per group.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "MultiplicativeLR")
        self.lr_lambdas = _lambdas(lr_lambda, optimizer, "MultiplicativeLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:  # as PyTorch: every later step multiplies, step(0) too
            return self._current_lrs()
        return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, self._current_lrs())]


class ConstantLR(LRScheduler):
    r"""Scales the learning rate by ``factor`` until epoch ``total_iters``, then restores it.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        factor (float, optional): the factor, in (0, 1]. Default: ``1/3``.
        total_iters (int, optional): epochs at the scaled rate (>= 0). Default: ``5``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = ConstantLR(opt, factor=0.5, total_iters=4)  # a gentle start
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = check_number(factor, "ConstantLR()", "factor", low=0, high=1,
                                   low_open=True)
        self.total_iters = check_int(total_iters, "ConstantLR()", "total_iters", low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiplies the learning rate by ``gamma`` every epoch: :math:`\eta_t = \eta_0 \gamma^t`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = ExponentialLR(opt, gamma=0.95)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_number(gamma, "ExponentialLR()", "gamma", low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial learning rate to ``eta_min`` over ``T_max`` epochs.

    .. math::
        \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
            \left(1 + \cos\left(\frac{t \pi}{T_{\max}}\right)\right)

    computed, as PyTorch does, by the recursion

    .. math::
        \eta_{t+1} = \eta_{\min} + (\eta_t - \eta_{\min})
            \frac{1 + \cos((t + 1)\pi / T_{\max})}{1 + \cos(t \pi / T_{\max})}

    (past ``T_max`` the schedule rises again, with period ``2 T_max``). From
    `SGDR: Stochastic Gradient Descent with Warm Restarts
    <https://arxiv.org/abs/1608.03983>`_, without the restarts.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_max (int): half period, in epochs (>= 1; a float is taken, as in PyTorch).
        eta_min (float, optional): minimum learning rate. Default: ``0.0``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-5)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = _check_epochs(T_max, "CosineAnnealingLR()", "T_max", low=1)
        self.eta_min = check_number(eta_min, "CosineAnnealingLR()", "eta_min", low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resuming: closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (t - 1 - t_max) % (2 * t_max) == 0:  # at the minimum, where the ratio is 0/0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, lr in zip(self.base_lrs, self._current_lrs())]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR): the rate falls from its initial value to
    ``eta_min`` over ``T_0`` epochs, jumps back, and the next period is ``T_mult`` times
    longer.

    .. math::
        \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
            \left(1 + \cos\left(\frac{T_{cur}}{T_i}\pi\right)\right)

    with :math:`T_{cur}` the epochs since the last restart and :math:`T_i` the current
    period. :meth:`step` may be called per batch with a fractional ``epoch``, as in PyTorch.
    From `SGDR <https://arxiv.org/abs/1608.03983>`_.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_0 (int): epochs until the first restart (>= 1).
        T_mult (int, optional): period factor after each restart (>= 1). Default: ``1``.
        eta_min (float, optional): minimum learning rate. Default: ``0.0``.
        last_epoch (int, optional): index of the last epoch. Default: ``-1``.

    Example::

        >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)
        >>> for epoch in range(70):
        ...     for i, batch in enumerate(loader):
        ...         ...
        ...         sched.step(epoch + i / len(loader))
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        name = "CosineAnnealingWarmRestarts()"
        self.T_0 = check_int(T_0, name, "T_0", low=1)
        self.T_i = self.T_0
        self.T_mult = check_int(T_mult, name, "T_mult", low=1)
        self.eta_min = check_number(eta_min, name, "eta_min", low=0)
        self.T_cur: float = check_int(last_epoch, name, "last_epoch", low=-1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur /
                                                                      self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advances one epoch, or to ``epoch`` (a float, for steps within an epoch)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # the remainder, as torch (a schedule resumed with
                self.T_cur %= self.T_i       # last_epoch past 2 T_i: subtracting left it over)
                self.T_i *= self.T_mult
        else:
            epoch = check_number(epoch, "CosineAnnealingWarmRestarts.step()", "epoch", low=0)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: the rate warms up from ``max_lr / div_factor`` to ``max_lr``
    over the first ``pct_start`` of ``total_steps``, then anneals to ``initial_lr /
    final_div_factor``; the momentum (SGD's ``momentum``, Adam's ``beta1``) moves the
    opposite way between ``max_momentum`` and ``base_momentum``. Stepped after every
    batch. From `Super-Convergence <https://arxiv.org/abs/1708.07120>`_; PyTorch's rules.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        max_lr (float or list of float): peak learning rate, per group if a list.
        total_steps (int, optional): steps in the cycle; else ``epochs * steps_per_epoch``.
        epochs (int, optional), steps_per_epoch (int, optional): see ``total_steps``.
        pct_start (float, optional): fraction of the cycle spent warming up. Default: ``0.3``.
        anneal_strategy (str, optional): ``"cos"`` or ``"linear"``. Default: ``"cos"``.
        cycle_momentum (bool, optional): cycle the momentum too. Default: ``True``.
        base_momentum (float or list, optional): the lower momentum. Default: ``0.85``.
        max_momentum (float or list, optional): the upper momentum. Default: ``0.95``.
        div_factor (float, optional): ``initial_lr = max_lr / div_factor``. Default: ``25``.
        final_div_factor (float, optional): ``min_lr = initial_lr / final_div_factor``.
            Default: ``1e4``.
        three_phase (bool, optional): warm up, come back down to ``initial_lr``
            symmetrically, then anneal to ``min_lr``. Default: ``False``.
        last_epoch (int, optional): index of the last step. Default: ``-1``.

    Example::

        >>> sched = OneCycleLR(opt, max_lr=0.01, epochs=10, steps_per_epoch=len(loader))
        >>> for epoch in range(10):
        ...     for batch in loader:
        ...         ...
        ...         opt.step()
        ...         sched.step()
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        name = "OneCycleLR()"
        _check_optimizer(optimizer, "OneCycleLR")
        groups = optimizer.param_groups
        if total_steps is not None:
            self.total_steps = check_int(total_steps, name, "total_steps", low=1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (check_int(epochs, name, "epochs", low=1) *
                                check_int(steps_per_epoch, name, "steps_per_epoch", low=1))
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        pct_start = check_number(pct_start, name, "pct_start", low=0.0, high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        phase_ends = ([pct_start * self.total_steps - 1, 2 * pct_start * self.total_steps - 2,
                       self.total_steps - 1] if three_phase
                      else [pct_start * self.total_steps - 1, self.total_steps - 1])
        keys = ([("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                 ("max_lr", "initial_lr", "base_momentum", "max_momentum"),
                 ("initial_lr", "min_lr", "max_momentum", "max_momentum")] if three_phase
                else [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      ("max_lr", "min_lr", "base_momentum", "max_momentum")])
        self._phases = [{"end_step": float(end), "start_lr": k[0], "end_lr": k[1],
                         "start_momentum": k[2], "end_momentum": k[3]}
                        for end, k in zip(phase_ends, keys)]
        max_lrs = self._per_group(max_lr, groups, "max_lr")
        if last_epoch == -1:
            for lr, group in zip(max_lrs, groups):
                group["initial_lr"] = lr / check_number(div_factor, name, "div_factor",
                                                        low=0, low_open=True)
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / check_number(
                    final_div_factor, name, "final_div_factor", low=0, low_open=True)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{name}: the optimizer has no momentum or betas to cycle "
                                 "(cycle_momentum=True)")
            self.use_beta1 = "betas" in optimizer.defaults
            base = self._per_group(base_momentum, groups, "base_momentum")
            top = self._per_group(max_momentum, groups, "max_momentum")
            if last_epoch == -1:
                for lo, hi, group in zip(base, top, groups):
                    if self.use_beta1:
                        group["betas"] = (hi, *group["betas"][1:])
                    else:
                        group["momentum"] = hi
                    group["max_momentum"], group["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _per_group(value: Any, groups: list[dict[str, Any]], arg: str) -> list[float]:
        if isinstance(value, (list, tuple)):
            if len(value) != len(groups):
                raise ValueError(f"OneCycleLR(): expected {len(groups)} values for {arg}, "
                                 f"got {len(value)}")
            return [check_number(v, "OneCycleLR()", arg) for v in value]
        return [check_number(value, "OneCycleLR()", arg)] * len(groups)

    @staticmethod
    def _cos(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _linear(start: float, end: float, pct: float) -> float:
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        anneal = self._cos if self.anneal_strategy == "cos" else self._linear
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number "
                             f"of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._phases):
                end = phase["end_step"]
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        m = anneal(group[phase["start_momentum"]], group[phase["end_momentum"]],
                                   pct)
                    break
                start = end
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (m, *group["betas"][1:])
                else:
                    group["momentum"] = m
        return lrs


class ReduceLROnPlateau(LRScheduler):
    r"""Reduces the learning rate when a metric has stopped improving.

    Unlike the epoch schedulers it does not record ``"initial_lr"`` or change the
    learning rate at construction (as in PyTorch, where it also subclasses
    :class:`LRScheduler` without calling its constructor).

    Each :meth:`step` receives the metric. After more than ``patience`` epochs
    without improvement, every group's learning rate becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by at most ``eps``), and
    ``cooldown`` epochs follow in which bad epochs are not counted. A value improves
    on the best so far when it is below ``best * (1 - threshold)`` (mode ``"min"``,
    threshold_mode ``"rel"``), below ``best - threshold`` (``"min"``, ``"abs"``),
    above ``best * (1 + threshold)`` (``"max"``, ``"rel"``) or above
    ``best + threshold`` (``"max"``, ``"abs"``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        mode (str, optional): ``"min"`` or ``"max"``. Default: ``"min"``.
        factor (float, optional): multiplicative factor, < 1. Default: ``0.1``.
        patience (int, optional): epochs without improvement tolerated (a float is taken,
            as in PyTorch). Default: ``10``.
        threshold (float, optional): minimal significant change. Default: ``1e-4``.
        threshold_mode (str, optional): ``"rel"`` or ``"abs"``. Default: ``"rel"``.
        cooldown (int, optional): epochs to wait after a reduction. Default: ``0``.
        min_lr (float or list[float], optional): lower bound of the learning rate,
            one for all groups or one per group. Default: ``0``.
        eps (float, optional): smallest reduction applied. Default: ``1e-8``.

    Example::

        >>> sched = ReduceLROnPlateau(opt, mode="min", patience=5)
        >>> for epoch in range(100):
        ...     train_one_epoch(model, opt)
        ...     sched.step(validate(model))
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0,
                 eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(optimizer, name)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}(): argument 'mode' must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}(): argument 'threshold_mode' must be 'rel' or 'abs', "
                f"got {threshold_mode!r}"
            )
        self.optimizer = optimizer
        self.mode = mode
        self.threshold_mode = threshold_mode
        func = f"{name}()"
        self.factor = check_number(factor, func, "factor", low=0, high=1, high_open=True)
        self.patience = _check_epochs(patience, func, "patience", low=0)
        self.threshold = check_number(threshold, func, "threshold", low=0)
        self.cooldown = _check_epochs(cooldown, func, "cooldown", low=0)
        self.eps = check_number(eps, func, "eps", low=0)
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(
                    f"{name}(): argument 'min_lr' must have one value per parameter group "
                    f"({n_groups}), got {len(min_lr)}"
                )
            self.default_min_lr = None
            self.min_lrs = [check_number(v, func, "min_lr", low=0) for v in min_lr]
        else:
            self.default_min_lr = check_number(min_lr, func, "min_lr", low=0)
            self.min_lrs = [self.default_min_lr] * n_groups
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric value ``a`` improves significantly on ``best``."""
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics: SupportsFloat,  # type: ignore[override]
             epoch: int | None = None) -> None:
        """Records one epoch's metric and reduces the learning rates if it has plateaued.

        Args:
            metrics (float): the monitored quantity (e.g. the validation loss).
            epoch (int, optional): deprecated in PyTorch, accepted as there: sets
                ``last_epoch`` instead of counting up. Default: ``None``.
        """
        try:
            current = float(metrics)  # a number, or a one-element Tensor / array
        except (TypeError, ValueError) as err:  # float()'s kind, as PyTorch raises it
            kind = ValueError if isinstance(err, ValueError) else TypeError
            raise kind("ReduceLROnPlateau.step(): argument 'metrics' must be a number or a "
                       f"one-element Tensor, got {type(metrics).__name__}: {err}") from None
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn("ReduceLROnPlateau.step(): the 'epoch' argument is deprecated "
                          "(as in PyTorch); call step(metrics)", UserWarning, stacklevel=2)
            self.last_epoch = check_int(epoch, "ReduceLROnPlateau.step()", "epoch")
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        n_groups = len(self.optimizer.param_groups)
        if len(self.min_lrs) != n_groups:  # a group was added after construction
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {n_groups} parameter groups but "
                    f"min_lr has {len(self.min_lrs)} values (a group was added after the "
                    "scheduler was created); set scheduler.min_lrs to match"
                )
            self.min_lrs = [self.default_min_lr] * n_groups
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr



class _LRScheduler(LRScheduler):
    """PyTorch's old name of :class:`LRScheduler`, which older custom schedulers subclass."""
