"""``autograd.Function``: an op with a hand-written backward, as PyTorch's.

A subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
methods and is called through ``apply``::

    class Exp(fn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)      # d exp(x) / dx = exp(x)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    y = Exp.apply(x)

``forward`` runs without recording (its ops are not on the graph); its one Tensor output
becomes the output of a :class:`~fastnn.autograd.graph.Node` whose vector-Jacobian
product calls ``backward`` (also without recording), which returns one gradient per
``forward`` argument (``None`` for an argument that needs none). The newer form, a
``forward(*args)`` without ``ctx`` plus ``setup_context(ctx, inputs, output)``, works too.

As PyTorch's: the Tensors given to ``ctx.save_for_backward`` are version-checked, and so
is the output (it shares the version counter of what ``forward`` returned), so an
in-place change before the backward raises ``RuntimeError``; a second backward without
``retain_graph`` raises when the function saved Tensors and runs again when it saved
none; a gradient of a shape the input broadcasts to is summed to the input's shape, and
``backward`` may return extra trailing ``None`` gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grad_mode import _state, no_grad
from .graph import RERUN_VJPS, unbroadcast
from .tensor import Tensor, _result, _share_vc, _wrap, named, stamp


class FunctionCtx:
    """What ``forward`` (or ``setup_context``) leaves for ``backward``: the Tensors of
    :meth:`save_for_backward`, ``needs_input_grad`` (one bool per ``forward`` argument)
    and any attribute set on it (``ctx.constant = c``)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.to_save: tuple[Any, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keeps ``tensors`` (Tensors or ``None``) for ``backward``'s ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The Tensors given to :meth:`save_for_backward`, in order."""
        return self.to_save

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Accepted for PyTorch compatibility: ``apply`` records one output, whose
        gradient flows through ``backward``."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch compatibility: ``backward`` always gets a gradient Tensor
        (one output, and the engine calls it only with a gradient)."""


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
        y = _result(out._data, _function_vjp, inputs, (cls, ctx),
                    tuple(stamp(t) for t in saved))
        y._vc = _share_vc(out)  # an in-place change through y is one of out (and x if aliased)
        return named(y, f"{cls.__name__}Backward")


def _function_vjp(node: Any, g: np.ndarray) -> tuple:
    """The node's input gradients from the Function's ``backward`` (without recording),
    checked and shaped as PyTorch's engine does (module docstring)."""
    cls, ctx = node.saved
    with no_grad():
        grads = cls.backward(ctx, _wrap(g))
    if not isinstance(grads, tuple):
        grads = (grads,)
    n = len(node.inputs)
    if len(grads) < n or any(gi is not None for gi in grads[n:]):
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                           f"gradients (expected {n}, got {len(grads)})")
    out = []
    for i, (t, gi) in enumerate(zip(node.inputs, grads)):
        if t is None or gi is None:
            out.append(None)
            continue
        arr = np.asarray(gi._data if isinstance(gi, Tensor) else gi, dtype=t._data.dtype)
        shape = t._data.shape
        if arr.shape != shape:
            try:
                expandable = np.broadcast_shapes(shape, arr.shape) == arr.shape
            except ValueError:
                expandable = False
            if not expandable:
                raise RuntimeError(f"Function {cls.__name__}Backward returned an invalid "
                                   f"gradient at index {i} - got {list(arr.shape)} but expected "
                                   f"shape compatible with {list(shape)}")
            arr = unbroadcast(arr, shape)
        out.append(arr)
    return tuple(out)


# A Function that saved no Tensors runs again in a second backward, as PyTorch's does.
RERUN_VJPS[_function_vjp] = lambda saved: not saved[1].to_save
