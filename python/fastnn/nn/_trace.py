"""``TracedStep``: any Module's training step, traced once from autograd and replayed.

The first call runs the step eagerly on Tensors (``zero_grad``, forward, loss,
``backward``, ``step``) while a :class:`~fastnn.autograd.grad_mode.TraceLog`
watches, then reads the program off the recorded graph:

* the forward, in a topological order of the graph's nodes, each op writing into
  a buffer owned by the step (Linear on the GEMM kernel, with ReLU/LeakyReLU
  fused into its write-back when the pre-activation has no other use; the
  activations, adds, scalings, dropout and reshapes; the loss);
* the backward, in exactly the order the autograd engine ran the nodes, each
  through the op's own vector-Jacobian product, routing gradients to the same
  producers and leaves in the same order.

Later calls replay that program: the same kernels on the same values in the
same order as the eager loop, so weights after N steps are bit-identical to it,
without building Tensors or a graph. A program of Linear, activation, dropout and
residual-add ops with a known loss and optimizer runs as one C++ call instead (the
Sequential TrainStep's plan, ``_chain_plan``). A change of input shape, of train/eval
mode or of the parameter set triggers a new trace.

What the graph cannot show makes a forward untraceable, and the step then runs
the eager loop (with one warning saying why): a value that left the graph for
Python (``bool(t)``, ``t.item()``, ``t.numpy()``: data-dependent control flow),
an array constant, or a 0-d one that is not a Python number (it may have been
computed from the data outside the graph, or be a buffer that changes), state of the
model the forward changes other than by storing a value on the graph (a counter such
as ``self.calls += 1``, an append to a list attribute, a buffer updated in place: the
replay does not run the forward's Python), or an op the replay does not know. A value
on the graph that the forward stores (``self.features = h``, or ``h.detach()``) is
stored again by each replay, as a Tensor off the graph. What the forward reads or
changes outside the model's modules (a global variable, another object's attribute)
is read once, when it is traced: keep such state in module attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

import numpy as np

from .. import _core
from .._random import next_seed
from .._validation import NamedInput
from ..autograd import ops_loss, ops_math, ops_nn, ops_shape
from ..autograd.grad_mode import TraceLog, _state
from ..autograd.graph import Node, _dependencies
from ..autograd.tensor import Tensor, _wrap
from .module import Module
from .parameter import Parameter

_F32 = np.dtype(np.float32)
_FUSABLE = (_core.Activation.relu, _core.Activation.leaky_relu)


class Untraceable(Exception):
    """The forward cannot be replayed from its graph; the message says why."""


class _Op:
    """One node of the traced graph: its kind, its buffers and the vjp node to replay."""

    __slots__ = ("kind", "node", "node_key", "out", "args", "fused")

    def __init__(self, kind: str, node: Node) -> None:
        self.kind = kind
        # a copy of the traced node (the eager backward frees the original): same vjp and
        # inputs, its saved values set to this step's buffers by each forward
        self.node = Node(node.vjp, node.inputs, node.saved)
        self.node_key = node  # the traced node: the key of this op in the graph
        self.out: np.ndarray | None = None
        self.args: tuple = ()
        # linear: the ReLU/LeakyReLU op computed in its GEMM write-back; that op: True
        self.fused: Any = None


def _kind(node: Node) -> str:
    vjp = node.vjp
    kinds = {
        ops_nn._linear_vjp: "linear", ops_nn._act_vjp: "act", ops_math._add_vjp: "add",
        ops_math._sub_vjp: "sub", ops_math._mul_vjp: "mul", ops_nn._dropout_vjp: "dropout",
        ops_shape._reshape_vjp: "reshape", ops_loss._ce_vjp: "cross_entropy",
        ops_loss._scalar_vjp: "kernel_loss",
    }
    kind = kinds.get(vjp)
    if kind is None:
        raise Untraceable(f"the op {node.name()} is not replayed by TrainStep")
    return kind


class TracedStep:
    """The replayable program of one training step (see the module docstring)."""

    def __init__(self, model: Module, loss_fn: Module, optimizer: Any) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.key: tuple | None = None
        self.output: np.ndarray | None = None

    # -- tracing -----------------------------------------------------------------
    def trace(self, x: np.ndarray, y: np.ndarray, key: tuple, named: NamedInput,
              untraceable: Any) -> tuple[float, str | None]:
        """Runs one eager step while recording it and builds the program from its graph
        (``named`` names the batches' argument in the model's shape errors).

        Returns the loss and ``None``, or the loss and why the forward cannot be
        replayed (the step itself has run either way). ``untraceable(reason)`` is called
        before the step's backward and update, so that a warning turned into an error
        leaves the model as it was.
        """
        self.key = None
        xt = _wrap(x.copy())
        xt.requires_grad_(True)
        self.optimizer.zero_grad()
        log = TraceLog()
        before = _forward_state(self.model)
        _state.trace = log
        try:
            out = named.call(self.model, xt)
            loss = self.loss_fn(out, _wrap(y))
        finally:
            _state.trace = None
        assigned = _changed_since(self.model, before)
        if not isinstance(out, Tensor):
            raise TypeError(f"TrainStep: the model's forward returned a {type(out).__name__} "
                            "for a Tensor input; a model trained by autograd computes with "
                            "Tensor ops (a Module with its own backward() for NumPy arrays "
                            "trains with the layer-by-layer loop)")
        if not isinstance(loss, Tensor) or loss.grad_fn is None or loss.ndim != 0:
            raise TypeError("TrainStep: the loss is not a 0-d Tensor on the graph (the "
                            "model's output does not depend on its parameters through "
                            "Tensor ops)")
        reason = None
        if log.escapes:
            reason = (f"the forward used {log.escapes[0]}, so its control flow or values may "
                      "depend on the data")
        else:
            try:
                self._build(xt, out, loss, log, assigned)
            except Untraceable as e:
                reason = str(e)
        if reason is not None:
            untraceable(reason)
        loss.backward()
        self.optimizer.step()
        # The parameters this program writes gradients for: the C++ plan's replays leave
        # the others' (zero) gradients and flags as the traced step did (_replay_plan)
        self._reached = [p for g in self.optimizer.param_groups for p in g["params"]
                         if getattr(p, "_unset", True) is False]
        self.output = out._data
        if reason is None:
            self.key = key
        return float(loss._data), reason

    def _build(self, xt: Tensor, out: Tensor, loss: Tensor, log: TraceLog,
               assigned: list[tuple[Module, str, Any]]) -> None:
        root = loss.grad_fn
        deps = _dependencies(root)
        order, outputs = [], {}
        ready = [root]
        while ready:  # the engine's order (graph.run_backward), without running vjps
            node = ready.pop()
            order.append(node)
            for t in node.inputs:
                if t is None or t.grad_fn is None:
                    continue
                p = t.grad_fn
                outputs.setdefault(p, t)
                deps[p] -= 1
                if deps[p] == 0:
                    ready.append(p)
        ops = {node: _Op(_kind(node), node) for node in order}
        if ops[root].kind not in ("cross_entropy", "kernel_loss") or root.inputs[0] is not out:
            raise Untraceable("the loss must be the loss module applied to the model's output")
        for node in order:
            if node is not root and ops[node].kind in ("cross_entropy", "kernel_loss"):
                raise Untraceable("a loss inside the model's forward is not replayed")
        self._xt = xt
        forward = list(reversed(order))
        for node in forward:
            self._plan_op(ops[node], outputs.get(node))
        for op in ops.values():  # the input needs no gradient (it required one only to trace)
            op.node.inputs = tuple(None if t is xt else t for t in op.node.inputs)
        self._order = order
        self._forward = forward
        self._ops = ops
        self._root = root
        self._xbuf = np.empty(xt.shape, _F32)
        seeds = {o.node.saved[1]: o for o in ops.values() if o.kind == "dropout"}
        if len(seeds) != len(log.dropouts):
            raise Untraceable("a dropout outside the graph's recorded ops")
        self._dropouts = [seeds[s] for s in log.dropouts]  # in the order the forward drew them
        self._stored = []  # (module, attribute, node): what the forward stores, per replay
        # a detached op output (self.features = h.detach()) shares the op's array
        by_data = {id(t._data): node for node, t in outputs.items()}
        for m, name, value in assigned:
            node = None
            if isinstance(value, Tensor) and name in m.__dict__:
                node = value.grad_fn or by_data.get(id(value._data))
            if node is None or node not in ops or node is root:
                what = (f"changes {type(m).__name__}.{name} in place" if value is _IN_PLACE
                        else f"assigns {type(m).__name__}.{name} (of type "
                        f"{type(value).__name__}, not a value on the graph)")
                raise Untraceable(f"the forward {what}, which a replay would not repeat")
            self._stored.append((m, name, node))
        # the one-call plan keeps no op's output, and a fused Linear not its own
        self._plan = None if self._stored else self._chain_plan(forward, ops, root)
        if self._plan is None:
            self._fuse(order, ops, {node for _, _, node in self._stored})

    @staticmethod
    def _fuse(order: list[Node], ops: dict, kept: set[Node]) -> None:
        """Fuses ReLU (and LeakyReLU with a positive slope) into the write-back of the
        Linear before it when nothing else reads the pre-activation. Its backward then
        reads the activation's output instead of its input: the same mask (y > 0 exactly
        where x > 0), so the results stay bit-identical."""
        consumers: dict[Node, int] = {}
        for node in order:
            for t in node.inputs:
                if t is not None and t.grad_fn is not None:
                    consumers[t.grad_fn] = consumers.get(t.grad_fn, 0) + 1
        for node in order:
            op = ops[node]
            if op.kind != "act" or op.args[0][0] != "op":
                continue
            act, param = op.args[1], op.args[2]
            producer = ops.get(op.args[0][1])
            if (producer is None or producer.kind != "linear"
                    or consumers[producer.node_key] != 1 or producer.node_key in kept
                    or act not in _FUSABLE or (act == _core.Activation.leaky_relu
                                               and not param > 0)):
                continue
            producer.fused = op
            producer.out = None  # the pre-activation is never stored
            op.fused = True

    def _chain_plan(self, forward: list[Node], ops: dict, root: Node) -> Any:
        """The one-call C++ plan (the Sequential TrainStep's) when the graph is a chain it
        runs: Linear, activation and dropout ops, each reading the one before, and adds of
        the one before and an earlier op or the input (residual connections, at most one
        per source), with a loss and an optimizer it knows. ``None`` otherwise (the Python
        replay runs it)."""
        loss_kind = _PLAN_LOSSES.get(type(self.loss_fn).__name__)
        opt = type(self.optimizer)
        from ..optim import Optimizer
        if loss_kind is None or opt._kind is None or opt.step is not Optimizer.step \
                or getattr(self.loss_fn, "weight", None) is not None:
            return None
        specs, prev = [], ("input",)
        index: dict[Any, int] = {("input",): -1}  # source -> its layer in the plan
        skipped: set[int] = set()
        for node in forward[:-1]:
            op = ops[node]
            if op.kind == "add" and prev in op.args and all(
                    t is not None and t.shape == op.out.shape for t in op.node_key.inputs):
                skip = op.args[1] if op.args[0] == prev else op.args[0]
                src = index.get(skip)
                if src is None or src in skipped or src >= len(specs) - 1:
                    return None
                if src >= 0:
                    skipped.add(src)
            elif op.kind not in ("linear", "act", "dropout") or op.args[0] != prev:
                return None
            width = op.out.shape[1] if op.out.ndim == 2 else -1
            if width < 0:
                return None
            if op.kind == "add":
                specs.append((_core.LayerKind.add, width, width, False,
                              _core.Activation.identity, 0.0, None, src))
            elif op.kind == "linear":
                _, weight, bias = op.args
                layer = _LinearRef(weight, bias)
                specs.append((_core.LayerKind.linear, layer.in_features, width,
                              bias is not None, _core.Activation.identity, 0.0, layer))
            elif op.kind == "act":
                specs.append((_core.LayerKind.activation, width, width, False, op.args[1],
                              float(op.args[2]), None))
            else:
                specs.append((_core.LayerKind.dropout, width, width, False,
                              _core.Activation.identity, 0.0, None))
            prev = ("op", node)
            index[prev] = len(specs) - 1
        if ops[root].args[0] != prev or not any(sp[6] is not None for sp in specs):
            return None
        self._plan_dropout_ps = [op.args[1] for op in self._dropouts]
        return _core.TrainPlan(specs, loss_kind, opt._kind)

    def _source(self, t: Tensor | None, what: str) -> Any:
        """Where a traced input's values come from at replay: the input, a leaf or an op."""
        if t is None:
            raise Untraceable(f"{what} reads an array constant (it may come from the data "
                              "outside the graph)")
        if t.grad_fn is not None:
            return ("op", t.grad_fn)
        if t is self._xt:
            return ("input",)
        return ("leaf", t)

    def _plan_op(self, op: _Op, out_t: Tensor | None) -> None:
        node = op.node
        kind = op.kind
        ins = node.inputs
        shape = out_t.shape if out_t is not None else ()
        if kind == "linear":
            x2, wd, lead, weight, bias = node.saved
            if len(lead) != 1:
                raise Untraceable("Linear on an input that is not 2-D")
            if ins[1] is None or (bias is not None and ins[2] is None):
                raise Untraceable("a Linear whose weight or bias does not require grad")
            op.args = (self._source(ins[0], "Linear"), weight, bias)
            op.out = np.empty(shape, _F32)
        elif kind == "act":
            act, param = node.saved[0], node.saved[1]
            op.args = (self._source(ins[0], "an activation"), act, param)
            op.out = np.empty(shape, _F32)
        elif kind in ("add", "sub"):
            op.args = (self._source(ins[0], "an addition"), self._source(ins[1], "an addition"))
            op.out = np.empty(shape, _F32)
        elif kind == "mul":
            a, b = ins
            ad, bd = node.saved
            if a is not None and b is not None:
                op.args = (self._source(a, "a product"), self._source(b, "a product"))
            else:
                const = bd if a is not None else ad
                # a Python number's array is read-only (ops_math._scalar32); a writeable 0-d
                # one is a Tensor's or an array's, which may change or come from the data
                if not isinstance(const, np.ndarray) or const.ndim != 0 or const.flags.writeable:
                    raise Untraceable("a product with an array constant, or a 0-d Tensor off "
                                      "the graph (it may come from the data, or change)")
                op.args = (self._source(a if a is not None else b, "a product"), const,
                           a is not None)
            op.out = np.empty(shape, _F32)
        elif kind == "dropout":
            op.args = (self._source(ins[0], "a dropout"), node.saved[0])
            op.out = np.empty(shape, _F32)
        elif kind == "reshape":
            op.args = (self._source(ins[0], "a reshape"), shape)
        else:  # the loss (root)
            op.args = (self._source(ins[0], "the loss"),)
            op.out = np.empty(ins[0].shape, _F32)  # its gradient
        if out_t is not None and out_t.dtype != _F32:
            raise Untraceable(f"a {out_t.dtype} value (the replay runs float32)")

    # -- replay ----------------------------------------------------------------------
    def _value(self, src: Any, x: np.ndarray) -> np.ndarray:
        tag = src[0]
        if tag == "op":
            return self._ops[src[1]].out
        if tag == "input":
            return x
        return src[1]._data

    def replay(self, x: np.ndarray, y: np.ndarray) -> float:
        """One step of the traced program on new data of the traced shapes."""
        if self._plan is not None:
            return self._replay_plan(x, y)
        self.optimizer.zero_grad()
        np.copyto(self._xbuf, x)
        xb = self._xbuf
        for op in self._dropouts:
            op.args = (op.args[0], op.args[1], next_seed())
        value = 0.0
        for node in self._forward:
            op = self._ops[node]
            value = self._run_forward(op, xb, y)
        self.output = self._value(self._ops[self._root].args[0], xb)
        for m, name, node in self._stored:  # what the forward stored, as it would have
            stored = _wrap(self._ops[node].out.copy())
            if name in m._buffers:  # (no version bump: it would retrace)
                m._buffers[name] = stored
            object.__setattr__(m, name, stored)
        self._backward()
        self.optimizer.step()
        return float(np.float32(value))  # the eager loss is a float32 Tensor

    def _replay_plan(self, x: np.ndarray, y: np.ndarray) -> float:
        opt = self.optimizer
        loss = self.loss_fn
        drops = [(p, next_seed()) for p in self._plan_dropout_ps]
        value = self._plan.step(x, y, drops, getattr(_core.Reduction, loss.reduction),
                                float(getattr(loss, "label_smoothing", 0.0)),
                                lambda: opt._written_group_tensors(self._reached))
        self.output = None
        return float(np.float32(value))  # the eager loss is a float32 Tensor

    def last_output(self) -> np.ndarray | None:
        """The model output of the last step (a copy when the C++ plan ran it)."""
        if self.output is None and getattr(self, "_plan", None) is not None:
            return self._plan.output()
        return self.output

    def _run_forward(self, op: _Op, xb: np.ndarray, y: np.ndarray) -> float:
        kind, args, node = op.kind, op.args, op.node
        if kind == "linear":
            src, weight, bias = args
            x2 = self._value(src, xb)
            b = None if bias is None else bias._data
            act_op = op.fused
            if act_op is None:
                _core.linear_forward(op.out, x2, weight._data, b)
            else:
                y, act, param = act_op.out, act_op.args[1], act_op.args[2]
                _core.linear_forward(y, x2, weight._data, b, act, param)
                act_op.node.saved = (act, param, y, y)
            node.saved = (x2, weight._data, node.saved[2], weight, bias)
        elif kind == "act":
            if op.fused:
                return 0.0
            src, act, param = args
            xv = self._value(src, xb)
            _core.activation_forward(act, param, op.out.reshape(-1), xv.reshape(-1))
            node.saved = (act, param, xv, op.out)
        elif kind == "add":
            a, b = self._value(args[0], xb), self._value(args[1], xb)
            np.add(a, b, out=op.out)
        elif kind == "sub":
            a, b = self._value(args[0], xb), self._value(args[1], xb)
            np.subtract(a, b, out=op.out)
        elif kind == "mul":
            if len(args) == 2:
                a, b = self._value(args[0], xb), self._value(args[1], xb)
                np.multiply(a, b, out=op.out)
                node.saved = (a, b)
            else:
                v = self._value(args[0], xb)
                const, left = args[1], args[2]
                if left:
                    np.multiply(v, const, out=op.out)
                    node.saved = (v, const)
                else:
                    np.multiply(const, v, out=op.out)
                    node.saved = (const, v)
        elif kind == "dropout":
            src, p, seed = args
            xv = self._value(src, xb)
            _core.dropout_forward(op.out.reshape(-1), xv.reshape(-1), p, seed)
            node.saved = (p, seed)
        elif kind == "reshape":
            op.out = self._value(args[0], xb).reshape(args[1])
        elif kind == "cross_entropy":
            logits = self._value(args[0], xb)
            loss = self.loss_fn
            value = _core.cross_entropy_forward_backward(
                op.out, logits, y, float(loss.label_smoothing),
                getattr(_core.Reduction, loss.reduction))
            node.saved = (op.out,)
            return value
        else:  # kernel_loss: MSE, BCE, BCE with logits
            pred = self._value(args[0], xb)
            fwd, bwd = _KERNEL_LOSSES[type(self.loss_fn).__name__]
            r = getattr(_core.Reduction, self.loss_fn.reduction)
            t = np.ascontiguousarray(y, dtype=_F32)
            value = fwd(pred.reshape(-1), t.reshape(-1), r)
            bwd(op.out.reshape(-1), pred.reshape(-1), t.reshape(-1), r)
            node.saved = (op.out,)
            return value
        return 0.0

    def _backward(self) -> None:
        """The engine's loop (graph.run_backward) over the traced nodes, in its order."""
        grads: dict[Node, np.ndarray] = {self._root: np.ones((), _F32)}
        for node in self._order:
            g = grads.pop(node, None)
            if g is None:
                continue
            replay = self._ops[node].node
            for t, gi in zip(replay.inputs, replay.vjp(replay, g)):
                if t is None or gi is None:
                    continue
                producer = t.grad_fn
                if producer is None:
                    t._accumulate(gi)
                else:
                    pg = grads.get(producer)
                    grads[producer] = gi if pg is None else pg + gi


class _LinearRef:
    """What the C++ plan reads of a Linear: its weight and bias Parameters and their sizes."""

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        self.weight, self.bias = weight, bias
        self.out_features, self.in_features = weight.shape


_PLAN_LOSSES = {
    "CrossEntropyLoss": _core.LossKind.cross_entropy,
    "MSELoss": _core.LossKind.mse,
    "BCEWithLogitsLoss": _core.LossKind.bce_with_logits,
}

_KERNEL_LOSSES = {
    "MSELoss": (_core.mse_forward, _core.mse_backward),
    "BCELoss": (_core.bce_forward, _core.bce_backward),
    "BCEWithLogitsLoss": (_core.bce_with_logits_forward, _core.bce_with_logits_backward),
}


# What Module.__init__ sets: the registries and flags, not state a forward keeps
_MODULE_INTERNALS = frozenset(Module().__dict__)
_IN_PLACE = object()  # what _changed_since reports for a value changed in place
_DEPTH, _ITEMS = 4, 10_000  # how far _fingerprint looks into containers


def _fingerprint(value: Any, depth: int = 0) -> Any:
    """What identifies a value's state beyond its identity: an array's or a Tensor's
    contents (``self.calls += 1`` on an array), a container's items, nested up to
    :data:`_DEPTH` levels (an append, ``stats["n"] += 1``, a deque). A Parameter changes
    only in the optimizer's update, after the forward: its identity suffices."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return value.copy()
        return tuple(map(id, value.ravel()[:_ITEMS])) if value.dtype.kind == "O" else None
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, Mapping, Set)):
        return None
    if depth >= _DEPTH or len(value) > _ITEMS:
        return (id(value), len(value))
    items = value.items() if isinstance(value, Mapping) else enumerate(value)
    return tuple((k, id(v), _fingerprint(v, depth + 1)) for k, v in items)


def _same(a: Any, b: Any) -> bool:
    """Whether two fingerprints are equal (arrays by value, NaN equal to NaN); one that
    cannot be compared counts as changed."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or \
                a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def _forward_state(model: Module) -> dict[tuple[int, str], tuple[Any, Any]]:
    """What a forward may change besides its graph, by module identity and name: each
    module's public attributes and buffers (a buffer is an attribute too), and the private
    attributes of classes outside fastnn (fastnn's layers keep only their cached inputs
    there), as ``(value, fingerprint)`` (:func:`_fingerprint`)."""
    state: dict[tuple[int, str], tuple[Any, Any]] = {}
    for m in model.modules():
        own = not type(m).__module__.startswith("fastnn.")
        for k, v in m.__dict__.items():
            if k not in _MODULE_INTERNALS and (own or k[:1] != "_" or k in m._buffers):
                state[(id(m), k)] = (v, _fingerprint(v))
    return state


def _changed_since(model: Module, before: dict[tuple[int, str], tuple[Any, Any]]
                   ) -> list[tuple[Module, str, Any]]:
    """``(module, name, value)`` of each attribute or buffer assigned a new object since
    ``before`` (:func:`_forward_state`); ``value`` is ``_IN_PLACE`` for one whose
    contents or items changed in place."""
    modules = {id(m): m for m in model.modules()}
    changed = []
    for key, (value, mark) in _forward_state(model).items():
        old = before.get(key)
        if old is None or old[0] is not value:
            changed.append((modules[key[0]], key[1], value))
        elif not _same(old[1], mark):
            changed.append((modules[key[0]], key[1], _IN_PLACE))
    return changed


def eager_step(model: Module, loss_fn: Module, optimizer: Any, x: np.ndarray,
               y: np.ndarray, named: NamedInput) -> tuple[float, np.ndarray]:
    """The eager autograd step (zero_grad, forward, loss, backward, step): loss and output;
    ``named`` names the argument ``x`` came from in the model's shape errors."""
    optimizer.zero_grad()
    out = named.call(model, _wrap(x))
    loss = loss_fn(out, _wrap(y))
    loss.backward()
    optimizer.step()
    return float(loss._data), out._data
