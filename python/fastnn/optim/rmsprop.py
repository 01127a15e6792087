"""``RMSprop``: gradients scaled by a running RMS, optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

from .. import _core
from .._validation import check_number
from .optimizer import Optimizer, ParamsT, check_implementation_flags


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
        alpha (float, optional): smoothing constant :math:`\alpha`, in [0, 1] (above 1 the average
            goes negative). Default: ``0.99``.
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

    _kind = _core.OptimKind.rmsprop

    _state_keys = ("step", "square_avg")

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, None)
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "RMSprop()", "lr", low=0)
        check_number(group["alpha"], "RMSprop()", "alpha", low=0, high=1)
        check_number(group["eps"], "RMSprop()", "eps", low=0)
        check_number(group["weight_decay"], "RMSprop()", "weight_decay", low=0)
        check_number(group["momentum"], "RMSprop()", "momentum", low=0)

    def _group_tensors(self, group: dict[str, Any]) -> list[tuple]:
        params, state = self._stepping(group), self.state
        fresh = [p for p in params if not state[p]]
        if fresh:
            self._init_state(fresh, {"step": 0}, ("square_avg",))
        use_momentum = group["momentum"] > 0
        centered = bool(group["centered"])
        for name, needed in (("momentum_buffer", use_momentum), ("grad_avg", centered)):
            fresh = [p for p in params if needed and name not in state[p]]
            if fresh:
                self._init_state(fresh, {}, (name,))
        out = []
        for p in params:
            s = state[p]
            s["step"] = t = s["step"] + 1
            out.append((p._data, p._grad._data, s["square_avg"],
                        s["grad_avg"] if centered else None,
                        s["momentum_buffer"] if use_momentum else None, t))
        return out
