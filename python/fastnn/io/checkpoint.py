"""``save`` / ``load``: a model (and optionally its optimizer) in one ``.safetensors`` file.

File layout (a standard safetensors file, readable by any safetensors reader):

* tensors: the model's ``state_dict`` under PyTorch's key names (``"0.weight"``,
  ...), float32; with an optimizer, its state buffers as
  ``"optimizer.state.<index>.<name>"`` (``<index>`` numbers the parameters in
  param-group order, as in ``Optimizer.state_dict()``);
* string metadata: key ``"fastnn"`` holds JSON ``{"format_version": 1,
  "fastnn_version": ..., "architecture": spec or null, "model_class": str,
  "optimizer": null or {"class": ..., "param_groups": [...], "state": {index:
  {name: scalar}}}, "metadata": {...}, "eval_modules": [name, ...],
  "frozen_parameters": [name, ...], "architecture_error": null or str}``
  (``eval_modules``: the ``named_modules()`` names of the modules saved in eval mode,
  ``""`` for the model itself; ``frozen_parameters``: the ``named_parameters()`` names
  of those saved with ``requires_grad=False``; ``architecture_error``: why a model has
  no spec, which :func:`load` repeats; each absent in older files); the spec is described in
  ``fastnn._architecture``. ``"model_class"`` (the saved model's
  ``module.QualifiedName``) is informative: :func:`load` names it when it cannot
  rebuild the model, and never imports it (files written before it existed lack it).
  A file holding a plain object instead of a model (``save(model.state_dict(), path)``)
  adds an ``"object"`` field: its JSON tree, described in ``fastnn.io.objects``.

Models that are not a ``Sequential`` of built-in layers, e.g. a ``Module``
subclass written with autograd (``forward`` only), have no spec: their file
holds the weights and the class name, and :func:`load` needs the model built by
the caller (``load(path, model=MyModel(...))``). fastnn does not rebuild such a
class from its name, by design: loading a file never imports or runs code named
in it, and a class rebuilt from default constructor arguments could hold
weights of matching shapes yet compute something else than the saved model.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import __version__
from .._architecture import UndescribableError, check_spec, from_spec, parameter_shapes, to_spec
from .._validation import shape_str
from ..autograd.device import device
from ..autograd.tensor import Tensor
from ..nn import Module, Parameter
from ..optim import Optimizer
from . import objects, safetensors_format
from .atomic import PathLike, atomic_write, check_path

FORMAT_VERSION = 1
"""Layout version written to files; :func:`load` reads versions up to this one."""

_KEY = "fastnn"  # the safetensors metadata key holding fastnn's JSON
_OPT_PREFIX = "optimizer.state."


class FileFormatError(ValueError):
    """A file :func:`load` cannot use: corrupt, truncated, foreign, or not matching the model.

    Attributes:
        path (str): the file.
    """

    def __init__(self, func: str, path: str, problem: str) -> None:
        super().__init__(f"{func}: '{path}' {problem}")
        self.path = path


# -- save ---------------------------------------------------------------------------------
def save(model: Module | Mapping[Any, Any] | list[Any] | tuple[Any, ...] | Tensor | np.ndarray,
         path: PathLike, *,
         optimizer: Optimizer | None = None, metadata: dict[str, Any] | None = None) -> None:
    """Saves ``model`` (and ``optimizer``) to one ``.safetensors`` file, atomically.

    ``model`` may also be a plain object, as PyTorch scripts save with ``torch.save``:
    a state dict (``save(model.state_dict(), path)``), a checkpoint dict such as
    ``{"epoch": 5, "model": model.state_dict(), "optimizer": opt.state_dict()}`` (dicts,
    lists and tuples of arrays, Tensors, numbers, strings and None; nothing is pickled),
    or one Tensor or array. :func:`load` then returns the object, arrays as arrays and
    Tensors as Tensors (a ``Parameter`` as a ``Parameter``, ``requires_grad`` kept).

    The file holds the weights, the architecture (for :func:`load` to rebuild
    the model) and, when given, the optimizer's state, so training can resume
    exactly. A model that is not a ``Sequential`` of built-in layers (e.g. a
    ``Module`` subclass written with autograd) is saved with ``architecture``
    null and its class name: load it with ``load(path, model=MyModel(...))``, or
    ``model.load_state_dict(fastnn.io.load_state_dict(path))``.

    The write is atomic: a temporary file in the same directory is written,
    ``fsync``-ed and renamed over ``path``, so ``path`` holds either the old
    file or the complete new one, even if the process is killed mid-save.

    Args:
        model (Module, or dict / list / tuple): the model, or a plain object.
        path (str or os.PathLike): the file, conventionally ``*.safetensors``.
        optimizer (Optimizer, optional): an optimizer over ``model``'s parameters
            whose state (hyper-parameters, step counts, moment buffers) is saved
            too. Default: ``None``.
        metadata (dict, optional): JSON-serialisable data kept in the file, e.g.
            ``{"epoch": 12}``; read it back with :func:`load_metadata` (JSON
            rules apply: tuples come back as lists). Default: ``None`` (empty).

    Raises:
        TypeError: a bad argument type, or ``metadata`` is not JSON-serialisable.
        ValueError: ``optimizer`` holds parameters that are not ``model``'s.
        OSError: the file cannot be written (e.g. ``PermissionError``), or ``path``
            is a directory, device, FIFO or socket; a previous file at ``path`` is
            left untouched.

    Example::

        >>> fn.save(model, "model.safetensors", optimizer=opt, metadata={"epoch": 12})
        >>> model2 = fn.load("model.safetensors")
        >>> fn.save(model.state_dict(), "weights.safetensors")      # PyTorch's idiom
        >>> model.load_state_dict(fn.load("weights.safetensors"))
    """
    func = "save()"
    if isinstance(model, (Mapping, list, tuple, Tensor, np.ndarray)):
        if optimizer is not None:
            raise TypeError(f"{func}: optimizer= goes with a Module; put the optimizer's "
                            "state_dict() into the object you save instead")
        path = check_path(path, func)
        user = _check_metadata(metadata, func)
        tree, tensors = objects.flatten(model, func)
        info = {"format_version": FORMAT_VERSION, "fastnn_version": __version__,
                "architecture": None, "optimizer": None, "metadata": user, "object": tree}
        header = json.dumps(info, default=_json_default)
        atomic_write(path, safetensors_format.dumps(tensors, {_KEY: header}), func)
        return
    if not isinstance(model, Module):
        raise TypeError(f"{func}: argument 'model' must be a fastnn.nn.Module, a Tensor, an "
                        "array, or a dict, list or tuple (e.g. a state_dict), got "
                        f"{type(model).__name__}")
    path = check_path(path, func)
    user = _check_metadata(metadata, func)
    spec: dict[str, Any] | None = None
    why_not = None  # why the model has no spec: load() repeats it
    try:
        spec = to_spec(model)
    except UndescribableError as e:
        why_not = e.reason
        if type(model).__module__.startswith("fastnn."):
            # a built-in container the user may expect fn.load(path) to rebuild
            warnings.warn(f"{func}: the file will hold the weights but no architecture, "
                          f"since {why_not}; fastnn.load(path) will need the model: "
                          "load(path, model=...)", stacklevel=2)
    tensors: dict[str, np.ndarray] = dict(model.state_dict())
    clash = [k for k in tensors if k.startswith(_OPT_PREFIX)]
    if clash:
        raise ValueError(f"{func}: parameter names {clash} clash with the optimizer state "
                         f"prefix '{_OPT_PREFIX}'")
    opt_info = None
    if optimizer is not None:
        opt_info, opt_tensors = _pack_optimizer(optimizer, model, func)
        tensors.update(opt_tensors)
    info = {"format_version": FORMAT_VERSION, "fastnn_version": __version__,
            "architecture": spec, "model_class": class_path(model), "optimizer": opt_info,
            "metadata": user, "architecture_error": why_not,
            "eval_modules": [name for name, m in model.named_modules() if not m.training],
            "frozen_parameters": [name for name, p in model.named_parameters()
                                  if not p.requires_grad]}
    header = json.dumps(info, default=_json_default)
    atomic_write(path, safetensors_format.dumps(tensors, {_KEY: header}), func)


def class_path(model: Module) -> str:
    """``"module.QualifiedName"`` of ``model``'s class, e.g. ``"mypkg.models.ResidualMLP"``."""
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):  # NumPy scalars, e.g. a metric from a History
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _check_metadata(metadata: Any, func: str) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise TypeError(f"{func}: argument 'metadata' must be a dict with str keys, "
                        f"got {type(metadata).__name__}")
    try:
        return json.loads(json.dumps(metadata, default=_json_default))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{func}: argument 'metadata' must be JSON-serialisable: {e}") from None


