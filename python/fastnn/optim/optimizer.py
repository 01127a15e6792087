"""``Optimizer``: the base class of every optimizer (param groups, state, checkpoints).

Shaped like ``torch.optim.Optimizer``: ``param_groups`` is a list of dicts, each
holding ``"params"`` and every hyper-parameter (edit ``group["lr"]`` and the next
step uses it); ``state`` maps each parameter to its buffers, created lazily on the
first step under PyTorch's key names; ``state_dict()`` / ``load_state_dict()`` use
PyTorch's layout. Built-in subclasses update a whole parameter group with one
fused kernel call (``_core.optimizer_step``); the state buffers a group creates
together are views into one flat buffer per state name, so parameters that are
themselves views into one flat buffer (:meth:`fastnn.nn.Module.flatten_parameters`)
update as a single span.
"""

from __future__ import annotations

import copy
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Union

import numpy as np

from .. import _core
from .._validation import check_number, shape_str
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter

ParamsT = Union[Iterable[Parameter], Iterable[dict[str, Any]]]


# the on/off options of the optimizers (bools; the update kernels read them as such)
_FLAGS = ("nesterov", "maximize", "amsgrad", "centered", "decoupled_weight_decay")


def check_implementation_flags(func: str, foreach: Any, capturable: Any, differentiable: Any,
                               fused: Any) -> None:
    """PyTorch's switches between its implementations of one update rule, accepted so that
    its calls run unchanged: fastnn has one, a fused C++ step on the CPU (``fused=True``
    and ``foreach=True`` describe it well enough). ``capturable=True`` (CUDA graphs) and
    ``differentiable=True`` (autograd through the update) are not supported."""
    for name, value in (("foreach", foreach), ("capturable", capturable),
                        ("differentiable", differentiable), ("fused", fused)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{func}: argument '{name}' must be a bool or None, got "
                            f"{type(value).__name__}")
    if capturable:
        raise ValueError(f"{func}: capturable=True is for CUDA graphs; fastnn runs on the CPU")
    if differentiable:
        raise ValueError(f"{func}: differentiable=True (autograd through the update) is not "
                         "supported: fastnn's step runs outside the graph")


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): :class:`fastnn.nn.Parameter` objects, or dicts defining
            parameter groups (``{"params": [...], "lr": ...}``; options a group does
            not set take the optimizer's defaults).
        defaults (dict): default hyper-parameters of every group.

    Attributes:
        param_groups (list[dict]): the groups; each holds ``"params"`` (a list of
            parameters) and every hyper-parameter.
        state (dict): per-parameter state (``{parameter: {name: value}}``), created
            on the first :meth:`step`.
        defaults (dict): the default hyper-parameters.

    Subclasses implement :meth:`_check_group` (raise on a bad hyper-parameter) and
    either :meth:`_update` (one step of one parameter) or, as the built-in
    optimizers do, ``_kind`` (a ``_core.OptimKind``) and :meth:`_group_tensors`
    (the arguments of one fused ``_core.optimizer_step`` call per group).
    """

    _kind: Any = None  # a _core.OptimKind: step() makes one fused call per group

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_all(self.defaults)
        self._checked: list[tuple[dict[str, Any], tuple[Any, ...]]] = []  # see _recheck
        self.state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, (set, frozenset)):  # as add_param_group, and PyTorch
            raise TypeError(
                f"{name}(): parameters must be in an ordered collection (a list), not a set, "
                "so that their order is the same in every run"
            )
        if isinstance(params, (Tensor, np.ndarray, dict)):
            raise TypeError(
                f"{name}(): argument 'params' must be an iterable of Parameters or of dicts, "
                f"got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}(): got an empty parameter list")
        if not isinstance(groups[0], dict):  # Parameters, or (name, Parameter) pairs
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # what every started parameter state holds (load_state_dict checks for them), and which
    # of its entries are numbers rather than arrays of the parameter's shape
    _state_keys: tuple[str, ...] = ()
    _scalar_state: tuple[str, ...] = ("step",)

    # -- hooks for subclasses -------------------------------------------------
    def _check_group(self, group: dict[str, Any]) -> None:
        """Raises ``TypeError`` / ``ValueError`` for a bad hyper-parameter in ``group``."""

    def _update(self, p: Parameter, group: dict[str, Any]) -> None:
        """Applies one step to ``p`` with ``group``'s hyper-parameters and ``self.state[p]``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update()")

    def _group_tensors(self, group: dict[str, Any]) -> list[tuple]:
        """Prepares one step of ``group``: creates missing state, increments step counts.

        Returns one ``(param, grad, state0, state1, state2, step)`` tuple per parameter,
        the slots of ``_core.OptimTensor`` (fastnn/optim.h) for this ``_kind``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _group_tensors()")

    def _init_state(self, params: list[Parameter], first: dict[str, Any], buffers: tuple[str, ...],
                    fill: float = 0.0) -> None:
        """Gives each of ``params`` the entries ``first`` then ``buffers`` filled with ``fill``.

        Each buffer name gets one flat float32 array for all of ``params``, and each
        parameter's entry is a view of its slice, so the update kernel can treat
        back-to-back parameters as one span.
        """
        total = sum(p.numel() for p in params)
        flats = [np.full(total, fill, np.float32) for _ in buffers]
        offset = 0
        for p in params:
            state = self.state[p]
            state.update(first)
            for name, flat in zip(buffers, flats):
                state[name] = flat[offset:offset + p.numel()].reshape(p.shape)
            offset += p.numel()

    # True while step() runs after an autograd backward (see _stepping); fused training
    # steps that wrote every gradient themselves call _group_tensors outside step()
    _skip_unset = False
    _pytorch_style = False  # set for good by the first step after an autograd backward

    def _stepping(self, group: dict[str, Any]) -> list[Tensor]:
        """The parameters of ``group`` that take a step: those with a gradient that require
        grad. PyTorch steps every parameter whose ``.grad`` is not ``None``; a frozen
        parameter (``requires_grad=False``) never gets one there, while fastnn's ``.grad``
        is never ``None`` by default (zeros, and the NumPy path accumulates into it), so
        frozen parameters are skipped explicitly: they stay as they are, with no weight
        decay, momentum or step count, as in PyTorch with its default ``zero_grad()``
        (after ``zero_grad(set_to_none=False)`` PyTorch keeps stepping a parameter frozen
        mid-training with the zero gradient it kept: momentum and decay go on moving it).

        In a PyTorch-style :meth:`step` (every step from the first one after
        ``loss.backward()`` wrote some of this optimizer's gradients through autograd), a
        parameter that no backward reached since ``zero_grad()`` zero-filled its gradient,
        and whose ``.grad`` is still all
        zeros (or empty), is skipped too: its PyTorch twin's ``.grad`` would be ``None``
        after PyTorch's default ``zero_grad(set_to_none=True)``, so it takes no weight
        decay, momentum or Adam step (a layer the forward did not use, under AdamW's
        default decay, stays as it is). On the NumPy path (``model.backward``, gradients
        written by hand) zeros are a gradient, as API.md has it."""
        params = [p for p in group["params"] if p._grad is not None and p._rg]
        if self._skip_unset:
            params = [p for p in params if not (getattr(p, "_unset", False)
                                                and p._grad._data.size and not p._grad._data.any())]
        return params

    def _written_group_tensors(self, written: list[Parameter]) -> list[tuple]:
        """``(group, _group_tensors(group))`` for every group, for a fused training step
        that wrote the gradients of ``written`` itself: the eager loop's ``step()`` (after
        its ``zero_grad()`` and ``backward()``) would skip the other parameters whose
        gradient is still all zeros, so these skip them too."""
        for p in written:
            p._unset = False
        self._skip_unset = True
        try:
            return [(g, self._group_tensors(g)) for g in self.param_groups]
        finally:
            self._skip_unset = False

    # -- groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a parameter group; options it does not set take the defaults.

        Args:
            param_group (dict): ``{"params": parameters, option: value, ...}``.

        Raises:
            TypeError: ``param_group`` is not a dict, or ``params`` holds something
                other than :class:`fastnn.nn.Parameter` or is a set (unordered).
            ValueError: a parameter appears twice, or is already in another group,
                or an option is out of range.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}.add_param_group(): param_group must be a dict, "
                f"got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group(): param_group has no 'params' key")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}(): parameters must be in an ordered collection (a list), not a set, "
                "so that their order is the same in every run"
            )
        else:
            params = list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                          for p in params):  # model.named_parameters(), as torch >= 2.6
            names = [n for n, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}(): can only optimize Tensors (fastnn.nn.Parameter or leaf "
                    f"Tensors), but params[{i}] is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(f"{name}(): can't optimize a non-leaf Tensor (params[{i}])")
            if p.dtype != np.float32:
                raise TypeError(f"{name}(): params[{i}] must be float32, got {p.dtype} "
                                "(fastnn's optimizers update float32 parameters: make it "
                                "with dtype=fastnn.float32, or call .float() on it first)")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}(): a parameter group contains the same parameter twice")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}(): some parameters appear in more than one parameter group")

        group = {k: v for k, v in param_group.items() if k != "params"}
        if names is not None:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_all(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check_all(self, group: dict[str, Any]) -> None:
        """:meth:`_check_group` plus the on/off options, which must be bools."""
        name = f"{type(self).__name__}()"
        for flag in _FLAGS:
            value = group.get(flag, False)
            if not isinstance(value, (bool, np.bool_)) and not (
                    isinstance(value, (int, np.integer)) and value in (0, 1)):
                raise TypeError(f"{name}: argument '{flag}' must be a bool, got "
                                f"{type(value).__name__} ({value!r})")
        self._check_group(group)

    def _recheck(self) -> None:
        """Re-validates a group whose options were assigned since the last step (e.g.
        ``param_groups[0]["lr"] = None``), before any state changes: a value of the wrong
        type raises the constructor's ``TypeError`` instead of failing inside the update
        after the step counts moved. Ranges are PyTorch's constructor checks only: a
        value set later outside them (a schedule's lr of -2e-18 from rounding, momentum
        changed by hand) steps as torch steps it. Values are compared by identity, so an
        unchanged group costs one pass over its options."""
        checked = self._checked
        if len(checked) != len(self.param_groups):
            checked[:] = [(g, ()) for g in self.param_groups]
        for i, group in enumerate(self.param_groups):
            last_group, last = checked[i]
            values = tuple(group.values())
            if last_group is not group or len(last) != len(values) or any(
                    map(operator.is_not, last, values)):
                try:
                    self._check_all(group)
                except ValueError:  # a range: PyTorch's step takes it; the types of the
                    self._check_types(group)  # options after it still need their check
                checked[i] = (group, tuple(group.values()))

    def _check_types(self, group: dict[str, Any]) -> None:
        """Every numeric option of ``group`` is a number (a pair of them for ``betas``,
        stored as a tuple), as the update reads it: the constructor's ``TypeError``
        otherwise. For a group whose range check failed part-way (see :meth:`_recheck`)."""
        name = f"{type(self).__name__}()"
        for key, default in self.defaults.items():
            value = group.get(key)
            if key in _FLAGS or value is None and default is None:
                continue
            if key == "betas":
                if not isinstance(value, (tuple, list)) or len(value) != 2:
                    raise TypeError(f"{name}: argument 'betas' must be a pair of floats, got "
                                    f"{value!r}")
                for j, beta in enumerate(value):
                    check_number(beta, name, f"betas[{j}]")
                group["betas"] = tuple(value)
            elif isinstance(default, (int, float)) and not isinstance(default, bool):
                check_number(value, name, key)

    # -- stepping -------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Performs one optimization step over every parameter.

        Args:
            closure (callable, optional): re-evaluates the model and returns the
                loss; called before the update. Default: ``None``.

        Returns:
            The closure's loss, or ``None`` without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._recheck()
        # PyTorch-style steps from the first one after the autograd engine wrote one of
        # this optimizer's gradients: a later step with no backward in between (a skipped
        # batch, a head left out of this step's loss) then skips, as PyTorch's None does
        if not self._pytorch_style:
            self._pytorch_style = any(getattr(p, "_autograd", False)
                                      for group in self.param_groups for p in group["params"])
        self._skip_unset = self._pytorch_style
        try:
            for group in self.param_groups:
                stepping = self._stepping(group)
                if self._kind is None:
                    for p in stepping:
                        self._update(p, group)
                else:
                    _fused_step(self._kind, group, self._group_tensors(group))
                for p in stepping:  # an in-place change: a graph that saved p now refuses backward
                    if p._vc is not None:
                        p._vc[0] += 1
        finally:
            self._skip_unset = False
        return loss

    def _check_holds_any(self, params: list[Any], func: str) -> None:
        """Raises when none of ``params`` (a model's) is in this optimizer: training would
        change nothing, silently (it was built from another model's parameters). Holding
        some is fine (fine-tuning a part)."""
        held = {id(p) for g in self.param_groups for p in g["params"]}
        if params and not any(id(p) in held for p in params):
            raise ValueError(
                f"{func}: the optimizer holds none of the model's parameters, so training "
                f"would change nothing; build it from this model: {type(self).__name__}"
                "(model.parameters(), ...)")

    def zero_grad(self, set_to_none: bool | None = None) -> None:
        """Resets every parameter's ``.grad``: zeros in place, or ``None`` as PyTorch.

        Args:
            set_to_none (bool, optional): ``True`` sets each ``.grad`` to ``None``
                (PyTorch's default; a parameter whose gradient stays ``None`` is skipped
                by :meth:`step`). By default an ``nn.Parameter``'s gradient is filled
                with zeros instead, fastnn's contract for the NumPy path, where
                ``.grad`` is never ``None``, and these zeros stand for PyTorch's
                ``None``: the next ``backward`` gives the same gradients, and a
                PyTorch-style :meth:`step` skips a parameter that no backward (or
                ``p.grad =``) has written since, while its ``.grad`` stays all zeros. A
                plain Tensor's gradient becomes ``None``, as in PyTorch. ``False``
                fills zeros that are a gradient (PyTorch's ``set_to_none=False``: weight
                decay and momentum still step). Frozen parameters
                (``requires_grad=False``) are skipped in every case.
        """
        for group in self.param_groups:
            for p in group["params"]:
                _zero_grad(p, set_to_none)

    # -- checkpoints ----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Returns the optimizer state in PyTorch's layout, with copies of every buffer.

        ``{"state": {index: {name: value}}, "param_groups": [{option: value, ...,
        "params": [index, ...]}]}``, where parameters are numbered in group order.
        Parameters that have no state yet have no entry.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                           for k, v in s.items()}
            for p, s in self.state.items()
            if s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state from :meth:`state_dict` (buffers are copied), so training resumes exactly.

        The groups' hyper-parameters are replaced by the saved ones; the
        optimizer must hold the same number of groups and parameters.

        Args:
            state_dict (dict): a dict returned by :meth:`state_dict`.

        Raises:
            ValueError: the structure or a buffer's shape does not match.
        """
        name = f"{type(self).__name__}.load_state_dict()"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), (list, tuple))
                for g in saved_groups):
            raise ValueError(f"{name}: 'param_groups' must be a list of dicts, each with a "
                             "'params' list")
        if not isinstance(state_dict["state"], dict) or not all(
                isinstance(v, dict) for v in state_dict["state"].values()):
            raise ValueError(f"{name}: 'state' must be a dict of per-parameter dicts")
        for key, saved_state in state_dict["state"].items():
            missing = [k for k in self._state_keys if k not in saved_state]
            if saved_state and missing:
                raise ValueError(f"{name}: the state of parameter {key!r} lacks {missing} "
                                 f"({type(self).__name__} keeps {list(self._state_keys)} per "
                                 "parameter)")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter group(s), "
                f"the optimizer has {len(self.param_groups)}"
            )
        id_map: dict[Any, Parameter] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}: parameter group {i} has {len(saved['params'])} parameter(s) in "
                    f"the state dict and {len(group['params'])} in the optimizer"
                )
            id_map.update(zip(saved["params"], group["params"]))

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = copy.deepcopy({k: v for k, v in saved.items() if k != "params"})
            for key, default in self.defaults.items():
                new.setdefault(key, default)
            self._check_all(new)
            new["params"] = group["params"]
            new_groups.append(new)

        new_state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"{name}: the state refers to unknown parameter index {key!r}")
            p = id_map[key]
            new_state[p] = {k: _load_value(v, p, k, name, self._scalar_state)
                            for k, v in saved_state.items()}
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _fused_step(kind: Any, group: dict[str, Any], tensors: list[tuple]) -> None:
    """One kernel call for the group. The kernel updates C-contiguous parameters in place;
    a leaf over strided memory (``fn.randn(4, 3).T.requires_grad_()``, ``from_numpy`` of a
    view) is updated through a contiguous copy, written back (PyTorch takes any layout)."""
    strided = [i for i, t in enumerate(tensors) if not t[0].flags.c_contiguous]
    views = [tensors[i][0] for i in strided]
    for i in strided:
        tensors[i] = (np.array(tensors[i][0], order="C"),) + tuple(tensors[i][1:])
    _core.optimizer_step(kind, group, tensors)
    for i, view in zip(strided, views):
        view[...] = tensors[i][0]


