"""Float64 NumPy references of the optimizer update rules (PyTorch 2.13's definitions).

Each ``<name>_step(p, g, state, **options)`` applies one step in place to the
float64 parameter ``p`` with gradient ``g``; ``state`` is a dict created empty and
filled on the first step with PyTorch's key names. ``trajectory`` runs a whole
sequence of steps over several parameters, with the options of each step's group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def sgd_step(p: np.ndarray, g: np.ndarray, state: dict[str, Any], *, lr: float = 1e-3,
             momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
             nesterov: bool = False, maximize: bool = False) -> None:
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.copy()
        else:
            state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - dampening) * g
        buf = state["momentum_buffer"]
        g = g + momentum * buf if nesterov else buf
    p -= lr * g


def adam_step(p: np.ndarray, g: np.ndarray, state: dict[str, Any], *, lr: float = 1e-3,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
              weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False,
              decoupled_weight_decay: bool = False) -> None:
    beta1, beta2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(p)
    state["step"] += 1
    t = state["step"]
    g = -g if maximize else g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    v = state["exp_avg_sq"]
    if amsgrad:
        state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
        v = state["max_exp_avg_sq"]
    denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
    p -= lr / (1 - beta1**t) * state["exp_avg"] / denom


def adamw_step(p: np.ndarray, g: np.ndarray, state: dict[str, Any], *,
               weight_decay: float = 1e-2, **options: Any) -> None:
    adam_step(p, g, state, weight_decay=weight_decay, decoupled_weight_decay=True, **options)


def rmsprop_step(p: np.ndarray, g: np.ndarray, state: dict[str, Any], *, lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, maximize: bool = False) -> None:
    if not state:
        state.update(step=0, square_avg=np.zeros_like(p))
        if momentum > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if centered:
            state["grad_avg"] = np.zeros_like(p)
    state["step"] += 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
    v = state["square_avg"]
    if centered:
        state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
        v = v - state["grad_avg"] ** 2
    avg = np.sqrt(v) + eps
    if momentum > 0:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / avg
        p -= lr * state["momentum_buffer"]
    else:
        p -= lr * g / avg


def adagrad_step(p: np.ndarray, g: np.ndarray, state: dict[str, Any], *, lr: float = 1e-2,
                 lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 maximize: bool = False) -> None:
    if not state:
        state.update(step=0, sum=np.full_like(p, initial_accumulator_value))
    state["step"] += 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"] = state["sum"] + g * g
    p -= clr * g / (np.sqrt(state["sum"]) + eps)


STEPS: dict[str, Callable[..., None]] = {
    "SGD": sgd_step, "Adam": adam_step, "AdamW": adamw_step, "RMSprop": rmsprop_step,
    "Adagrad": adagrad_step,
}


def trajectory(name: str, params: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]],
               options: Sequence[dict[str, Any]]) -> list[np.ndarray]:
    """Runs ``len(grads)`` steps of optimizer ``name`` in float64 and returns the parameters.

    ``grads[t][i]`` is parameter i's gradient at step t; ``options[t]`` holds the
    hyper-parameters of step t (so tests can change the learning rate mid-run).
    """
    step = STEPS[name]
    ps = [np.array(p, dtype=np.float64) for p in params]
    states: list[dict[str, Any]] = [{} for _ in ps]
    for step_grads, opts in zip(grads, options):
        for p, g, state in zip(ps, step_grads, states):
            step(p, np.asarray(g, dtype=np.float64), state, **opts)
    return ps
