"""fastnn.onnx: export a model to an ONNX inference graph (needs ``pip install 'fastnn[onnx]'``).

The graph is built from the model's architecture spec (``fastnn._architecture``):

=============================  ==============================================
fastnn layer                   ONNX nodes
=============================  ==============================================
Linear                         Gemm(input, weight, bias, transB=1): x W^T + b
ReLU / Sigmoid / Tanh          Relu / Sigmoid / Tanh
LeakyReLU(negative_slope)      LeakyRelu(alpha=negative_slope)
ELU(alpha) / SiLU              Elu(alpha) / Mul(x, Sigmoid(x))
Softplus (beta 1)              Softplus (needs threshold >= 17)
GELU (opset >= 20)             Gelu(approximate)
GELU (opset < 20)              0.5 x (1 + erf(x / sqrt 2)), or with "tanh":
                               0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
Softmax(dim)                   Softmax(axis=dim)
LogSoftmax(dim)                LogSoftmax(axis=dim)
Identity, Dropout              Identity (the graph is for inference)
Flatten(start_dim, end_dim)    Identity: the input is (batch, features), which
                               Flatten(1, -1) (the default) leaves as it is
=============================  ==============================================

A ``Module`` subclass written with autograd (``forward`` only) has no spec: its
forward is run in eval mode and the graph autograd records is translated
(``fastnn._onnx_trace``: Linear, matmul, the activations, softmax, arithmetic,
reshapes, cat; a scalar constant such as ``x * 2.0 + 1.0`` becomes an initializer). A
forward whose graph cannot show what it computes (control flow on values, a constant
concatenated or an array constant of more than one dimension, an op outside that table,
a graph that changes with the batch size, which the trace finds by running at three)
raises ``TypeError`` saying why; load the weights into the same model in PyTorch (the
``state_dict`` keys match) and use ``torch.onnx.export`` for those.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import __version__
from ._architecture import Layer, check_spec, child_names, to_spec
from ._onnx_trace import default_input_dim, trace_forward
from ._optional import require
from ._validation import check_int
from .io.atomic import PathLike, atomic_write, check_path
from .nn import Module

_MIN_OPSET = 13  # Softmax normalises over one axis from opset 13 on, as fastnn does

_ELEMENTWISE = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh",
                "Identity": "Identity", "Dropout": "Identity"}


def _onnx(func: str) -> Any:
    return require("onnx", f"fastnn.onnx.{func}", "onnx")


def export(model: Module, path: PathLike, *, input_dim: int | None = None,
           opset: int = 17) -> None:
    r"""Writes ``model`` as an ONNX inference graph (atomically, like :func:`fastnn.save`).

    The graph takes ``"input"`` of shape ``(batch, input_dim)`` (float32, the
    batch dimension symbolic) and returns ``"output"`` of shape ``(batch,
    features)``. Weights are float32 initializers named after the
    ``state_dict`` keys (``"0.weight"``, ...). Dropout is exported as Identity:
    the graph computes what :func:`fastnn.predict` computes. The model is
    checked with ``onnx.checker`` before it is written.

    Args:
        model (Module): a ``Sequential`` (nested too) of Linear, ReLU, LeakyReLU,
            Sigmoid, Tanh, GELU, SiLU, ELU, Softplus (beta 1), Softmax, LogSoftmax,
            Identity, Dropout and Flatten, or one such layer, or a ``Module`` subclass
            whose forward uses the ops of ``fastnn._onnx_trace`` (traced in eval mode,
            at three batch sizes).
        path (str or os.PathLike): the file, conventionally ``*.onnx``.
        input_dim (int, optional): the number of input features. Default:
            ``None``, the ``in_features`` of the first Linear (of a Module subclass:
            the first it registers; required when the model has no Linear).
        opset (int): the ONNX opset version, from 13 to the newest the installed
            ``onnx`` knows. Default: ``17``.

    Raises:
        TypeError: ``model`` holds a layer that cannot be exported, a Module
            subclass's forward uses what its graph cannot show (the module
            docstring), or a bad argument type.
        ValueError: ``input_dim`` is missing or does not match the first Linear,
            consecutive Linear sizes do not fit, a Softmax ``dim`` is not 0, 1, -1
            or -2, a Flatten would merge the batch dimension into the features, or
            ``opset`` is out of range.
        ImportError: the ``onnx`` package is missing.

    Example::

        >>> fastnn.onnx.export(model, "model.onnx")
        >>> import onnxruntime as ort
        >>> sess = ort.InferenceSession("model.onnx")
        >>> y = sess.run(None, {"input": X.astype(np.float32)})[0]
    """
    func = "export()"
    if not isinstance(model, Module):
        raise TypeError(f"{func}: argument 'model' must be a fastnn.nn.Module, "
                        f"got {type(model).__name__}")
    path = check_path(path, func)
    opset = check_int(opset, func, "opset")
    if input_dim is not None:
        input_dim = check_int(input_dim, func, "input_dim", low=1)
    onnx = _onnx(func)
    if not _MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"{func}: argument 'opset' must be in [{_MIN_OPSET}, "
                         f"{onnx.defs.onnx_opset_version()}], got {opset}")
    try:
        spec = to_spec(model)
    except TypeError:
        spec = None
    if spec is None:  # a Module subclass (or a Sequential holding one): trace its forward
        guessed = input_dim is None
        if guessed:
            input_dim = default_input_dim(model)
            if input_dim is None:
                raise ValueError(f"{func}: the model has no Linear layer, so pass input_dim")
        graph = _Graph(onnx, opset, model.state_dict())
        try:
            x, width = trace_forward(graph, model, input_dim, func)
        except (ValueError, RuntimeError) as e:
            if not guessed:
                raise
            raise ValueError(f"{func}: {type(model).__name__}.forward failed on an input of "
                             f"{input_dim} features (the first Linear's in_features): pass "
                             f"input_dim ({e})") from e
        atomic_write(path, graph.finish(x, input_dim, width).SerializeToString(), func)
        return
    tree = check_spec(spec)
    leaves = list(_leaves(tree, ""))
    first = next((layer for _, layer in leaves if layer.type == "Linear"), None)
    if input_dim is None:
        if first is None:
            raise ValueError(f"{func}: the model has no Linear layer, so pass input_dim")
        input_dim = first.args["in_features"]
    elif first is not None and first.args["in_features"] != input_dim:
        raise ValueError(f"{func}: argument 'input_dim' is {input_dim} but the first Linear "
                         f"has in_features={first.args['in_features']}")
    graph = _Graph(onnx, opset, model.state_dict())
    x, width = "input", input_dim
    for prefix, layer in leaves:
        x, width = graph.layer(prefix, layer, x, width, func)
    proto = graph.finish(x, input_dim, width)
    atomic_write(path, proto.SerializeToString(), func)


def _leaves(tree: Layer, prefix: str) -> Iterator[tuple[str, Layer]]:
    """Yields ``(state_dict key prefix, layer)`` for every non-Sequential layer, in order."""
    if tree.type != "Sequential":
        yield prefix, tree
        return
    for name, child in zip(child_names(tree), tree.children):
        yield from _leaves(child, f"{prefix}{name}.")


class _Graph:
    """Collects nodes and initializers; each layer maps a value name to a new one."""

    def __init__(self, onnx: Any, opset: int, weights: dict[str, np.ndarray]) -> None:
        self.onnx, self.opset, self.weights = onnx, opset, weights
        self.nodes: list[Any] = []
        self.inits: dict[str, Any] = {}

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        out = f"{name}/{op}_{len(self.nodes)}"
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def const(self, name: str, value: float) -> str:
        """A float32 scalar initializer, created once per graph."""
        if name not in self.inits:
            arr = np.array(value, np.float32)
            self.inits[name] = self.onnx.numpy_helper.from_array(arr, name)
        return name

    def array(self, name: str, value: np.ndarray) -> str:
        """An initializer holding ``value`` (float32 constants, int64 shapes)."""
        self.inits[name] = self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def reduce(self, op: str, x: str, name: str, axes: list[int], keepdims: bool) -> str:
        """ReduceSum / ReduceMean over ``axes``: an input from opset 13 (sum) or 18 (mean)
        on, an attribute before."""
        if op == "ReduceSum" or self.opset >= 18:
            axes_name = self.array(f"{name}/axes", np.array(axes, np.int64))
            return self.node(op, [x, axes_name], name, keepdims=int(keepdims))
        return self.node(op, [x], name, axes=axes, keepdims=int(keepdims))

    def activation(self, x: str, name: str, act: Any, param: float) -> str:
        """The nodes of a kernel activation (``fastnn._core.Activation``) on ``x``."""
        kind = act.name
        if kind == "relu":
            return self.node("Relu", [x], name)
        if kind == "leaky_relu":
            return self.node("LeakyRelu", [x], name, alpha=float(param))
        if kind in ("sigmoid", "tanh"):
            return self.node(kind.capitalize(), [x], name)
        if kind in ("gelu", "gelu_tanh"):
            return self.gelu(x, name, "tanh" if kind == "gelu_tanh" else "none")
        return self.node("Identity", [x], name)

    def weight(self, key: str) -> str:
        arr = np.ascontiguousarray(self.weights[key], np.float32)
        self.inits[key] = self.onnx.numpy_helper.from_array(arr, key)
        return key

    def layer(self, prefix: str, layer: Layer, x: str, width: int, func: str) -> tuple[str, int]:
        """Adds ``layer``'s nodes after value ``x`` of ``width`` features; returns the new pair."""
        name = prefix.rstrip(".") or layer.type
        args = layer.args
        if layer.type == "Linear":
            if args["in_features"] != width:
                raise ValueError(f"{func}: layer '{name}' (Linear) expects {args['in_features']} "
                                 f"features but receives {width}")
            inputs = [x, self.weight(f"{prefix}weight")]
            if args["bias"]:
                inputs.append(self.weight(f"{prefix}bias"))
            return self.node("Gemm", inputs, name, transB=1), args["out_features"]
        if layer.type in _ELEMENTWISE:
            return self.node(_ELEMENTWISE[layer.type], [x], name), width
        if layer.type == "LeakyReLU":
            return self.node("LeakyRelu", [x], name, alpha=args["negative_slope"]), width
        if layer.type == "ELU":
            return self.node("Elu", [x], name, alpha=args["alpha"]), width
        if layer.type == "SiLU":
            return self.node("Mul", [x, self.node("Sigmoid", [x], name)], name), width
        if layer.type == "Softplus":
            # ONNX's Softplus is log(1 + e^x): beta 1, and no threshold, which changes
            # nothing in float32 from x = 17 on (log1p(e^x) rounds to x there)
            if args["beta"] != 1.0 or args["threshold"] < 17.0:
                raise ValueError(f"{func}: layer '{name}' is Softplus(beta={args['beta']}, "
                                 f"threshold={args['threshold']}); ONNX's Softplus matches "
                                 "only beta 1 and a threshold of 17 or more")
            return self.node("Softplus", [x], name), width
        if layer.type in ("Softmax", "LogSoftmax"):
            if not -2 <= args["dim"] < 2:
                raise ValueError(f"{func}: layer '{name}' is {layer.type}(dim={args['dim']}), "
                                 "but the exported input is 2-D (batch, features)")
            return self.node(layer.type, [x], name, axis=args["dim"]), width
        if layer.type == "GELU":
            return self.gelu(x, name, args["approximate"]), width
        if layer.type == "Flatten":
            return self.flatten(x, name, args["start_dim"], args["end_dim"], func), width
        raise TypeError(f"{func}: cannot export layer '{name}' of type {layer.type}")

    def flatten(self, x: str, name: str, start_dim: int, end_dim: int, func: str) -> str:
        """Flatten on the 2-D (batch, features) input: the identity, unless it merges the batch
        into the features (or its dims do not exist in 2-D), which the graph cannot express."""
        dims = [d + 2 if d < 0 else d for d in (start_dim, end_dim)]
        if not all(0 <= d < 2 for d in dims) or dims[0] > dims[1] or dims == [0, 1]:
            raise ValueError(f"{func}: layer '{name}' is Flatten(start_dim={start_dim}, "
                             f"end_dim={end_dim}), but the exported input is 2-D (batch, "
                             "features) and must stay so")
        return self.node("Identity", [x], name)

    def gelu(self, x: str, name: str, approximate: str) -> str:
        if self.opset >= 20:
            return self.node("Gelu", [x], name, approximate=approximate)
        if approximate == "none":  # 0.5 x (1 + erf(x / sqrt(2)))
            scaled = self.node("Div", [x, self.const("gelu.sqrt2", math.sqrt(2.0))], name)
            inner = self.node("Erf", [scaled], name)
        else:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = self.node("Mul", [self.node("Mul", [x, x], name), x], name)
            cubic = self.node("Mul", [cube, self.const("gelu.coeff", 0.044715)], name)
            poly = self.node("Add", [x, cubic], name)
            k = self.const("gelu.sqrt_2_over_pi", math.sqrt(2.0 / math.pi))
            inner = self.node("Tanh", [self.node("Mul", [poly, k], name)], name)
        one_plus = self.node("Add", [inner, self.const("gelu.one", 1.0)], name)
        return self.node("Mul", [self.node("Mul", [x, one_plus], name),
                                 self.const("gelu.half", 0.5)], name)

    def finish(self, x: str, input_dim: int, width: int) -> Any:
        """The checked ModelProto whose output ``"output"`` is the value ``x``."""
        helper = self.onnx.helper
        if x == "input":  # no layer: the graph still needs a node
            x = self.node("Identity", [x], "output")
        self.nodes[-1].output[0] = "output"  # the last node's value is consumed by no node
        float32 = self.onnx.TensorProto.FLOAT
        graph = helper.make_graph(
            self.nodes, "fastnn",
            [helper.make_tensor_value_info("input", float32, ["batch", input_dim])],
            [helper.make_tensor_value_info("output", float32, ["batch", width])],
            initializer=list(self.inits.values()))
        opsets = [helper.make_opsetid("", self.opset)]
        proto = helper.make_model(graph, opset_imports=opsets, producer_name="fastnn",
                                  producer_version=__version__,
                                  ir_version=helper.find_min_ir_version_for(opsets))
        self.onnx.checker.check_model(proto, full_check=True)
        return proto
