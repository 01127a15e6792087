"""``fastnn.autograd.grad``: the gradients of outputs with respect to chosen Tensors,
returned instead of accumulated (PyTorch's ``torch.autograd.grad``)::

    >>> x = fn.tensor([1.0, 2.0], requires_grad=True)
    >>> (dx,) = fn.autograd.grad((x ** 2).sum(), x)   # 2 x; x.grad stays None
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .graph import GradSink, run_backward
from .tensor import Tensor, _wrap

__all__ = ["grad"]


def _tensors(value: Any, arg: str) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else list(value)
    if not items or not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"grad(): argument '{arg}' must be a Tensor or a non-empty sequence of "
                        "Tensors")
    return items


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Any, ...]:
    r"""The gradients of ``outputs`` with respect to each of ``inputs``, as in PyTorch.

    Computes :math:`\sum_k \partial (\text{grad\_outputs}_k \cdot \text{outputs}_k) /
    \partial\, \text{input}` for each input, without touching any ``.grad``.

    Args:
        outputs (Tensor or sequence of Tensors): what is differentiated.
        inputs (Tensor or sequence of Tensors): with respect to what (leaves or not).
        grad_outputs (Tensor or sequence, optional): :math:`\partial L / \partial
            \text{output}` for each output; ``None`` (or a ``None`` entry) means 1 for a
            one-element output. Default: ``None``.
        retain_graph (bool, optional): keep the graph for another backward. Default:
            ``create_graph`` (``False``).
        create_graph (bool): higher-order gradients are not supported: ``False`` only.
        allow_unused (bool, optional): give ``None`` for an input the outputs do not
            depend on, instead of raising. Default: ``False`` (``True`` with
            ``materialize_grads``).
        materialize_grads (bool): zeros instead of ``None`` for such inputs.
        only_inputs, is_grads_batched: PyTorch's; ``only_inputs`` is ignored (deprecated
            there), ``is_grads_batched`` must be ``False``.

    Returns:
        tuple: one gradient Tensor (or ``None``) per input, shaped as the input.

    Raises:
        RuntimeError: an output does not require grad, an input was not used (without
            ``allow_unused``), or as ``Tensor.backward``.
    """
    if create_graph:
        raise NotImplementedError("grad(create_graph=True): higher-order gradients are not "
                                  "supported by fastnn")
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported by fastnn")
    outs, ins = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    if grad_outputs is None:
        gouts: list[Any] = [None] * len(outs)
    else:
        gouts = [grad_outputs] if isinstance(grad_outputs, Tensor) or np.ndim(grad_outputs) \
            == 0 and len(outs) == 1 else list(grad_outputs)
    if len(gouts) != len(outs):
        raise RuntimeError(f"grad(): grad_outputs has {len(gouts)} entries but outputs has "
                           f"{len(outs)}")
    for i, t in enumerate(ins):
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                               "require grad")  # PyTorch's message, with the index
    sink = GradSink(ins)
    keep = bool(retain_graph)
    for k, (out, g) in enumerate(zip(outs, gouts)):
        if not out._rg:
            raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                               "have a grad_fn")
        run_backward(out, _output_grad(out, g, k), keep or k < len(outs) - 1, sink)
    if allow_unused is None:
        allow_unused = materialize_grads
    result = []
    for i, t in enumerate(ins):
        g = sink.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                                   "have been used in the graph. Set allow_unused=True if "
                                   "this is the desired behavior.")
            result.append(_wrap(np.zeros_like(t._data)) if materialize_grads else None)
        else:
            result.append(_wrap(np.asarray(g, t._data.dtype).reshape(t._data.shape)))
    return tuple(result)


def _output_grad(out: Tensor, g: Any, k: int) -> np.ndarray:
    if g is None:
        if out._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(output {k} has shape {tuple(out.shape)}); pass grad_outputs")
        return np.ones(out._data.shape, out._data.dtype)
    arr = np.asarray(g._data if isinstance(g, Tensor) else g)
    if arr.shape != out._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{k}] has a shape of "
                           f"{tuple(arr.shape)} and output[{k}] has a shape of "
                           f"{tuple(out.shape)}.")
    return arr.astype(out._data.dtype, copy=False)