def gradient_of(p: Tensor, group: dict[str, Any]) -> np.ndarray:
    """The gradient a NumPy-written update uses: ``-grad`` when maximizing, plus
    ``weight_decay * p`` (L2, coupled), as a new float32 array."""
    g = p._grad._data
    g = -g if group.get("maximize", False) else g.copy()
    wd = group.get("weight_decay", 0)
    if wd:
        g += np.float32(wd) * p._data
    return g


def _zero_grad(p: Tensor, set_to_none: bool | None) -> None:
    if isinstance(p, Parameter):
        p.zero_grad(set_to_none)
    elif set_to_none is None or set_to_none or p._grad is None:  # a plain Tensor: None
        p._grad = None
    else:
        p._grad._data.fill(0.0)


def _load_value(value: Any, p: Parameter, key: str, where: str,
                scalars: tuple[str, ...]) -> Any:
    """Copies one saved state entry: ``step`` as int, the other ``scalars`` as float (a 0-d
    tensor from torch included), buffers as float32 arrays of p's shape."""
    if key in scalars:
        try:
            number = float(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"{where}: state '{key}' must be a number, got {value!r}") from None
        if key != "step":
            return number
        if not (number.is_integer() and 0 <= number < 2**62):  # a count of steps taken
            raise ValueError(f"{where}: state 'step' must be a whole number of steps >= 0, "
                             f"got {value!r}")
        return int(number)
    if not (hasattr(value, "__array__") or isinstance(value, (list, tuple))):
        raise ValueError(f"{where}: state '{key}' must be an array of its parameter's shape "
                         f"{shape_str(p.shape)}, got {type(value).__name__}")
    arr = np.asarray(value)  # NumPy arrays, tensors from a PyTorch state dict, nested lists
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{where}: state '{key}' must be numeric, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float32, order="C", copy=True)
    if arr.shape != p.shape:
        raise ValueError(
            f"{where}: state '{key}' has shape {shape_str(arr.shape)}, "
            f"its parameter has shape {shape_str(p.shape)}"
        )
    return arr
