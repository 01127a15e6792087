"""``SGD``: stochastic gradient descent with momentum, dampening and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from .. import _core
from .._validation import check_number
from .optimizer import Optimizer, ParamsT, check_implementation_flags


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD``).

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1}
                \quad (- \text{ when maximize}) \\
            b_t &= g_t \text{ if } t = 1 \text{ else } \mu b_{t-1} + (1 - \tau) g_t \\
            g_t &\leftarrow g_t + \mu b_t \text{ (nesterov) or } b_t
                \quad (\text{when } \mu \ne 0) \\
            \theta_t &= \theta_{t-1} - \gamma g_t
        \end{aligned}

    Nesterov momentum follows `On the importance of initialization and momentum in
    deep learning <https://proceedings.mlr.press/v28/sutskever13.html>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``1e-3``.
        momentum (float, optional): momentum factor :math:`\mu`. Default: ``0``.
        dampening (float, optional): dampening :math:`\tau` for momentum. Default: ``0``.
        weight_decay (float, optional): L2 penalty :math:`\lambda`. Default: ``0``.
        nesterov (bool, optional): use Nesterov momentum (needs momentum > 0 and
            dampening 0). Default: ``False``.
        maximize (bool, optional): maximize the objective instead of minimizing it.
            Default: ``False``.

    State (per parameter): ``"momentum_buffer"`` when momentum is not 0.

    Example::

        >>> opt = fn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad()
        >>> model.backward(loss_fn.backward())
        >>> opt.step()
    """

    _kind = _core.OptimKind.sgd

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, False,
                                   differentiable, fused)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number(group["lr"], "SGD()", "lr", low=0)
        check_number(group["momentum"], "SGD()", "momentum", low=0)
        check_number(group["dampening"], "SGD()", "dampening")
        check_number(group["weight_decay"], "SGD()", "weight_decay", low=0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD(): nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _group_tensors(self, group: dict[str, Any]) -> list[tuple]:
        # No step count: step 1 marks the step that creates the momentum buffer (buf = g).
        params = self._stepping(group)
        if group["momentum"] == 0:
            return [(p._data, p._grad._data, None, None, None, 2) for p in params]
        state = self.state
        fresh = [p for p in params if "momentum_buffer" not in state[p]]
        if fresh:
            self._init_state(fresh, {}, ("momentum_buffer",))
        first = set(fresh)
        return [(p._data, p._grad._data, state[p]["momentum_buffer"], None, None,
                 1 if p in first else 2) for p in params]
