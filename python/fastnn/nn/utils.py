"""``fastnn.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
``parameters_to_vector`` / ``vector_to_parameters``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validation import check_number
from ..autograd.tensor import Tensor, _wrap


def _grads(parameters: Any) -> list[np.ndarray]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p._grad._data for p in params if p._grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    r"""Scales the gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated; every gradient is
    multiplied by :math:`\min(1, \text{max\_norm} / (\text{norm} + 10^{-6}))`, as in
    PyTorch (a NaN norm makes every gradient NaN, as there). ``foreach`` is accepted for
    PyTorch's signature and changes nothing.

    Returns:
        Tensor: the total norm before clipping (0-d).
    """
    func = "clip_grad_norm_()"
    try:
        norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: argument 'norm_type' must be a number (or 'inf'), got "
                        f"{norm_type!r}") from None
    if isinstance(max_norm, Tensor) and max_norm.numel() == 1:  # torch takes a Tensor too
        max_norm = max_norm.item()
    max_norm = check_number(max_norm, func, "max_norm")
    grads = _grads(parameters)
    if not grads:
        return _wrap(np.zeros((), np.float32))
    if norm_type == float("inf"):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == float("-inf"):  # the smallest magnitude, as torch's vector norm
        total = min(float(np.min(np.abs(g))) for g in grads if g.size) if any(
            g.size for g in grads) else 0.0
    elif norm_type == 0.0:  # torch's 0-norm of the per-gradient 0-norms (counts): how
        total = float(sum(bool(g.any()) for g in grads))  # many gradients are not all zero
    else:
        total = float(sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type))
                          for g in grads)) ** (1.0 / norm_type)
    with np.errstate(over="ignore"):
        total = float(np.float32(total))  # the float32 norm torch computes and returns
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped.")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # NaN too: PyTorch's clamp(coef, max=1) keeps it
        for g in grads:
            g *= np.float32(coef)
    return _wrap(np.asarray(total, np.float32))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clips every gradient element into ``[-clip_value, clip_value]`` in place."""
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-D Tensor (differentiable, as in
    PyTorch: a loss of it reaches the parameters)."""
    from ..autograd.ops_shape import cat

    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector(): got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-D ``vec`` into the parameters, in place (the
    inverse of :func:`parameters_to_vector`)."""
    func = "vector_to_parameters()"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{func}: argument 'vec' must be a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"{func}: argument 'vec' must have shape ({total},) (the parameters' "
                         f"{total} elements), got {tuple(vec.shape)}")
    start = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[start:start + n].reshape(p.shape)
        p._bump()
        start += n
