"""Architecture specs: a JSON-able description of a model built from fastnn's layers.

A spec is a dict with a ``"type"`` and the constructor arguments of that layer;
a ``Sequential`` lists its children under ``"layers"``::

    {"type": "Sequential", "layers": [
        {"type": "Linear", "in_features": 64, "out_features": 10, "bias": true},
        {"type": "ReLU"},
        {"type": "Sequential", "layers": [{"type": "Dropout", "p": 0.5}]}]}

A ``Sequential`` whose children are not named ``"0"``, ``"1"``, ... (built from an
``OrderedDict``) also lists their names, in order, under ``"names"``.

Describable: ``Sequential`` (nested too), ``Linear`` (alias ``Dense``),
``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``GELU``, ``Softmax``, ``LogSoftmax``,
``SiLU``, ``ELU``, ``Softplus``,
``Identity``, ``Dropout`` and ``Flatten``, each of exactly that class (a subclass may
override ``forward``, so it is not). ``fastnn.io`` stores specs in saved files
and ``fastnn.onnx`` builds graphs from them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import _random
from .nn import (
    ELU,
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .nn.container import valid_child_name

_MAX_DEPTH = 64  # nesting limit for Sequential, so a hostile spec cannot exhaust the stack
# Modules in a whole spec (layers and Sequentials, the model included): far beyond any
# model, and a hostile spec of a few million repeated layers is refused before anything
# is built (that took gigabytes and minutes). to_spec refuses bigger models alike, so
# save never writes a spec that load refuses.
_MAX_MODULES = 100_000

# type name -> (class, {field: kind}); kind is "int" (>= 0), "sint" (any int), "bool",
# "float" or "str". Fields are the constructor's keyword arguments, read from attributes.
_LEAVES: dict[str, tuple[type[Module], dict[str, str]]] = {
    "Linear": (Linear, {"in_features": "int", "out_features": "int", "bias": "bool"}),
    "ReLU": (ReLU, {}),
    "LeakyReLU": (LeakyReLU, {"negative_slope": "float"}),
    "Sigmoid": (Sigmoid, {}),
    "Tanh": (Tanh, {}),
    "GELU": (GELU, {"approximate": "str"}),
    "Softmax": (Softmax, {"dim": "sint"}),
    "LogSoftmax": (LogSoftmax, {"dim": "sint"}),
    "SiLU": (SiLU, {}),
    "ELU": (ELU, {"alpha": "float"}),
    "Softplus": (Softplus, {"beta": "float", "threshold": "float"}),
    "Identity": (Identity, {}),
    "Dropout": (Dropout, {"p": "float"}),
    "Flatten": (Flatten, {"start_dim": "sint", "end_dim": "sint"}),
}
_NAMES = ", ".join(["Sequential", *_LEAVES])


class Layer(NamedTuple):
    """One validated spec node: ``type``, constructor ``args`` and ``children`` (Sequential)."""

    type: str
    args: dict[str, Any]
    children: tuple[Layer, ...]


# -- model -> spec ------------------------------------------------------------------------
def to_spec(model: Module) -> dict[str, Any]:
    """Describes ``model`` as a JSON-able spec.

    Args:
        model (Module): a ``Sequential`` or a built-in layer (see the module docstring).

    Returns:
        dict: the spec; :func:`from_spec` rebuilds an equivalent module from it.

    Raises:
        TypeError: ``model`` is not a Module.
        UndescribableError: a ``TypeError``: ``model`` (or a layer inside it) is not a
            fastnn module this format can describe, e.g. a custom ``Module`` subclass.
    """
    if not isinstance(model, Module):
        raise TypeError(f"to_spec(): argument 'model' must be a fastnn.nn.Module, "
                        f"got {type(model).__name__}")
    everywhere = [m for _, m in model.named_modules(remove_duplicate=False)]
    if len(everywhere) > _MAX_MODULES:
        raise UndescribableError(f"the model has {len(everywhere):,} modules, more than the "
                                 f"{_MAX_MODULES:,} a spec may list")
    if len({id(m) for m in everywhere}) != len(everywhere):
        # a spec lists layers by position: rebuilding would untie a shared module
        raise UndescribableError("a module appears at two positions (shared weights), which "
                                 "a layer list cannot describe")
    return _describe(model, "model")


def _describe(module: Module, where: str) -> dict[str, Any]:
    cls = type(module)
    params = [n for n, p in module._parameters.items() if p is not None]  # None: empty slot
    if any(b is not None for b in module._buffers.values()):
        raise _undescribable(module, where, "it has buffers (register_buffer)")
    if cls is Sequential:
        if params:
            raise _undescribable(module, where, "it has parameters of its own")
        names = list(module._modules)
        spec = {"type": "Sequential",
                "layers": [_describe(m, f"{where}[{i}]") for i, m in enumerate(module)]}
        if names != _numbered(len(names)):
            spec["names"] = names
        return spec
    name = next((n for n, (c, _) in _LEAVES.items() if c is cls), None)
    if name is None:
        raise _undescribable(module, where, f"only {_NAMES} are")
    expected = ["weight", "bias"] if name == "Linear" and module.bias is not None else (
        ["weight"] if name == "Linear" else [])
    if any(c is not None for c in module._modules.values()) or params != expected:
        raise _undescribable(module, where, "it has extra parameters or children")
    spec: dict[str, Any] = {"type": name}
    for field in _LEAVES[name][1]:
        spec[field] = module.bias is not None if field == "bias" else getattr(module, field)
    return spec


class UndescribableError(TypeError):
    """A model :func:`to_spec` cannot describe; ``reason`` says which layer and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"{reason}. Save its weights with fastnn.save(model, path) and load them into a "
            "model you build with fastnn.load(path, model=MyModel()), or use "
            "model.state_dict()")
        self.reason = reason


