"""``NAdam`` and ``RAdam``: Adam with Nesterov momentum, and Adam with a rectified
variance estimate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_number
from .adam import check_betas
from .optimizer import Optimizer, ParamsT, check_implementation_flags, gradient_of


def _moments(opt: Optimizer, p: Any, group: dict[str, Any], extra: dict[str, Any]) -> tuple:
    """Steps the Adam moments of ``p``: returns (state, step t, gradient)."""
    s = opt.state[p]
    if not s:
        s.update(step=0, **extra, exp_avg=np.zeros_like(p._data),
                 exp_avg_sq=np.zeros_like(p._data))
    s["step"] = t = s["step"] + 1
    if group["decoupled_weight_decay"] and group["weight_decay"]:
        p._data *= np.float32(1 - group["lr"] * group["weight_decay"])
        g = gradient_of(p, dict(group, weight_decay=0))
    else:
        g = gradient_of(p, group)
    b1, b2 = group["betas"]
    m, v = s["exp_avg"], s["exp_avg_sq"]
    m += (g - m) * np.float32(1 - b1)
    v *= np.float32(b2)
    v += np.float32(1 - b2) * g * g
    return s, t, g


def _check(group: dict[str, Any], name: str) -> None:
    check_number(group["lr"], name, "lr", low=0)
    check_number(group["eps"], name, "eps", low=0)
    check_betas(group, name)
    check_number(group["weight_decay"], name, "weight_decay", low=0)


class NAdam(Optimizer):
    r"""NAdam (PyTorch's ``torch.optim.NAdam``), in NumPy: Adam with Nesterov momentum
    and a momentum schedule :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t \psi})`.

    .. math::
        \theta_t = \theta_{t-1} - \gamma \left(\frac{1 - \mu_t}{1 - \prod_{i \le t} \mu_i}
            g_t + \frac{\mu_{t+1}}{1 - \prod_{i \le t+1} \mu_i} m_t\right)
            \Big/ \left(\sqrt{v_t / (1 - \beta_2^t)} + \epsilon\right)

    From `Incorporating Nesterov Momentum into Adam
    <https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``2e-3``.
        betas (tuple[float, float], optional): :math:`(\beta_1, \beta_2)`. Default:
            ``(0.9, 0.999)``.
        eps (float, optional): :math:`\epsilon`. Default: ``1e-8``.
        weight_decay (float, optional): L2 penalty (decoupled, as AdamW, with
            ``decoupled_weight_decay=True``). Default: ``0``.
        momentum_decay (float, optional): :math:`\psi`. Default: ``4e-3``.
        decoupled_weight_decay (bool, optional): Default: ``False``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"``, ``"mu_product"``, ``"exp_avg"``, ``"exp_avg_sq"``.
    """

    _state_keys = ("step", "mu_product", "exp_avg", "exp_avg_sq")
    _scalar_state = ("step", "mu_product")

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, None)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _check_group(self, group: dict[str, Any]) -> None:
        _check(group, "NAdam()")
        check_number(group["momentum_decay"], "NAdam()", "momentum_decay", low=0)

    def _update(self, p: Any, group: dict[str, Any]) -> None:
        s, t, g = _moments(self, p, group, {"mu_product": 1.0})
        b1, b2 = group["betas"]
        psi = group["momentum_decay"]
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        s["mu_product"] *= mu
        denom = np.sqrt(s["exp_avg_sq"] / np.float32(1 - b2 ** t)) + np.float32(group["eps"])
        lr = group["lr"]
        p._data -= np.float32(lr * (1 - mu) / (1 - s["mu_product"])) * g / denom
        p._data -= (np.float32(lr * mu_next / (1 - s["mu_product"] * mu_next))
                    * s["exp_avg"] / denom)


class RAdam(Optimizer):
    r"""RAdam (PyTorch's ``torch.optim.RAdam``), in NumPy: Adam whose adaptive step is
    switched on, and rectified by :math:`r_t`, once the variance estimate is tractable
    (:math:`\rho_t > 5`); plain momentum SGD before.

    .. math::
        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \quad
        r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                         {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    From `On the Variance of the Adaptive Learning Rate and Beyond
    <https://arxiv.org/abs/1908.03265>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate. Default: ``1e-3``.
        betas (tuple[float, float], optional): Default: ``(0.9, 0.999)``.
        eps (float, optional): Default: ``1e-8``.
        weight_decay (float, optional): L2 penalty (decoupled with
            ``decoupled_weight_decay=True``). Default: ``0``.
        decoupled_weight_decay (bool, optional): Default: ``False``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``.
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, None)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _check_group(self, group: dict[str, Any]) -> None:
        _check(group, "RAdam()")

    def _update(self, p: Any, group: dict[str, Any]) -> None:
        s, t, _ = _moments(self, p, group, {})
        b1, b2 = group["betas"]
        corrected = s["exp_avg"] / np.float32(1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        lr = group["lr"]
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = np.float32(math.sqrt(1 - b2 ** t)) / (
                np.sqrt(s["exp_avg_sq"]) + np.float32(group["eps"]))
            p._data -= corrected * np.float32(lr) * adaptive * np.float32(rect)
        else:
            p._data -= corrected * np.float32(lr)
