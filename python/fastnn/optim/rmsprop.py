"""``RMSprop``: gradients scaled by a running RMS, optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import check_number
from ..nn.parameter import Parameter
from .optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's ``torch.optim.RMSprop``).

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1} \\
            v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
            \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
            \tilde v_t = v_t - \bar g_t^2 \text{ (centered) or } v_t \\
            b_t &= \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \quad
            \theta_t = \theta_{t-1} - \gamma b_t \quad (\mu > 0) \\
            \theta_t &= \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon)
            \quad (\mu = 0)
        \end{aligned}

    From Hinton's lecture notes (`Lecture 6e
    <https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf>`_);
    the centered form is from `Generating Sequences With Recurrent Neural Networks
    <https://arxiv.org/abs/1308.0850>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``1e-2``.
        alpha (float, optional): smoothing constant :math:`\alpha`. Default: ``0.99``.
        eps (float, optional): :math:`\epsilon` added to the denominator. Default: ``1e-8``.
        weight_decay (float, optional): L2 penalty :math:`\lambda`. Default: ``0``.
        momentum (float, optional): momentum factor :math:`\mu`. Default: ``0``.
        centered (bool, optional): normalize by the estimated variance of the
            gradient instead of its second moment. Default: ``False``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): ``"step"``, ``"square_avg"``, ``"momentum_buffer"``
    (momentum > 0) and ``"grad_avg"`` (centered).

    Example::

        >>> opt = fn.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9)
        >>> opt.step()
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "RMSprop()", "lr", low=0)
        check_number(group["alpha"], "RMSprop()", "alpha", low=0)
        check_number(group["eps"], "RMSprop()", "eps", low=0)
        check_number(group["weight_decay"], "RMSprop()", "weight_decay", low=0)
        check_number(group["momentum"], "RMSprop()", "momentum", low=0)

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        _core.rmsprop_step(p.data, state["square_avg"],
                           state["grad_avg"] if centered else None,
                           state["momentum_buffer"] if momentum > 0 else None, p.grad,
                           lr=float(group["lr"]), alpha=float(group["alpha"]),
                           eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                           momentum=momentum, centered=centered,
                           maximize=bool(group["maximize"]))
