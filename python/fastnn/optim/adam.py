"""``Adam`` and ``AdamW``: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from typing import Any

from .. import _core
from .._validation import check_number
from .optimizer import Optimizer, ParamsT, check_implementation_flags


def check_betas(group: dict[str, Any], name: str) -> None:
    """``group["betas"]`` is a pair in [0, 1) (stored as a tuple)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{name}: argument 'betas' must be a pair of floats, got {betas!r}")
    for i, beta in enumerate(betas):
        check_number(beta, name, f"betas[{i}]", low=0, high=1, high_open=True)
    group["betas"] = tuple(betas)


class Adam(Optimizer):
    r"""Adam (PyTorch's ``torch.optim.Adam``), optionally AMSGrad.

    .. math::
        \begin{aligned}
            g_t &= \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda \theta_{t-1}
                \quad (\text{decoupled: } \theta_{t-1} \leftarrow
                (1 - \gamma\lambda)\theta_{t-1} \text{ instead}) \\
            m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \qquad
            v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
            \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ (amsgrad) or } v_t \\
            \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
                \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}
        \end{aligned}

    From `Adam: A Method for Stochastic Optimization <https://arxiv.org/abs/1412.6980>`_
    and `On the Convergence of Adam and Beyond <https://openreview.net/forum?id=ryQu7f-RZ>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``1e-3``.
        betas (tuple[float, float], optional): :math:`(\beta_1, \beta_2)`, each in
            [0, 1). Default: ``(0.9, 0.999)``.
        eps (float, optional): :math:`\epsilon` added to the denominator. Default: ``1e-8``.
        weight_decay (float, optional): :math:`\lambda`. Default: ``0``.
        amsgrad (bool, optional): use the AMSGrad variant. Default: ``False``.
        maximize (bool, optional): maximize the objective. Default: ``False``.
        decoupled_weight_decay (bool, optional): decay the weights directly, as
            :class:`AdamW` does, instead of adding :math:`\lambda\theta` to the
            gradient. Default: ``False``.

    State (per parameter): ``"step"``, ``"exp_avg"``, ``"exp_avg_sq"`` and, with
    amsgrad, ``"max_exp_avg_sq"``.

    Example::

        >>> opt = fn.optim.Adam(model.parameters(), lr=1e-3)
        >>> opt.step()
    """

    _kind = _core.OptimKind.adam

    _state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_implementation_flags(f"{type(self).__name__}()", foreach, capturable,
                                   differentiable, fused)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        name = f"{type(self).__name__}()"
        check_number(group["lr"], name, "lr", low=0)
        check_number(group["eps"], name, "eps", low=0)
        check_betas(group, name)
        check_number(group["weight_decay"], name, "weight_decay", low=0)

    def _group_tensors(self, group: dict[str, Any]) -> list[tuple]:
        params, state = self._stepping(group), self.state
        fresh = [p for p in params if not state[p]]
        if fresh:
            self._init_state(fresh, {"step": 0}, ("exp_avg", "exp_avg_sq"))
        amsgrad = bool(group["amsgrad"])
        if amsgrad:
            fresh = [p for p in params if "max_exp_avg_sq" not in state[p]]
            if fresh:
                self._init_state(fresh, {}, ("max_exp_avg_sq",))
        out = []
        for p in params:
            s = state[p]
            s["step"] = t = s["step"] + 1
            out.append((p._data, p._grad._data, s["exp_avg"], s["exp_avg_sq"],
                        s["max_exp_avg_sq"] if amsgrad else None, t))
        return out


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``).

    Each step first shrinks the weights, :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`,
    then applies the Adam update without :math:`\lambda` in the gradient, so the
    decay does not pass through the moment estimates. From `Decoupled Weight Decay
    Regularization <https://arxiv.org/abs/1711.05101>`_.

    Args:
        params (iterable): parameters, or dicts defining parameter groups.
        lr (float, optional): learning rate :math:`\gamma`. Default: ``1e-3``.
        betas (tuple[float, float], optional): :math:`(\beta_1, \beta_2)`, each in
            [0, 1). Default: ``(0.9, 0.999)``.
        eps (float, optional): :math:`\epsilon` added to the denominator. Default: ``1e-8``.
        weight_decay (float, optional): decoupled decay :math:`\lambda`. Default: ``1e-2``.
        amsgrad (bool, optional): use the AMSGrad variant. Default: ``False``.
        maximize (bool, optional): maximize the objective. Default: ``False``.

    State (per parameter): as :class:`Adam`.

    Example::

        >>> opt = fn.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        >>> opt.step()
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused)
