"""``autograd.Function``: an op with a hand-written backward, as PyTorch's.

A subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
methods and is called through ``apply``::

    class LegendrePolynomial3(fn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x ** 2 - 1)

    y = LegendrePolynomial3.apply(x)

``forward`` runs without recording (its ops are not on the graph); its one Tensor output
becomes the output of a :class:`~fastnn.autograd.graph.Node` whose vector-Jacobian
product calls ``backward`` (also without recording), which returns one gradient per
``forward`` argument (``None`` for an argument that needs none). The newer form, a
``forward(*args)`` without ``ctx`` plus ``setup_context(ctx, inputs, output)``, works too.
Tensors given to ``ctx.save_for_backward`` are version-checked as any saved value: an
in-place change before the backward raises ``RuntimeError``, and a second backward
without ``retain_graph`` raises as for any node that saved values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grad_mode import _state, no_grad
from .tensor import Tensor, _result, _wrap, named, stamp


class FunctionCtx:
    """What ``forward`` (or ``setup_context``) leaves for ``backward``: the Tensors of
    :meth:`save_for_backward`, ``needs_input_grad`` (one bool per ``forward`` argument)
    and any attribute set on it (``ctx.constant = c``)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.to_save: tuple[Any, ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        """Keeps ``tensors`` (Tensors or ``None``) for ``backward``'s ``saved_tensors``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self.to_save

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Accepted for PyTorch compatibility: ``apply`` records one output, whose
        gradient flows through ``backward``."""

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class Function:
    """Base class of an op with a hand-written backward (module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Runs ``forward`` on ``args`` and records the node that runs ``backward``."""
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        new_style = cls.setup_context is not Function.setup_context
        with no_grad():
            if new_style:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        if not (_state.enabled and any(needs)):
            return out
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return one Tensor to be "
                            f"differentiable, got {type(out).__name__} (tuples of outputs "
                            "are not supported)")
        inputs = tuple(a if need else None for a, need in zip(args, needs))
        saved = tuple(t for t in ctx.to_save if t is not None)
        y = _result(out._data, _function_vjp, inputs, (cls, ctx, out.shape),
                    tuple(stamp(t) for t in saved))
        return named(y, f"{cls.__name__}Backward")


def _function_vjp(node: Any, g: np.ndarray) -> tuple:
    cls, ctx, _ = node.saved
    with no_grad():
        grads = cls.backward(ctx, _wrap(g))
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                           f"gradients (expected {len(node.inputs)}, got {len(grads)})")
    out = []
    for i, (t, gi) in enumerate(zip(node.inputs, grads)):
        if t is None or gi is None:
            out.append(None)
            continue
        arr = np.asarray(gi._data if isinstance(gi, Tensor) else gi, dtype=t._data.dtype)
        if arr.shape != t._data.shape:
            raise RuntimeError(f"Function {cls.__name__}Backward returned an invalid gradient "
                               f"at index {i} - got {list(arr.shape)} but expected shape "
                               f"compatible with {list(t._data.shape)}")
        out.append(arr)
    return tuple(out)
