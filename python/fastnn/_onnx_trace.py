"""ONNX nodes for a Module written with autograd: its forward, read off the recorded graph.

:func:`fastnn.onnx.export` describes built-in layers from their architecture spec; a
``Module`` subclass (PyTorch style, ``forward`` only) has none, so its forward is run
in eval mode on an input of shape ``(batch, input_dim)`` that requires grad (batch a
prime that is no size of the model: ``trace_batches``), and the graph autograd records is
translated node by node, inputs before users. It runs again at a second such batch size
and at 1 row, and the three graphs must be the same: a forward that computes with its
batch size as a Python number (``x.shape[0]``, ``len(x)``, ``x.size(0)``, a branch on
them) would otherwise export what that number gave as a constant, and the graph would be
wrong at other batch sizes (a use the three sizes do not tell apart, such as
``max(len(x), 16)``, still goes through).

==============================  ============================================
autograd node                   ONNX
==============================  ============================================
linear (nn.Linear, F.linear)    Gemm(x, weight, bias, transB=1), 2-D input
matmul of 2-D operands          MatMul
activations                     Relu, LeakyRelu, Sigmoid, Tanh, Gelu (or its
                                formula below opset 20), Mul(x, Sigmoid) for
                                SiLU, Elu, Softplus (beta 1)
softmax / log_softmax(dim)      Softmax / LogSoftmax(axis)
+ - * / **                      Add, Sub, Mul, Div, Pow (a constant operand
                                becomes an initializer)
neg, abs, exp, log, sqrt        Neg, Abs, Exp, Log, Sqrt
sum / mean over feature dims    ReduceSum / ReduceMean (keepdims)
reshape / view / flatten        Reshape to [0, ...] (the batch dimension kept)
cat(dim), permute / transpose   Concat(axis), Transpose(perm)
dropout (training=True)         Identity (the graph is for inference)
==============================  ============================================

Parameters and buffers become initializers named by their ``state_dict`` keys. What the graph
cannot show is refused with ``TypeError``: a value that left the graph for Python
(data-dependent control flow), a constant concatenated (the graph keeps no copy of
it) or an array constant of more than one dimension (it may come from the input), an
op outside the table, a reshape that changes the batch dimension, or a graph that
depends on the batch size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import ops_math, ops_nn, ops_reduce, ops_shape
from .autograd.grad_mode import TraceLog, _state, enable_grad
from .autograd.graph import Node
from .autograd.tensor import Tensor, _wrap
from .nn import Linear, Module

# The traced input's rows: a prime (so that a reshape mixing it in shows) that is no size
# of the input or of a parameter or buffer (so that a transposed batch shows too).
_PRIMES = (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
           97, 101, 103, 107, 109, 113, 127)


def trace_batches(model: Module, input_dim: int) -> tuple[int, int]:
    """The first two of :data:`_PRIMES` that are no dimension of the input or of
    ``model``'s parameters and buffers (products of the last ones past them, in the
    unlikely case all are)."""
    sizes = {input_dim}
    for _, a in (*model.named_parameters(), *model.named_buffers()):
        sizes.update(np.shape(a._data if isinstance(a, Tensor) else a))
    fallback = int(np.prod(_PRIMES[-2:]))
    free = [p for p in (*_PRIMES, fallback, fallback * _PRIMES[-3]) if p not in sizes]
    return free[0], free[1]

_UNARY = {ops_math._neg_vjp: "Neg", ops_math._abs_vjp: "Abs", ops_math._exp_vjp: "Exp",
          ops_math._log_vjp: "Log", ops_math._sqrt_vjp: "Sqrt"}
_BINARY = {ops_math._add_vjp: "Add", ops_math._sub_vjp: "Sub", ops_math._mul_vjp: "Mul",
           ops_math._div_vjp: "Div", ops_math._pow_vjp: "Pow", ops_nn._mm_vjp: "MatMul"}
_REDUCE = {ops_reduce._sum_vjp: "ReduceSum", ops_reduce._mean_vjp: "ReduceMean"}


def default_input_dim(model: Module) -> int | None:
    """``in_features`` of the first ``Linear`` the model registers, if any."""
    first = next((m for m in model.modules() if isinstance(m, Linear)), None)
    return None if first is None else first.in_features


def trace_forward(graph: Any, model: Module, input_dim: int, func: str) -> tuple[str, int]:
    """Adds the nodes of ``model``'s forward to ``graph`` (``fastnn.onnx._Graph``), after
    the value ``"input"`` of shape ``(batch, input_dim)``.

    Returns:
        tuple: the output value's name and its number of features.

    Raises:
        TypeError: the forward cannot be exported (module docstring).
    """
    batch, other = trace_batches(model, input_dim)
    result = _trace_at(graph, model, input_dim, batch, func)
    cls = type(model).__name__
    # the same graph at another prime and at 1 row (the serving batch; there a constant
    # of one element is no sign of the batch, so that check is off)
    for rows in (other, 1):
        check = type(graph)(graph.onnx, graph.opset, graph.weights)
        try:
            _trace_at(check, model, input_dim, rows, func, batch_constants=rows != 1)
        except Exception as e:
            raise TypeError(f"{func}: {cls}.forward runs on {batch} rows but not on {rows} "
                            f"({e}); the exported graph, whose batch dimension is symbolic, "
                            "must serve every batch size") from e
        if check.nodes != graph.nodes or check.inits != graph.inits:
            raise TypeError(f"{func}: {cls}.forward builds a different graph for {rows} rows "
                            f"than for {batch}: it computes with the batch size as a Python "
                            "number (x.shape[0], len(x), x.size(0)?), which the exported "
                            "graph, whose batch dimension is symbolic, cannot follow")
    return result


def _trace_at(graph: Any, model: Module, input_dim: int, batch: int, func: str,
              batch_constants: bool = True) -> tuple[str, int]:
    """:func:`trace_forward` on an input of ``batch`` rows (``batch_constants``: refuse a
    constant of ``batch`` elements as one that may span the batch)."""
    x = np.random.default_rng(0).standard_normal((batch, input_dim)).astype(np.float32)
    xt = _wrap(x)
    xt.requires_grad_(True)
    modes = [(m, m.training) for m in model.modules()]  # restored one by one afterwards
    model.eval()
    log = TraceLog()
    _state.trace = log
    cls = type(model).__name__
    try:
        with enable_grad():
            out = model(xt)
    except TypeError as e:  # e.g. a loss module inside, called without its target
        raise TypeError(f"{func}: {cls}.forward failed on an input of shape "
                        f"{(batch, input_dim)}: {e}") from e
    finally:
        _state.trace = None
        for m, mode in modes:
            object.__setattr__(m, "training", mode)  # as Module.train sets it
    if log.escapes:
        raise TypeError(f"{func}: {cls}.forward used {log.escapes[0]}, so what it computes "
                        "may depend on the data; ONNX export follows Tensor ops only")
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise TypeError(f"{func}: {cls}.forward does not return a Tensor computed from its "
                        "input by Tensor ops")
    if out.ndim != 2 or out.shape[0] != batch:
        raise TypeError(f"{func}: {cls}.forward returns shape {tuple(out.shape)} for an input "
                        f"of shape {(batch, input_dim)}; the export needs (batch, "
                        "features)")
    # parameters and buffers become initializers under their state_dict keys (a buffer
    # read as a Tensor, or as the array it holds)
    names = {id(p): k for k, p in model.named_parameters()}
    for k, b in model.named_buffers():
        names[id(b)] = k
        if isinstance(b, Tensor):
            names[id(b._data)] = k
    translator = _Translator(graph, xt, names, batch if batch_constants else None, func)
    translator.run(out)
    return translator.values[out.grad_fn], out.shape[1]


class _Translator:
    """Emits one node's ONNX nodes at a time; ``values`` maps graph nodes to value names."""

    def __init__(self, graph: Any, xt: Tensor, names: dict[int, str], batch: int | None,
                 func: str) -> None:
        self.graph, self.xt, self.names, self.batch, self.func = graph, xt, names, batch, func
        self.values: dict[Node, str] = {}
        self.shapes: dict[Node, tuple[int, ...]] = {}
        self.constants = 0

    def run(self, out: Tensor) -> None:
        order: list[Node] = []
        seen: set[int] = set()
        stack: list[tuple[Node, bool]] = [(out.grad_fn, False)]
        self.shapes[out.grad_fn] = tuple(out.shape)
        while stack:  # post-order: every node after the nodes it reads
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for t in node.inputs:
                if t is not None and t.grad_fn is not None:
                    self.shapes.setdefault(t.grad_fn, tuple(t.shape))
                    stack.append((t.grad_fn, False))
        for node in order:
            self.values[node] = self.emit(node)

    # -- operands ---------------------------------------------------------------------
    def value(self, t: Tensor | None, const: Any = None, what: str = "") -> str:
        """The name of an operand: the input, a parameter, an op's output or a constant."""
        if t is not None:
            if t.grad_fn is not None:
                return self.values[t.grad_fn]
            if t is self.xt:
                return "input"
            if id(t) in self.names:
                return self.graph.weight(self.names[id(t)])
            const = t._data
        if const is not None and id(const) in self.names:  # a buffer's array
            return self.graph.weight(self.names[id(const)])
        if const is None:
            raise TypeError(f"{self.func}: {what} reads a constant the autograd graph keeps no "
                            "copy of; make it a Parameter (or a buffer of the model) to export")
        shape = np.shape(const)
        if len(shape) > 1 or shape == (self.batch,):
            # it may be the traced input's rows (x.detach(), (x > 0).float(), a mask): not
            # a constant of the model
            raise TypeError(f"{self.func}: {what} reads a {shape} array that is not on the "
                            "graph (computed from the input outside it, or spanning the "
                            "batch); only scalars, feature vectors and Parameters are exported")
        self.constants += 1
        return self.graph.array(f"const_{self.constants}", np.asarray(const, np.float32))

    def emit(self, node: Node) -> str:
        g, vjp, ins, saved = self.graph, node.vjp, node.inputs, node.saved
        label = f"{node.name()}_{len(self.values)}"
        if vjp is ops_nn._linear_vjp:
            x2, wd, lead, weight, bias = saved
            if len(lead) != 1:
                raise TypeError(f"{self.func}: a linear on a {len(lead) + 1}-D input is not "
                                "exported (2-D only)")
            inputs = [self.value(ins[0], what="a linear"), self.value(weight, what="a linear")]
            if bias is not None:
                inputs.append(self.value(bias, what="a linear"))
            return g.node("Gemm", inputs, label, transB=1)
        if vjp in (ops_nn._act_vjp, ops_nn._numpy_act_vjp):
            return g.activation(self.value(ins[0], what="an activation"), label, saved[0],
                                saved[1])
        if vjp is ops_nn._np_activation_vjp:  # SiLU, ELU, Softplus (as the spec export)
            return self.numpy_activation(node, label)
        if vjp in (ops_nn._softmax_vjp, ops_nn._log_softmax_vjp):
            op = "Softmax" if vjp is ops_nn._softmax_vjp else "LogSoftmax"
            return g.node(op, [self.value(ins[0], what=op)], label, axis=int(saved[0]))
        if vjp in _UNARY:
            return g.node(_UNARY[vjp], [self.value(ins[0], what=_UNARY[vjp])], label)
        if vjp in _BINARY:
            op = _BINARY[vjp]
            consts = saved[:2] if saved else (None, None)
            return g.node(op, [self.value(ins[i], consts[i], f"an {op}") for i in (0, 1)], label)
        if vjp is ops_math._number_div_vjp:  # a constant over a value (1.0 / x)
            return g.node("Div", [self.value(None, node.saved[0], "a Div"),
                                  self.value(ins[1], what="a Div")], label)
        if vjp in _REDUCE:
            op, (shape, axes, keepdim) = _REDUCE[vjp], saved[:3]
            if axes is None or 0 in axes:
                raise TypeError(f"{self.func}: a {op} over the batch dimension (of a "
                                f"{tuple(shape)} value) is not exported; reduce feature "
                                "dimensions only")
            return g.reduce(op, self.value(ins[0], what=op), label, [int(a) for a in axes],
                            bool(keepdim))
        if vjp is ops_shape._reshape_vjp:
            before, after = saved[0], self.shapes[node]
            if not after or after[0] != before[0]:
                raise TypeError(f"{self.func}: a reshape from {tuple(before)} to {after} changes "
                                "the batch dimension, which the exported graph keeps symbolic")
            shape = g.array(f"shape_{len(self.values)}", np.array((0, *after[1:]), np.int64))
            return g.node("Reshape", [self.value(ins[0], what="a reshape"), shape], label)
        if vjp is ops_shape._cat_vjp:
            parts = [self.value(t, what="a cat") for t, n in zip(ins, saved[1])
                     if n is not None]  # None: an empty 1-D input the result left out
            return g.node("Concat", parts, label, axis=int(saved[0]))
        if vjp is ops_shape._permute_vjp:
            return g.node("Transpose", [self.value(ins[0], what="a permute")], label,
                          perm=[int(a) for a in saved[0]])
        if vjp in (ops_nn._dropout_vjp, ops_nn._mask_vjp):
            return g.node("Identity", [self.value(ins[0], what="a dropout")], label)
        raise TypeError(f"{self.func}: the op {node.name()} has no ONNX translation in fastnn "
                        "(supported: see fastnn._onnx_trace)")

    def numpy_activation(self, node: Node, label: str) -> str:
        g, (name, params, _) = self.graph, node.saved
        x = self.value(node.inputs[0], what=f"a {name}")
        if name == "silu":
            return g.node("Mul", [x, g.node("Sigmoid", [x], label)], label)
        if name == "elu":
            return g.node("Elu", [x], label, alpha=float(params[0]))
        beta, threshold = params
        if beta != 1.0 or threshold < 17.0:  # ONNX's Softplus: log(1 + e^x), no threshold
            raise TypeError(f"{self.func}: softplus(beta={beta}, threshold={threshold}) is not "
                            "exported; ONNX's Softplus matches only beta 1 and a threshold of "
                            "17 or more")
        return g.node("Softplus", [x], label)
