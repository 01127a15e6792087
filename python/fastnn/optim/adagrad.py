"""``Adagrad``: per-coordinate learning rates from the accumulated squared gradients."""

from __future__ import annotations

from typing import Any

from .. import _core
from .._validation import check_number
from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT, check_implementation_flags


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's ``torch.optim.Adagrad``).

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1} \\
            \tilde\gamma_t &= \gamma / (1 + (t - 1)\eta) \\
            s_t &= s_{t-1} + g_t^2, \quad s_0 = \text{initial\_accumulator\_value} \\
            \theta_t &= \theta_{t-1} - \tilde\gamma_t \, g_t / (\sqrt{s_t} + \epsilon)
        \end{aligned}

    From `Adaptive Subgradient Methods for Online Learning and Stochastic
    Optimization <https://jmlr.org/papers/v12/duchi11a.html>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``1e-2``.
        lr_decay (float, optional): learning-rate decay :math:`\eta`. Default: ``0``.
        weight_decay (float, optional): L2 penalty :math:`\lambda`. Default: ``0``.
        initial_accumulator_value (float, optional): starting value of the sum of
            squared gradients, for every group: as in PyTorch, a group's own
            ``"initial_accumulator_value"`` is kept in the group but not used.
            Default: ``0``.
        eps (float, optional): :math:`\epsilon` added to the denominator. Default: ``1e-10``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"`` and ``"sum"``, created at construction as
    PyTorch does (and on the first step for groups added later).

    Example::

        >>> opt = fn.optim.Adagrad(model.parameters(), lr=0.1)
        >>> opt.step()
    """

    _kind = _core.OptimKind.adagrad

    _state_keys = ("step", "sum")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, False,
                                   differentiable, fused)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            self._init_sum(group["params"])

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "Adagrad()", "lr", low=0)
        check_number(group["lr_decay"], "Adagrad()", "lr_decay", low=0)
        check_number(group["weight_decay"], "Adagrad()", "weight_decay", low=0)
        check_number(group["initial_accumulator_value"], "Adagrad()",
                     "initial_accumulator_value", low=0)
        check_number(group["eps"], "Adagrad()", "eps", low=0)

    def _init_sum(self, params: list[Parameter]) -> None:
        # PyTorch fills every group's sums with the constructor's value (its defaults)
        self._init_state(params, {"step": 0}, ("sum",),
                         fill=float(self.defaults["initial_accumulator_value"]))

    def _group_tensors(self, group: dict[str, Any]) -> list[tuple]:
        params, state = self._stepping(group), self.state
        fresh = [p for p in params if not state[p]]
        if fresh:
            self._init_sum(fresh)
        out = []
        for p in params:
            s = state[p]
            s["step"] = t = s["step"] + 1
            out.append((p._data, p._grad._data, s["sum"], None, None, t))
        return out
