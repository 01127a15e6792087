"""``Adamax``: Adam with the infinity norm of past gradients in place of their second moment."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_number
from .adam import check_betas
from .optimizer import Optimizer, ParamsT, check_implementation_flags, gradient_of


class Adamax(Optimizer):
    r"""Adamax (PyTorch's ``torch.optim.Adamax``), in NumPy.

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1} \\
            m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
            u_t &= \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
            \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \, m_t / u_t
        \end{aligned}

    From `Adam: A Method for Stochastic Optimization <https://arxiv.org/abs/1412.6980>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``2e-3``.
        betas (tuple[float, float], optional): :math:`(\beta_1, \beta_2)`, each in [0, 1).
            Default: ``(0.9, 0.999)``.
        eps (float, optional): :math:`\epsilon`. Default: ``1e-8``.
        weight_decay (float, optional): L2 penalty :math:`\lambda`. Default: ``0``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"``, ``"exp_avg"`` (:math:`m`), ``"exp_inf"`` (:math:`u`).
    """

    _state_keys = ("step", "exp_avg", "exp_inf")

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, None)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "Adamax()", "lr", low=0)
        check_number(group["eps"], "Adamax()", "eps", low=0)
        check_betas(group, "Adamax()")
        check_number(group["weight_decay"], "Adamax()", "weight_decay", low=0)

    def _update(self, p: Any, group: dict[str, Any]) -> None:
        s = self.state[p]
        if not s:
            s.update(step=0, exp_avg=np.zeros_like(p._data), exp_inf=np.zeros_like(p._data))
        s["step"] = t = s["step"] + 1
        g = gradient_of(p, group)
        b1, b2 = group["betas"]
        m, u = s["exp_avg"], s["exp_inf"]
        m += (g - m) * np.float32(1 - b1)
        np.maximum(u * np.float32(b2), np.abs(g) + np.float32(group["eps"]), out=u)
        p._data -= np.float32(group["lr"] / (1 - b1 ** t)) * (m / u)