def _undescribable(module: Module, where: str, why: str) -> UndescribableError:
    return UndescribableError(
        f"cannot describe {type(module).__name__} at {where} as an architecture spec ({why})")


# -- spec -> model ------------------------------------------------------------------------
def check_spec(spec: Any) -> Layer:
    """Validates ``spec`` and returns it as a tree of :class:`Layer`.

    Raises:
        ValueError: not a dict, an unknown ``"type"``, a missing or unknown field,
            a field of the wrong type, nesting deeper than 64 or more than 100,000
            modules; the message names the place, e.g. ``spec.layers[2].p``.
    """
    return _check(spec, "spec", 0, [0])


def _check(spec: Any, where: str, depth: int, count: list[int]) -> Layer:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{where}: Sequential nested deeper than {_MAX_DEPTH} levels")
    count[0] += 1
    if count[0] > _MAX_MODULES:
        raise ValueError(f"{where}: more than {_MAX_MODULES:,} modules in the spec")
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a dict with a 'type', got {type(spec).__name__}")
    kind = spec.get("type")
    if kind == "Sequential":
        _check_fields(spec, {"layers"} | ({"names"} & spec.keys()), where)
        layers = spec["layers"]
        if not isinstance(layers, list):
            raise ValueError(f"{where}.layers: expected a list, got {type(layers).__name__}")
        if count[0] + len(layers) > _MAX_MODULES:  # before walking a huge list
            raise ValueError(f"{where}.layers: more than {_MAX_MODULES:,} modules in the spec")
        children = tuple(_check(s, f"{where}.layers[{i}]", depth + 1, count)
                         for i, s in enumerate(layers))
        if "names" not in spec:
            return Layer("Sequential", {}, children)
        names = spec["names"]
        if (not isinstance(names, list) or len(names) != len(layers)
                or not all(valid_child_name(n) for n in names) or len(set(names)) != len(names)):
            raise ValueError(f"{where}.names: expected {len(layers)} distinct non-empty "
                             f"strings without '.' that are not Sequential attributes, got "
                             f"{names!r}")
        return Layer("Sequential", {"names": tuple(names)}, children)
    if not isinstance(kind, str) or kind not in _LEAVES:
        raise ValueError(f"{where}: unknown layer type {kind!r}; known types: {_NAMES}")
    fields = _LEAVES[kind][1]
    _check_fields(spec, set(fields), where)
    args = {f: _check_value(spec[f], k, f"{where}.{f}") for f, k in fields.items()}
    return Layer(kind, args, ())


def _check_fields(spec: dict[str, Any], fields: set[str], where: str) -> None:
    missing = sorted(fields - spec.keys())
    unknown = sorted(spec.keys() - fields - {"type"})
    if missing or unknown:
        raise ValueError(f"{where} ({spec['type']}): missing fields {missing}, "
                         f"unknown fields {unknown}")


def _check_value(value: Any, kind: str, where: str) -> Any:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "sint": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }[kind]
    if not ok:
        expected = {"int": "an int >= 0", "sint": "an int", "bool": "a bool",
                    "float": "a number", "str": "a string"}[kind]
        raise ValueError(f"{where}: expected {expected}, got {value!r}")
    return float(value) if kind == "float" else value


def from_spec(spec: Any) -> Module:
    """Builds the module a spec describes (the inverse of :func:`to_spec`).

    Parameters get fresh values, but the global random state that
    :func:`fastnn.manual_seed` seeds is left as it was, so loading a model does
    not change later dropout masks or shuffles.

    Args:
        spec (dict): a spec, e.g. from :func:`to_spec`.

    Returns:
        Module: the model, in training mode.

    Raises:
        ValueError: the spec is invalid (see :func:`check_spec`) or a value is out
            of range (e.g. ``Dropout`` ``p`` of 1).
    """
    tree = check_spec(spec)
    generator = _random.default_generator().bit_generator
    saved = generator.state
    try:
        return _build(tree, "spec")
    finally:
        generator.state = saved


def _build(layer: Layer, where: str) -> Module:
    if layer.type == "Sequential":
        children = [_build(c, f"{where}.layers[{i}]") for i, c in enumerate(layer.children)]
        return Sequential(dict(zip(child_names(layer), children)))
    try:
        return _LEAVES[layer.type][0](**layer.args)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where} ({layer.type}): {e}") from None


def _numbered(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def child_names(tree: Layer) -> list[str]:
    """The names of a ``Sequential`` layer's children: ``"0"``, ``"1"``, ... unless named."""
    return list(tree.args.get("names", ())) or _numbered(len(tree.children))


def parameter_shapes(tree: Layer, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """The ``state_dict`` keys and shapes of the model ``tree`` describes, without building it."""
    if tree.type == "Sequential":
        shapes: dict[str, tuple[int, ...]] = {}
        for name, child in zip(child_names(tree), tree.children):
            shapes.update(parameter_shapes(child, f"{prefix}{name}."))
        return shapes
    if tree.type != "Linear":
        return {}
    out, inp = tree.args["out_features"], tree.args["in_features"]
    shapes = {f"{prefix}weight": (out, inp)}
    if tree.args["bias"]:
        shapes[f"{prefix}bias"] = (out,)
    return shapes
