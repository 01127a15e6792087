"""Plain objects in a ``.safetensors`` file: what ``save(obj, path)`` stores when ``obj`` is
not a model, as PyTorch scripts write ``torch.save(model.state_dict(), path)`` or a
checkpoint dict ``{"epoch": 5, "model": model.state_dict(), "optimizer": opt.state_dict()}``.

The object is a tree of dicts (``str`` or ``int`` keys), lists and tuples whose leaves
are NumPy arrays, fastnn Tensors, ``None``, bools, ints, floats and strings (NumPy
scalars are stored as Python numbers). Its arrays become the file's tensors, each named
by its path of keys joined by ``/`` (a state dict saved on its own keeps its key names,
so the file is an ordinary safetensors state dict that other tools read); the rest is
the JSON tree under the ``"object"`` field of fastnn's metadata, in which a dict of
the form ``{"__tensor__": name, "kind": "ndarray" | "tensor" | "parameter"}`` stands for
an array (with ``"requires_grad": true`` for a Tensor or Parameter that requires grad, so
that both come back as they were saved, as in PyTorch),
``{"__dict__": [[key, value], ...]}`` for a dict and ``{"__tuple__": [...]}`` for a
tuple; JSON lists are lists. Nothing is pickled: loading never runs code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..autograd.creation import from_numpy
from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter

_TENSOR, _DICT, _TUPLE = "__tensor__", "__dict__", "__tuple__"
_MAX_DEPTH = 64
# array dtypes a safetensors file holds without extra packages (safetensors_format.DTYPES)
_KINDS = {"b", "i", "u", "f"}


class ObjectError(ValueError):
    """A stored object tree that cannot be rebuilt (raised as FileFormatError by load)."""


def flatten(obj: Any, func: str) -> tuple[Any, dict[str, np.ndarray]]:
    """The JSON tree of ``obj`` and its arrays by tensor name (module docstring).

    Raises:
        TypeError: a leaf of an unsupported type, a key that is not a ``str`` or ``int``,
            or an array of a dtype safetensors cannot hold; the message names its place.
        ValueError: nesting deeper than 64 levels.
    """
    tensors: dict[str, np.ndarray] = {}

    def tensor_name(path: list[Any]) -> str:
        base = "/".join(map(str, path)) or "tensor"
        name, n = base, 1
        # keys containing "/" could collide; safetensors reserves "__metadata__"
        while name in tensors or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def walk(x: Any, path: list[Any], depth: int) -> Any:
        where = "obj" + "".join(f"[{p!r}]" for p in path)
        if depth > _MAX_DEPTH:
            raise ValueError(f"{func}: {where} is nested deeper than {_MAX_DEPTH} levels")
        if isinstance(x, (Tensor, np.ndarray)):
            arr = x.detach().numpy() if isinstance(x, Tensor) else x
            if arr.dtype.kind not in _KINDS or arr.dtype.itemsize > 8:
                raise TypeError(f"{func}: {where} has dtype {arr.dtype}, which a safetensors "
                                "file cannot hold (bool, integer and float arrays only)")
            name = tensor_name(path)
            tensors[name] = arr if arr.flags.c_contiguous else np.array(arr, order="C")  # 0-d ok
            if not isinstance(x, Tensor):
                return {_TENSOR: name, "kind": "ndarray"}
            node = {_TENSOR: name, "kind": "parameter" if isinstance(x, Parameter) else "tensor"}
            if x.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(x, np.generic) and x.dtype.kind in _KINDS:
            return x.item()
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, Mapping):
            items = []
            for key, value in x.items():
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise TypeError(f"{func}: {where} has a key of type {type(key).__name__}; "
                                    "save() stores dicts with str or int keys")
                items.append([key, walk(value, [*path, key], depth + 1)])
            return {_DICT: items}
        if isinstance(x, (list, tuple)):
            values = [walk(v, [*path, i], depth + 1) for i, v in enumerate(x)]
            return values if isinstance(x, list) else {_TUPLE: values}
        raise TypeError(f"{func}: cannot save {type(x).__name__} at {where}: save() stores a "
                        "Module, or dicts, lists and tuples of arrays, Tensors, numbers, "
                        "strings and None")

    return walk(obj, [], 0), tensors


def rebuild(tree: Any, tensors: dict[str, np.ndarray]) -> Any:
    """The object :func:`flatten` described, with its arrays from ``tensors``.

    Raises:
        ObjectError: the tree is malformed or names a tensor the file does not hold.
    """
    used: set[str] = set()

    def tensor(node: dict) -> Any:
        name, kind = node[_TENSOR], node.get("kind")
        grad = node.get("requires_grad", False)
        if (not isinstance(name, str) or name not in tensors
                or kind not in ("tensor", "parameter", "ndarray")):
            raise ObjectError(f"object names a tensor {name!r} ({kind!r}) the file does not hold")
        if set(node) - {_TENSOR, "kind", "requires_grad"} or not isinstance(grad, bool):
            raise ObjectError(f"malformed tensor node {str(node)[:60]}")
        if name in used:
            raise ObjectError(f"object uses tensor {name!r} twice")
        used.add(name)
        arr = tensors[name]
        if kind == "ndarray":
            return arr
        if grad and arr.dtype.kind != "f":
            raise ObjectError(f"tensor {name!r} of dtype {arr.dtype} cannot require grad")
        if kind == "parameter":
            if arr.dtype != np.float32:
                raise ObjectError(f"parameter {name!r} has dtype {arr.dtype}, not float32")
            return Parameter(arr, requires_grad=grad)
        return from_numpy(arr).requires_grad_(grad)

    def build(node: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ObjectError(f"object nested deeper than {_MAX_DEPTH} levels")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [build(v, depth + 1) for v in node]
        if not isinstance(node, dict) or not 1 <= len(node) <= 3:
            raise ObjectError(f"malformed object node {str(node)[:60]}")
        if _TENSOR in node:
            return tensor(node)
        if _TUPLE in node and isinstance(node[_TUPLE], list) and len(node) == 1:
            return tuple(build(v, depth + 1) for v in node[_TUPLE])
        if _DICT in node and isinstance(node[_DICT], list) and len(node) == 1:
            out = {}
            for item in node[_DICT]:
                if (not isinstance(item, list) or len(item) != 2
                        or not isinstance(item[0], (str, int)) or isinstance(item[0], bool)):
                    raise ObjectError(f"malformed dict entry {str(item)[:60]}")
                out[item[0]] = build(item[1], depth + 1)
            return out
        raise ObjectError(f"malformed object node {str(node)[:60]}")

    return build(tree, 0)
