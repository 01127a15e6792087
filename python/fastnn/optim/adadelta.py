"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_number
from .optimizer import Optimizer, ParamsT, check_implementation_flags, gradient_of


class Adadelta(Optimizer):
    r"""Adadelta (PyTorch's ``torch.optim.Adadelta``), in NumPy.

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1} \\
            v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
            \Delta_t &= \sqrt{u_{t-1} + \epsilon} \, / \sqrt{v_t + \epsilon} \; g_t \\
            u_t &= \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
            \theta_t &= \theta_{t-1} - \gamma \Delta_t
        \end{aligned}

    From `ADADELTA: An Adaptive Learning Rate Method <https://arxiv.org/abs/1212.5701>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): scale :math:`\gamma` of the update. Default: ``1.0``.
        rho (float, optional): averaging coefficient, in [0, 1]. Default: ``0.9``.
        eps (float, optional): :math:`\epsilon` inside the square roots. Default: ``1e-6``.
        weight_decay (float, optional): L2 penalty :math:`\lambda`. Default: ``0``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"``, ``"square_avg"`` (:math:`v`), ``"acc_delta"``
    (:math:`u`).

    Example::

        >>> opt = fn.optim.Adadelta(model.parameters())
    """

    _state_keys = ("step", "square_avg", "acc_delta")

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, None)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "Adadelta()", "lr", low=0)
        check_number(group["rho"], "Adadelta()", "rho", low=0, high=1)
        check_number(group["eps"], "Adadelta()", "eps", low=0)
        check_number(group["weight_decay"], "Adadelta()", "weight_decay", low=0)

    def _update(self, p: Any, group: dict[str, Any]) -> None:
        s = self.state[p]
        if not s:
            s.update(step=0, square_avg=np.zeros_like(p._data), acc_delta=np.zeros_like(p._data))
        s["step"] += 1
        g = gradient_of(p, group)
        rho, eps = np.float32(group["rho"]), np.float32(group["eps"])
        v, u = s["square_avg"], s["acc_delta"]
        v *= rho
        v += (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta
        p._data -= np.float32(group["lr"]) * delta