def _check_owner(optimizer: Any, model: Module, func: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{func}: argument 'optimizer' must be a fastnn.optim.Optimizer, "
                        f"got {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    if not all(id(p) in own for g in optimizer.param_groups for p in g["params"]):
        raise ValueError(f"{func}: the optimizer holds parameters that are not the model's: "
                         "build the model, then the optimizer on model.parameters()")


def _pack_optimizer(optimizer: Optimizer, model: Module,
                    func: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Splits ``optimizer.state_dict()`` into JSON (groups, scalars) and tensors."""
    _check_owner(optimizer, model, func)
    sd = optimizer.state_dict()
    tensors: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, state in sd["state"].items():
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                tensors[f"{_OPT_PREFIX}{index}.{name}"] = np.ascontiguousarray(value)
            else:
                scalars.setdefault(str(index), {})[name] = value
    return ({"class": type(optimizer).__name__, "param_groups": sd["param_groups"],
             "state": scalars}, tensors)


# -- load ---------------------------------------------------------------------------------
def load(path: PathLike, model: Module | None = None, *,
         optimizer: Optimizer | None = None, weights_only: bool | None = None,
         map_location: Any = None) -> Any:
    """Loads a model saved by :func:`save`, or weights into a model you build.

    A file holding a plain object (``save(model.state_dict(), path)``, a checkpoint
    dict) gives that object back, as ``torch.load`` does:
    ``model.load_state_dict(fn.load(path))``.

    Without ``model``, the model is rebuilt from the architecture in the file,
    each module in the mode it was saved in (training or eval, as ``torch.load``
    restores a whole model; files from fastnn versions that did not record it load
    in training mode), and predicts bit-identically to the saved one. Rebuilding
    does not consume the global random state.

    With ``model``, the file's tensors are copied into ``model``'s parameters
    (keys and shapes must match exactly) and ``model`` is returned; the file's
    architecture, if any, is not compared. This loads files saved from models
    that have no architecture spec, and files written by other tools, e.g. a
    PyTorch ``nn.Sequential`` of ``Linear`` and activation layers saved with
    ``safetensors.torch.save_file(torch_model.state_dict(), path)``: build the
    same layers in fastnn and pass the model. Float16/float64 tensors are
    converted to float32.

    Loading is all-or-nothing: on any error neither ``model`` nor ``optimizer``
    is changed.

    Args:
        path (str or os.PathLike): a ``.safetensors`` file.
        model (Module, optional): the model to load the weights into. Default:
            ``None`` (rebuild it from the file).
        optimizer (Optimizer, optional): an optimizer built on ``model``'s
            parameters (so ``model`` must be given) the same way as the saved
            one; its hyper-parameters and state are replaced by the saved ones.
            Default: ``None``.
        weights_only (bool, optional): accepted for ``torch.load`` compatibility;
            loading never unpickles or runs code, whatever its value.
        map_location (optional): accepted for ``torch.load`` compatibility (every
            tensor is loaded to the CPU); a device other than the CPU is an error.

    Returns:
        Module: the model; or the object saved, for a file holding one.

    Raises:
        FileNotFoundError: no file at ``path``.
        FileFormatError: (a ``ValueError``) the file is empty, truncated, corrupt,
            not a safetensors file, was written by a newer fastnn, has an invalid
            architecture, has no architecture and no ``model`` was given, its
            tensors do not match the model's parameters (missing or unexpected
            keys, shapes, non-float dtypes), or holds no or another optimizer's
            state.
        TypeError: a bad argument type.

    Example::

        >>> model = fn.load("model.safetensors")
        >>> opt = fn.optim.Adam(model.parameters())
        >>> fn.load("model.safetensors", model, optimizer=opt)   # resume training
    """
    func = "load()"
    path = check_path(path, func)
    if isinstance(map_location, (str, device)):
        device(map_location)  # RuntimeError for any device but the CPU
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"{func}: argument 'model' must be a fastnn.nn.Module or None, "
                        f"got {type(model).__name__}")
    if optimizer is not None:
        if model is None:
            raise ValueError(f"{func}: optimizer= needs model=: build the model (e.g. "
                             "model = load(path)), the optimizer on model.parameters(), "
                             "then call load(path, model, optimizer=optimizer)")
        _check_owner(optimizer, model, func)
    meta, tensors = _read(path, func, with_tensors=True)
    info = _parse_info(meta, path, func)
    if info is not None and "object" in info:
        if model is not None:
            raise FileFormatError(func, path, "holds a saved object (e.g. a state_dict), not a "
                                  "model: model.load_state_dict(fastnn.load(path))")
        try:
            return objects.rebuild(info["object"], tensors)
        except (objects.ObjectError, RecursionError) as e:
            raise FileFormatError(func, path, f"has an invalid saved object: {e}") from None
    weights = {k: v for k, v in tensors.items() if not k.startswith(_OPT_PREFIX)}
    if model is None:
        if info is None or info["architecture"] is None:
            raise FileFormatError(func, path, _no_architecture(info))
        tree = check_spec(info["architecture"])  # validated by _parse_info already
        _check_tensors(parameter_shapes(tree), weights, path, func)
        try:
            model = from_spec(info["architecture"])
        except (TypeError, ValueError) as e:  # a field a layer's constructor refuses
            raise FileFormatError(func, path, f"has an invalid architecture: {e}") from None
        _restore_modes(model, info.get("eval_modules", []), path, func)
        _restore_frozen(model, info.get("frozen_parameters", []), path, func)
    state = dict(model._named_state())  # parameters and persistent buffers
    buffers = {k for k, v in state.items() if not isinstance(v, Parameter)}
    _check_tensors({k: tuple(v.shape) for k, v in state.items()}, weights, path, func, buffers)
    if optimizer is not None:
        _load_optimizer(optimizer, info, tensors, path, func)
    model.load_state_dict(weights)  # every key, shape and dtype checked above
    return model


def _no_architecture(info: dict[str, Any] | None) -> str:
    """Why ``load(path)`` cannot rebuild the model, and what to do instead."""
    cls = None if info is None else info.get("model_class")
    why_not = None if info is None else info.get("architecture_error")
    if cls is None:
        what = ("holds no architecture (it was not saved by fastnn.save from a Sequential "
                "of built-in layers)")
    elif isinstance(why_not, str) and cls.startswith("fastnn."):
        what = (f"holds no architecture: fastnn.save could not describe the {cls} it was "
                f"given ({why_not})")
    else:
        what = (f"holds no architecture: the model saved was a {cls}, which fastnn.load "
                "does not rebuild (only a Sequential of built-in layers is described in "
                "the file; loading never imports or runs code named in a file)")
    name = "MyModel" if cls is None else cls.rsplit(".", 1)[-1]
    return (f"{what}: build the model yourself and call load(path, model={name}(...)), or "
            "model.load_state_dict(fastnn.io.load_state_dict(path))")


def load_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """Reads the weights of a file written by :func:`save` (or any safetensors file).

    Returns the model's ``state_dict`` as saved (PyTorch's key names, float32
    arrays; the optimizer's state is left out), for
    ``model.load_state_dict(fastnn.io.load_state_dict(path))`` on a model you
    build, e.g. a ``Module`` subclass, which :func:`load` cannot rebuild.

    Args:
        path (str or os.PathLike): a ``.safetensors`` file.

    Returns:
        dict[str, np.ndarray]: parameter name to values.

    Raises:
        FileNotFoundError: no file at ``path``.
        FileFormatError: the file is not a valid safetensors file, or holds
            non-float tensors.

    Example::

        >>> model = ResidualMLP()
        >>> model.load_state_dict(fn.io.load_state_dict("model.safetensors"))
    """
    func = "load_state_dict()"
    path = check_path(path, func)
    meta, tensors = _read(path, func, with_tensors=True)
    _parse_info(meta, path, func)  # a fastnn file from a newer format is refused
    weights = {}
    for key, arr in tensors.items():
        if key.startswith(_OPT_PREFIX):
            continue
        if arr.dtype.kind != "f":
            raise FileFormatError(func, path, f"has tensor '{key}' of dtype {arr.dtype}; "
                                  "expected a float dtype (float32)")
        weights[key] = arr.astype(np.float32, copy=False)
    return weights


def load_metadata(path: PathLike) -> dict[str, Any]:
    """Reads what :func:`save` stored besides the tensors, without loading them.

    Args:
        path (str or os.PathLike): a file written by :func:`save`.

    Returns:
        dict: ``{"format_version": int, "fastnn_version": str, "architecture":
        spec or None, "model_class": str, "optimizer": None or {"class": str,
        "param_groups": [...], "state": {...}}, "metadata": dict, "eval_modules":
        [str], "frozen_parameters": [str], "architecture_error": None or str}``, where
        ``"metadata"`` is the ``metadata`` given to :func:`save` (``{}`` if none),
        ``"model_class"`` the saved model's class, ``"eval_modules"`` the names of its
        modules that were in eval mode, ``"frozen_parameters"`` those of its parameters
        that did not require grad, and ``"architecture_error"`` why a model has no
        architecture (each absent in files written by fastnn before it was added).

    Raises:
        FileNotFoundError: no file at ``path``.
        FileFormatError: the file is not a valid file written by :func:`save`.

    Example::

        >>> fn.io.load_metadata("model.safetensors")["metadata"]
        {'epoch': 12}
    """
    func = "load_metadata()"
    path = check_path(path, func)
    meta, _ = _read(path, func, with_tensors=False)
    info = _parse_info(meta, path, func)
    if info is None:
        raise FileFormatError(func, path, "was not written by fastnn.save (its safetensors "
                              f"metadata has no '{_KEY}' entry)")
    return info


def _read(path: str, func: str,
          with_tensors: bool) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The safetensors metadata and (optionally) tensors of ``path``; errors name the file."""
    _check_header(path, func)
    try:
        return safetensors_format.read_file(path, with_tensors)
    except safetensors_format.UnsupportedDtypeError as e:
        raise FileFormatError(func, path, f"has {e}") from None
    except safetensors_format.SafetensorsError as e:
        raise FileFormatError(func, path, f"is not a valid safetensors file: {e}") from None
    except (TypeError, ValueError, OverflowError) as e:  # a case the reader missed: still
        raise FileFormatError(func, path, "is not a valid safetensors file: "  # named
                              f"{type(e).__name__}: {e}") from None


def _check_header(path: str, func: str) -> None:
    """Checks the 8-byte header length against the file size before safetensors reads it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as e:
        raise FileNotFoundError(e.errno, f"{func}: no such file: '{path}'") from None
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # open() on a FIFO would wait
        raise FileFormatError(func, path, "is not a regular file (a FIFO, socket or device); "
                              "fastnn.save writes regular files")
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(9)
    except FileNotFoundError as e:
        raise FileNotFoundError(e.errno, f"{func}: no such file: '{path}'") from None
    except IsADirectoryError as e:
        raise IsADirectoryError(e.errno, f"{func}: '{path}' is a directory, not a file "
                                "written by fastnn.save") from None
    if size < 10:
        raise FileFormatError(func, path, f"is too short to be a safetensors file ({size} "
                              "bytes): empty or truncated")
    length = int.from_bytes(head[:8], "little")
    if length > safetensors_format.HEADER_LIMIT or 8 + length > size:
        raise FileFormatError(func, path, f"is not a safetensors file (its first 8 bytes give "
                              f"a header of {length} bytes in a file of {size} bytes): "
                              "truncated, corrupt or another format")
    if head[8:9] != b"{":
        raise FileFormatError(func, path, f"is not a safetensors file (its {length}-byte "
                              f"header starts with {head[8:9]!r}, not the '{{' of a JSON "
                              "object): corrupt or another format")


def _parse_info(meta: dict[str, str], path: str, func: str) -> dict[str, Any] | None:
    """fastnn's JSON from the safetensors metadata, validated; ``None`` for a foreign file."""
    if _KEY not in meta:
        return None
    try:
        info = json.loads(meta[_KEY])
    except (ValueError, RecursionError) as e:
        raise FileFormatError(func, path, f"has invalid fastnn metadata JSON: {e}") from None
    fields = {"format_version", "fastnn_version", "architecture", "optimizer", "metadata"}
    if not isinstance(info, dict) or not fields <= info.keys():
        raise FileFormatError(func, path, "has fastnn metadata without the fields "
                              f"{sorted(fields)}")
    version = info["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FileFormatError(func, path, f"has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise FileFormatError(func, path, f"was written by fastnn {info['fastnn_version']} in "
                              f"format {version}; this fastnn ({__version__}) reads format "
                              f"{FORMAT_VERSION} or older: upgrade fastnn")
    if info["architecture"] is not None:
        try:
            check_spec(info["architecture"])
        except (ValueError, RecursionError) as e:
            raise FileFormatError(func, path, f"has an invalid architecture: {e}") from None
    if not isinstance(info.get("model_class", ""), str):
        raise FileFormatError(func, path, "has a model_class that is not a string")
    if not isinstance(info["metadata"], dict):
        raise FileFormatError(func, path, "has user metadata that is not a dict")
    for field in ("eval_modules", "frozen_parameters"):
        names = info.get(field, [])
        if not (isinstance(names, list) and all(isinstance(m, str) for m in names)):
            raise FileFormatError(func, path, f"has {field} that is not a list of names")
    opt = info["optimizer"]
    if opt is not None and not (isinstance(opt, dict) and isinstance(opt.get("class"), str)
                                and isinstance(opt.get("param_groups"), list)
                                and isinstance(opt.get("state"), dict)):
        raise FileFormatError(func, path, "has invalid optimizer metadata")
    return info


def _some(keys: list[str], shown: int = 20) -> str:
    """``keys`` as a list, cut after ``shown`` ("... and N more"): a hostile file may hold
    a million names."""
    if len(keys) <= shown:
        return str(keys)
    return f"{str(keys[:shown])[:-1]}, ... and {len(keys) - shown:,} more]"


def _restore_modes(model: Module, eval_modules: list[str], path: str, func: str) -> None:
    """Puts the modules named in ``eval_modules`` (``named_modules`` names, ``""`` the model
    itself) in eval mode, the others in training mode: each module's saved flag."""
    modules = dict(model.named_modules())
    unknown = [name for name in eval_modules if name not in modules]
    if unknown:
        raise FileFormatError(func, path, f"has eval_modules {unknown} that its architecture "
                              "does not have")
    model.train()
    for name in eval_modules:
        object.__setattr__(modules[name], "training", False)


def _restore_frozen(model: Module, frozen: list[str], path: str, func: str) -> None:
    """Sets ``requires_grad=False`` on the parameters named in ``frozen`` (``torch.load``
    of a whole model keeps the flag too; ``load(path, model=...)`` leaves the given
    model's flags, as ``load_state_dict`` does)."""
    params = dict(model.named_parameters())
    unknown = [name for name in frozen if name not in params]
    if unknown:
        raise FileFormatError(func, path, f"has frozen_parameters {_some(unknown)} that its "
                              "architecture does not have")
    for name in frozen:
        params[name].requires_grad_(False)


def _check_tensors(expected: dict[str, tuple[int, ...]], tensors: dict[str, np.ndarray],
                   path: str, func: str, buffers: set[str] = frozenset()) -> None:
    """Keys and shapes as ``expected``; float dtypes, except for ``buffers`` (any numeric
    or bool dtype, as a mask or a counter may be)."""
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        raise FileFormatError(func, path, f"does not match the model: missing keys "
                              f"{_some(missing)}, unexpected keys {_some(unexpected)}")
    for key, shape in expected.items():
        arr = tensors[key]
        if arr.dtype.kind not in ("fiub" if key in buffers else "f"):
            raise FileFormatError(func, path, f"has tensor '{key}' of dtype {arr.dtype}; "
                                  "expected a float dtype (float32)")
        if arr.shape != tuple(shape):
            raise FileFormatError(func, path, f"has tensor '{key}' of shape "
                                  f"{shape_str(arr.shape)}; the model expects "
                                  f"{shape_str(tuple(shape))}")


def _load_optimizer(optimizer: Optimizer, info: dict[str, Any] | None,
                    tensors: dict[str, np.ndarray], path: str, func: str) -> None:
    opt = None if info is None else info["optimizer"]
    if opt is None:
        raise FileFormatError(func, path, "holds no optimizer state (it was saved without "
                              "optimizer=)")
    if opt["class"] != type(optimizer).__name__:
        raise FileFormatError(func, path, f"holds {opt['class']} state, the optimizer is "
                              f"{type(optimizer).__name__}")
    try:
        state: dict[int, dict[str, Any]] = {int(i): dict(s) for i, s in opt["state"].items()}
        for key, value in tensors.items():
            if key.startswith(_OPT_PREFIX):
                index, name = key[len(_OPT_PREFIX):].split(".", 1)
                state.setdefault(int(index), {})[name] = value
        optimizer.load_state_dict({"state": state, "param_groups": opt["param_groups"]})
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise FileFormatError(func, path, f"has optimizer state that does not fit the "
                              f"optimizer: {e}") from None
