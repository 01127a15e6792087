"""The recorded graph: ``Node`` (one op's vector-Jacobian product) and the backward pass.

Each differentiable op that runs with recording on creates one :class:`Node` and
hangs it on its output Tensor as ``grad_fn``. The node holds the op's inputs (the
Tensors it differentiates into), the arrays its backward reads, and a version
stamp of each, so that an in-place change to a saved value is caught.

:func:`run_backward` orders the nodes reachable from the root depth-first
(reverse topological order), hands each its accumulated output gradient, and
routes the input gradients it returns to the producing nodes or, for leaves,
into ``.grad``. Without ``retain_graph`` every visited node that saved values is freed
afterwards, so a second backward through it raises ``RuntimeError`` as PyTorch does
(nodes that saved only shapes and indices run again, as PyTorch's do).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """One recorded op: ``grads = vjp(node, grad_out)``, one entry per input (or ``None``).

    Attributes:
        vjp: the op's vector-Jacobian product.
        inputs: the op's Tensor inputs, ``None`` where an input needs no gradient.
        saved: arrays (and other values) the vjp reads.
        stamps: ``(counter, version)`` of each saved Tensor value, checked before the vjp.
        grad: the output gradient accumulated during a backward pass.
        seq: creation order (increasing), to route a gradient past in-place rebinding.
        prev: for the node of an in-place op, the node that produced the Tensor before
            the op rebound it (``None`` for any other node or a former leaf).

    An in-place op on the graph (``x += y``, ``x[i] = v``) makes ``x`` the output of a
    new node. Nodes recorded before it that read ``x`` still mean the old value, as in
    PyTorch, whose edges point to nodes: the engine follows ``prev`` from ``x.grad_fn``
    back to the newest node older than the consumer (:func:`producer`).
    """

    __slots__ = ("vjp", "inputs", "saved", "stamps", "grad", "seq", "prev", "label")

    def __init__(self, vjp: Callable[[Node, np.ndarray], tuple], inputs: tuple,
                 saved: tuple = (), stamps: tuple = ()) -> None:
        self.vjp = vjp
        self.inputs = inputs
        self.saved = saved
        self.stamps = stamps
        self.grad = None
        self.seq = _next_seq()
        self.prev = None
        self.label: str | None = None  # PyTorch's name where the vjp's name is not it

    def name(self) -> str:
        """PyTorch's name of this node, e.g. ``"MulBackward0"``, ``"NllLossBackward0"``."""
        return self.label or _node_name(self.vjp)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes feeding this one (``None`` for inputs without a gradient), as in PyTorch."""
        if self.inputs is None:
            return ()
        return tuple((None if t is None else (t.grad_fn or _LeafRef(t)), 0) for t in self.inputs)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class _LeafRef:
    """Stands for a leaf in ``next_functions`` (PyTorch's ``AccumulateGrad``)."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


_next_seq = itertools.count().__next__


def producer(t: Tensor, consumer: Node) -> Node | None:
    """The node whose output ``consumer`` read as ``t``: ``t.grad_fn``, unless an in-place op
    rebound ``t`` after ``consumer`` was recorded (then the node ``t`` had before)."""
    p = t.grad_fn
    if p is not None and p.seq > consumer.seq:
        seq = consumer.seq
        while p is not None and p.seq > seq:
            p = p.prev
    return p


def _node_name(vjp: Callable[..., Any]) -> str:
    name = vjp.__name__.lstrip("_")
    if name.endswith("_vjp"):
        name = name[:-4]
    return "".join(part.capitalize() for part in name.split("_")) + "Backward0"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sums ``grad`` over the dimensions that broadcasting added or stretched, to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _check_stamps(node: Node) -> None:
    for counter, version in node.stamps:
        if counter[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {node.name()} expected version {version}, found version "
                f"{counter[0]}. Compute the value out of place (x = x + y, not x += y) or clone "
                "it before changing it."
            )


_REBOUND_VJPS: dict[Callable[..., Any], Callable[..., Any]] = {}


def _rebound(node: Node) -> None:
    """Marks the node of an in-place op that an older consumer reads past: its vjp becomes
    a wrapper of the same name, which code that recognises ops by their vjp (the traced
    ``TrainStep``) does not know, so that it runs such a graph eagerly."""
    vjp = node.vjp
    if vjp in _REBOUND_VJPS.values():
        return
    wrapper = _REBOUND_VJPS.get(vjp)
    if wrapper is None:
        def wrapper(n: Node, g: np.ndarray, _vjp: Callable[..., Any] = vjp) -> Any:
            return _vjp(n, g)
        wrapper.__name__ = vjp.__name__
        wrapper._rebound_of = vjp  # type: ignore[attr-defined]
        _REBOUND_VJPS[vjp] = wrapper
    node.vjp = wrapper


def op_vjp(node: Node) -> Callable[..., Any]:
    """The vjp of the op that recorded ``node``, also when :func:`_rebound` wrapped it
    (code that tells views by their vjp must see through the wrapper)."""
    return getattr(node.vjp, "_rebound_of", node.vjp)


def _dependencies(root: Node) -> dict[Node, int]:
    """For every node reachable from ``root``, how many reachable nodes consume its output.

    A consumer recorded before an in-place op reads the node the Tensor had then
    (:func:`producer`). The in-place node it reads past is marked (:func:`_rebound`) and
    kept in the result with a count of 1 if nothing else reaches it, for callers that
    walk ``t.grad_fn``; the engine never reaches it through that edge, so it never runs.
    """
    deps = {root: 0}
    stack = [root]
    rebound = None
    while stack:
        node = stack.pop()
        inputs = node.inputs
        if inputs is None:  # freed: reported if a gradient reaches it
            continue
        seq = node.seq
        for t in inputs:
            if t is not None:
                p = t.grad_fn
                if p is not None and p.seq > seq:
                    _rebound(p)
                    rebound = [p] if rebound is None else rebound + [p]
                    p = producer(t, node)
                if p is not None:
                    if p in deps:
                        deps[p] += 1
                    else:
                        deps[p] = 1
                        stack.append(p)
    if rebound is not None:
        for p in rebound:
            deps.setdefault(p, 1)
        _check_stale_views(deps, root)
    return deps


VIEW_VJPS: set[Callable[..., Any]] = set()  # the vjps of view ops (filled by ops_shape)

# The vjps that read no saved values, only shapes, axes and basic indices (filled by the op
# modules), each with None or a test of the node's ``saved`` (a basic index, not an array).
# PyTorch frees what a node saved after a backward without retain_graph; such a node
# (AddBackward0, SumBackward0, a view's) has nothing to free and runs again in a second
# backward. fastnn frees a node by dropping its inputs, so these keep theirs.
RERUN_VJPS: dict[Callable[..., Any], Callable[[tuple], bool] | None] = {}
# Of those, the vjps that never read ``saved`` (add and sub keep a constant operand there
# for the ONNX export only): a kept node of theirs drops it too.
SAVED_UNREAD: set[Callable[..., Any]] = set()


# Inputs smaller than this stay as they are in a kept node (what they hold is small, and
# a stand-in per input would cost more than the memory in per-op-bound code).
_DROP_BYTES = 1 << 16
_ZERO_BYTES = bytes(16)  # the one element every stand-in's zero strides read


_FREE = object()  # RERUN_VJPS.get's default: the node is freed


def _without_values(node: Node) -> tuple:
    """The inputs a node kept for a second backward (RERUN_VJPS) needs: its edges (the
    producing node, or the leaf) and the inputs' shapes and dtypes, not their values. Each
    non-leaf input of 64 KiB or more becomes a stand-in without memory (a zero-stride array
    of its shape and dtype pointing to its producer), so that a chain of additions (a
    residual stack) does not keep every activation alive while its loss is referenced;
    PyTorch's nodes hold no values either. A leaf, or a Tensor that retains its grad, stays
    itself (backward writes its .grad)."""
    inputs = node.inputs
    for i, t in enumerate(inputs):
        if t is None or t.grad_fn is None or t._retain:
            continue
        d = t._data
        if d.nbytes < _DROP_BYTES or not any(d.strides):  # small, or a stand-in already
            continue
        from .tensor import _wrap  # (tensor imports this module)
        stand_in = _wrap(np.ndarray(d.shape, d.dtype, _ZERO_BYTES, 0, (0,) * d.ndim))
        stand_in._rg = t._rg
        stand_in.grad_fn = producer(t, node)
        inputs = inputs[:i] + (stand_in,) + inputs[i + 1:]
    return inputs



def _check_stale_views(deps: dict[Node, int], root: Node) -> None:
    """Raises if a view was read (or is the ``root`` of the backward) after an in-place
    change of the Tensor it views.

    PyTorch rebases such a view onto the base's new history; fastnn keeps the view's
    history, which would give a wrong gradient, so it refuses instead.
    """
    memo: dict[Node, int | None] = {}

    def changed_at(v: Node) -> int | None:
        """For a view node, the seq of the first in-place op after it on its base (or on
        the base of that base, ...); ``None`` if none."""
        if v in memo:
            return memo[v]
        memo[v] = None
        first = None
        if op_vjp(v) in VIEW_VJPS and v.inputs is not None and v.inputs[0] is not None:
            base = v.inputs[0]
            p = base.grad_fn
            while p is not None and p.seq > v.seq:
                first = p.seq
                p = p.prev
            if (p is not None and p.inputs is not None and p.inputs[0] is not None
                    and np.may_share_memory(base._data, p.inputs[0]._data)):
                up = changed_at(p)  # the base is itself a view whose base changed
                if up is not None and up > v.seq and (first is None or up < first):
                    first = up
        memo[v] = first
        return first

    changed = {v: c for v in deps if (c := changed_at(v)) is not None}
    if not changed:
        return
    if root in changed:
        _refuse_stale_view(root)
    for node in deps:
        if node.inputs is None:
            continue
        for t in node.inputs:
            if t is None:
                continue
            v = producer(t, node)
            first = changed.get(v)
            if first is not None and node.seq > first and np.may_share_memory(
                    t._data, v.inputs[0]._data):
                _refuse_stale_view(v)


def _refuse_stale_view(v: Node) -> None:
    raise RuntimeError(
        f"a view ({v.name()}) was used after an in-place change of the Tensor it views; "
        "fastnn does not rebase views onto the new value. Take the view after the in-place "
        "operation, or clone() it before."
    )


class GradSink:
    """The Tensors a backward pass delivers gradients to when they are chosen
    (``backward(inputs=...)``, ``autograd.grad``): their gradients are summed here, and no
    other Tensor's ``.grad`` changes."""

    def __init__(self, tensors: list[Tensor]) -> None:
        self.grads: dict[int, np.ndarray | None] = {id(t): None for t in tensors}

    def add(self, t: Tensor, g: np.ndarray | None) -> None:
        if g is not None and id(t) in self.grads:
            cur = self.grads[id(t)]
            self.grads[id(t)] = np.array(g, t._data.dtype) if cur is None else cur + g

    def get(self, t: Tensor) -> np.ndarray | None:
        return self.grads[id(t)]


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool,
                 sink: GradSink | None = None) -> None:
    """Back-propagates ``grad`` (d out / d root) from ``root`` to every leaf that requires grad,
    or, with ``sink``, to the Tensors it holds only (into the sink, not their ``.grad``).

    A node runs once all its consumers have run (dependency counting, as PyTorch's
    engine does), so its output gradient is complete when its vjp reads it.
    """
    fn = root.grad_fn
    if sink is not None:
        sink.add(root, grad)
    if fn is None:  # a leaf: its gradient is the one given
        if sink is None:
            root._accumulate(grad)
        return
    if fn.inputs is None:
        raise RuntimeError(_FREED_MESSAGE)
    deps = _dependencies(fn)
    fn.grad = grad
    ready = [fn]
    # Gradients at the edges of a function's domain are inf or nan, silently, as in PyTorch
    # (e.g. d sqrt(x) / dx at 0): NumPy would warn for each.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        try:
            while ready:
                node = ready.pop()
                g = node.grad
                node.grad = None
                inputs = node.inputs
                if g is None:
                    grads = (None,) * len(inputs) if inputs is not None else ()
                else:
                    if inputs is None:
                        raise RuntimeError(_FREED_MESSAGE)
                    for counter, version in node.stamps:  # inline _check_stamps: hot
                        if counter[0] != version:
                            _check_stamps(node)  # raises
                    grads = node.vjp(node, g)
                if inputs is None:
                    continue
                seq = node.seq
                for t, gi in zip(inputs, grads):
                    if t is None:
                        continue
                    p = t.grad_fn
                    if p is not None and p.seq > seq:  # t was rebound in place since
                        p = producer(t, node)
                    if p is None:
                        if sink is not None:
                            sink.add(t, gi)
                        elif gi is not None:
                            t._accumulate(gi)
                        continue
                    if gi is not None:
                        if sink is not None:
                            sink.add(t, gi)
                        elif t._retain:
                            t._accumulate(gi)
                        pg = p.grad
                        p.grad = gi if pg is None else pg + gi
                    left = deps[p] - 1
                    deps[p] = left
                    if left == 0:
                        ready.append(p)
                if not retain_graph and g is not None:
                    # Inline (the backward's per-node cost): a node that saved values is
                    # freed; one that saved none is kept (RERUN_VJPS) without large values.
                    vjp = op_vjp(node)
                    test = RERUN_VJPS.get(vjp, _FREE)
                    if test is _FREE or (test is not None and not test(node.saved)):
                        node.inputs = None
                        node.saved = ()
                        node.stamps = ()
                    else:
                        if vjp in SAVED_UNREAD:
                            node.saved = ()
                        for t in inputs:
                            if t is not None and t._data.nbytes >= _DROP_BYTES:
                                node.inputs = _without_values(node)
                                break
        except BaseException:
            for node in deps:
                node.grad = None
            raise
