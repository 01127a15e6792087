"""Parameter and gradient collectives: broadcast at the start, gradient averaging per step.

Gradients are averaged with one ``Allreduce`` over one contiguous float32
buffer: :func:`flatten_gradients` makes every ``Parameter.grad`` a view into
that buffer once (the gradient half of :meth:`fastnn.nn.Module.flatten_parameters`,
sharing its cache), so the per-step collective needs no packing copies and no
per-tensor calls.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from .._validation import shape_str
from ..nn import Module
from ..nn._flat import flatten
from ._mpi import comm


def _check_model(model: Any, func: str) -> None:
    if not isinstance(model, Module):
        raise TypeError(
            f"{func}: argument 'model' must be a fastnn.nn.Module, got {type(model).__name__}"
        )


def broadcast_parameters(model: Module, root: int = 0) -> None:
    """Copies the ``root`` rank's parameter and buffer values into every rank's ``model``,
    in place (buffers as PyTorch's ``DistributedDataParallel`` does by default).

    Every rank first shares its parameter and buffer names and shapes; if any rank's model
    differs from the root's, every rank raises the same ``ValueError`` naming
    the first difference (no rank is left waiting in a collective). Parameter
    arrays keep their identity (``p.data`` is written in place), so optimizers
    built before the call stay valid. Optimizer state is not broadcast: create
    the optimizer on every rank the same way (or load the same checkpoint).

    In a world of one (before :func:`init` or with one process) it only checks
    its arguments.

    Args:
        model (Module): the same architecture on every rank.
        root (int): the rank whose weights everyone gets. Default: 0.

    Raises:
        ValueError: ``root`` out of range, or the models differ across ranks.

    Example::

        >>> fn.distributed.init()
        >>> fn.distributed.broadcast_parameters(model)   # all ranks now hold rank 0's weights
    """
    func = "broadcast_parameters()"
    _check_model(model, func)
    c = comm(func)
    size = 1 if c is None else c.Get_size()
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"{func}: argument 'root' must be a rank in [0, {size}), got {root!r}")
    if c is None:
        return
    named = list(model.named_parameters())
    buffers = list(model.named_buffers())
    _check_same_models(c, [("parameter", name, p.shape, "float32") for name, p in named]
                       + [("buffer", name, *_buffer_signature(b)) for name, b in buffers],
                       root, func)
    for _, p in named:
        c.Bcast(p._data, root=root)
        p._bump()
    for _, b in buffers:  # as PyTorch's DDP (broadcast_buffers=True): state that forward reads
        values = _buffer_array(b)
        staged = np.ascontiguousarray(values)
        c.Bcast(staged, root=root)
        if staged is not values:
            values[...] = staged
        if hasattr(b, "_bump"):
            b._bump()


def _check_same_models(c: Any, signature: list, root: int, func: str) -> None:
    """Raises the same ``ValueError`` on every rank unless every rank's model has the
    ``signature`` (names, shapes, dtypes) of the root's (one allgather)."""
    signatures = c.allgather(signature)
    for r, theirs in enumerate(signatures):
        if theirs != signatures[root]:
            raise ValueError(f"{func}: {_difference(signatures[root], root, theirs, r)}")


# Models whose parameters allreduce_gradients has compared across ranks (its first call).
_CHECKED: weakref.WeakKeyDictionary[Module, int] = weakref.WeakKeyDictionary()


def _buffer_array(buffer: Any) -> np.ndarray:
    """The ndarray holding a buffer's values (a Tensor's storage, or the ndarray itself)."""
    return buffer._data if hasattr(buffer, "_data") else np.asarray(buffer)


def _buffer_signature(buffer: Any) -> tuple:
    values = _buffer_array(buffer)
    return values.shape, str(values.dtype)


def _difference(expected: list, root: int, got: list, r: int) -> str:
    """Names the first parameter or buffer where rank ``r``'s model differs from the root's."""
    head = f"rank {r}'s model differs from root rank {root}'s"
    for (kind_a, name_a, shape_a, dtype_a), (kind_b, name_b, shape_b, dtype_b) in zip(expected,
                                                                                       got):
        if (kind_a, name_a) != (kind_b, name_b):
            return (f"{head}: {kind_b} {name_b!r} on rank {r} where rank {root} has "
                    f"{kind_a} {name_a!r}")
        if shape_a != shape_b:
            return (f"{head}: {kind_a} {name_a!r} has shape {shape_str(shape_b)} on rank {r} "
                    f"and {shape_str(shape_a)} on rank {root}")
        if dtype_a != dtype_b:
            return (f"{head}: {kind_a} {name_a!r} has dtype {dtype_b} on rank {r} and "
                    f"{dtype_a} on rank {root}")
    return (f"{head}: {len(got)} parameters and buffers on rank {r} and {len(expected)} on "
            f"rank {root}")


def flatten_gradients(model: Module) -> np.ndarray:
    """Puts every parameter gradient of ``model`` into one contiguous float32 buffer.

    On the first call (or when the model's parameters or their ``.grad`` arrays
    changed since), it allocates a buffer of ``model.num_parameters()`` floats,
    copies each ``p.grad`` into its slice, in ``model.parameters()`` order, and
    **replaces** ``p.grad`` by a view of that slice (same shape, values and
    dtype). Later calls return the cached buffer. Gradients accumulated by
    ``backward`` then land in the buffer directly, and writing the buffer
    writes the gradients. ``p.data`` is never touched (``model.flatten_parameters()``
    flattens both, with the same gradient buffer). References to ``p.grad``
    arrays taken before the first call are stale afterwards: re-read ``p.grad``.

    Args:
        model (Module): the network.

    Returns:
        np.ndarray: the flat float32 gradient buffer, shape ``(num_parameters,)``.

    Example::

        >>> flat = fn.distributed.flatten_gradients(model)
        >>> flat.size == model.num_parameters()
        True
        >>> np.shares_memory(flat, model.parameters()[0].grad)
        True
    """
    _check_model(model, "flatten_gradients()")
    return flatten(model, model.parameters(), "grad")


def allreduce_gradients(model: Module, weight: float | None = None) -> None:
    r"""Averages the parameter gradients over all ranks, in place.

    .. math::
        g \leftarrow \frac{1}{W} \sum_{r=0}^{W-1} g_r

    One ``Allreduce`` (``MPI.IN_PLACE``, sum) over the flat gradient buffer of
    :func:`flatten_gradients` (whose first call rebinds ``p.grad`` to views),
    then one scaling by :math:`1/W`. Call it after ``backward`` and before
    ``optimizer.step()`` on every rank. With a mean-reduced loss and equal
    per-rank batches the result is the gradient of the whole global batch. In a
    world of one it only flattens.

    The first call on a model checks that every rank's model has the same parameter
    names and shapes (one small collective) and raises the same ``ValueError`` on every
    rank where they differ.

    With ``weight`` the ranks' gradients are averaged with those weights instead (one
    more small collective: every rank must pass a weight, or none may, as with any
    collective, or the ranks wait for each other forever),

    .. math::
        g \leftarrow \sum_r w_r g_r \Big/ \sum_r w_r,

    for a mean-reduced loss whose divisor differs between ranks (class weights,
    ignored targets: pass the divisor), which gives the whole batch's mean gradient; where
    the weights are all equal (or sum to 0) this is the plain average above, bit for bit.

    Args:
        model (Module): the network, the same on every rank.
        weight (float, optional): this rank's weight, >= 0. Default: ``None``.

    Raises:
        ValueError: the first call on ``model`` found ranks whose models differ, or
            ``weight`` is negative or not finite.

    Example::

        >>> optimizer.zero_grad()
        >>> value = loss_fn(model(xb), yb)
        >>> model.backward(loss_fn.backward())
        >>> fn.distributed.allreduce_gradients(model)
        >>> optimizer.step()
    """
    func = "allreduce_gradients()"
    _check_model(model, func)
    if weight is not None:
        weight = _checked_weight(weight, func)
    buffer = flatten_gradients(model)
    for p in model.parameters():  # a gradient set to None takes part as zeros
        unset = p._unset
        p._grad_sink()
        # still "not written here": step() then skips it if no rank wrote it either (the
        # average stays all zeros), as the one-process run skips a layer it did not use
        p._unset = unset
    c = comm(func)
    if c is None:
        return
    if _CHECKED.get(model) != c.Get_size():  # first call: a model of other shapes averaged
        # unrelated gradients silently (same count) or aborted MPI (another count)
        _check_same_models(c, [("parameter", name, p.shape, "float32")
                               for name, p in model.named_parameters()], 0, func)
        _CHECKED[model] = c.Get_size()
    from mpi4py import MPI

    if weight is not None:
        weights = np.empty(c.Get_size(), np.float64)
        c.Allgather(np.array([weight], np.float64), weights)
        total = float(weights.sum())
        if total > 0 and min(weights) != max(weights):
            if weight == 0:  # a rank that counted nothing: its mean may be NaN (0 / 0)
                buffer[...] = 0
            else:
                buffer *= np.float32(weight / total)
            c.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            return
    c.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
    buffer /= np.float32(c.Get_size())


def _checked_weight(weight: Any, func: str) -> float:
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: argument 'weight' must be a number, got "
                        f"{type(weight).__name__}") from None
    if not math.isfinite(w) or w < 0:
        raise ValueError(f"{func}: argument 'weight' must be finite and >= 0, got {weight!r}")
    return w

