"""``Module``: the base class of every layer, container and model.

As in PyTorch, assigning a :class:`Parameter` or a :class:`Module` to an
attribute registers it, so ``parameters()``, ``state_dict()`` and ``train()``
see the whole tree. A module runs two ways: on Tensors, its forward records on
the autograd graph and ``loss.backward()`` computes every gradient (a subclass
then needs only ``forward``); on NumPy arrays, each built-in module caches what
its last ``forward`` needs and implements ``backward(grad_out)``, and a subclass
that defines only ``forward`` back-propagates through the graph its ndarray call
recorded (``nn/numpy_call.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .._validation import shape_str
from ..autograd.errors import ModeError, ShapeError
from ..autograd.tensor import Tensor
from . import numpy_call
from ._flat import flatten
from .parameter import Parameter
from .state_array import StateArray


def _values(v: Any) -> np.ndarray:
    """The array behind a parameter or buffer (a Tensor's storage, or the ndarray)."""
    return v._data if isinstance(v, Tensor) else v


class StateDictKeyError(RuntimeError, KeyError):
    """Missing or unexpected keys in a strict ``load_state_dict``: a ``RuntimeError`` as in
    PyTorch and a ``KeyError`` as fastnn's array API raised it before."""

    __str__ = BaseException.__str__  # the message as written, not KeyError's repr of it


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as PyTorch's: keys of the model that the state
    dict lacked, and keys of the state dict that the model has not (both empty when
    ``strict``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


def _named_members(module: Module, kind: str, prefix: str, recurse: bool,
                   remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
    """``(dotted name, member)`` of ``module``'s ``_parameters`` or ``_buffers`` (``kind``),
    skipping ``None``; ``recurse=False``: its own only; ``remove_duplicate``: each once."""
    modules = (module.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
               if recurse else [(prefix, module)])
    seen: set[int] = set()
    for mod_name, mod in modules:
        for name, member in getattr(mod, kind).items():
            if member is None or (remove_duplicate and id(member) in seen):
                continue
            seen.add(id(member))
            yield (f"{mod_name}.{name}" if mod_name else name), member


class _IterList(list):
    """A list that is also its own iterator for ``next()``: what ``parameters()`` returns,
    so that both API.md's list (``len``, indexing, reuse) and PyTorch's generator idiom
    ``next(model.parameters())`` work. ``next`` walks the items once, independently of
    ``for`` loops over the list."""

    _cursor = 0

    def __next__(self) -> Any:
        i = self._cursor
        if i >= len(self):
            raise StopIteration
        self._cursor = i + 1
        return self[i]


# Module.double() / half() / bfloat16(): what to do instead
_NOT_FLOAT32 = ("Module.{call}: fastnn modules hold float32 parameters and cannot change "
                "their dtype; drop the call (the modules take float64 inputs as they are) "
                "or convert the inputs with x.float()")


class Module:
    r"""Base class for all fastnn layers and models.

    Subclasses implement :meth:`forward`, written with Tensor ops and other modules,
    as in PyTorch; ``loss.backward()`` then fills every parameter's ``.grad``. For
    the NumPy path (arrays in, arrays out) a subclass also implements :meth:`backward`:

    * ``forward(x)`` computes the output and caches what backward needs;
    * ``backward(grad_out)`` takes :math:`\partial L / \partial y` for the last
      forward, **accumulates** into each parameter's ``.grad`` and returns
      :math:`\partial L / \partial x`.

    Attributes:
        training (bool): ``True`` in training mode (the default), ``False`` after
            :meth:`eval`. Dropout is only active in training mode.
        _saved_for_backward (tuple of str): class attribute, the instance attributes a
            NumPy-path ``forward`` writes for ``backward`` to read; :func:`fastnn.predict`
            and :func:`fastnn.evaluate` put them back after their passes, so that
            ``m(x); fn.predict(m, x2); m.backward(g)`` still differentiates ``m(x)``. A
            subclass with its own ``backward`` that caches in attributes of its own lists
            them here.

    Example::

        >>> class Residual(fn.nn.Module):            # autograd: forward only
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = fn.nn.Linear(8, 8)
        ...         self.fc2 = fn.nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.fc2(x + fn.relu(self.fc1(x)))
        >>> loss = fn.nn.CrossEntropyLoss()(Residual()(fn.randn(4, 8)), fn.tensor([0, 1, 1, 0]))
        >>> loss.backward()

        >>> class TwoLayer(fn.nn.Module):            # the NumPy path: forward and backward
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = fn.nn.Linear(4, 8)
        ...         self.act = fn.nn.ReLU()
        ...         self.fc2 = fn.nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.fc2(self.act(self.fc1(x)))
        ...     def backward(self, g):
        ...         return self.fc1.backward(self.act.backward(self.fc2.backward(g)))
    """

    _saved_for_backward: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_version", 0)

    # -- registration -------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        # A layer's private state (its cached input, say) written at every call: no
        # registration to change, so straight to the instance (the checks below took
        # about a third of an activation layer's call on a small array).
        if (name[:1] == "_" and "_buffers" in d and not isinstance(value, (Parameter, Module))
                and name not in d["_parameters"] and name not in d["_modules"]
                and name not in d["_buffers"]):
            object.__setattr__(self, name, value)
            return
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() is called "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )
        if name[:1] != "_":  # a public setting changed (Dropout.p, a scale): traced steps
            d["_version"] = d.get("_version", 0) + 1  # that read it as a constant re-trace
        params, modules = d["_parameters"], d["_modules"]
        buffers = d["_buffers"]
        if name in buffers and not isinstance(value, (Parameter, Module)):
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(a Tensor, an ndarray or None expected)")
            buffers[name] = value
            object.__setattr__(self, name, value)
            return
        # As in PyTorch: a new Parameter or Module under a registered name takes the old
        # one's place (the order of forward, parameters() and state_dict() is kept);
        # None empties the slot, keeping that place for a later assignment (traversals
        # skip it; print(model) shows "(name): None"); anything else there is a TypeError,
        # a Module under a parameter's name too.
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            if name in params:  # torch: a parameter's name takes a Parameter or None only
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (fastnn.nn.Parameter or None expected)")
            buffers.pop(name, None)
            modules[name] = value
        elif value is not None and (name in params or name in modules):
            what = "parameter" if name in params else "child module"
            expected = "fastnn.nn.Parameter" if name in params else "fastnn.nn.Module"
            hint = f"; to change its values in place use self.{name}.data = ..." if (
                name in params) else ""
            raise TypeError(f"cannot assign '{type(value).__name__}' as {what} '{name}' "
                            f"({expected} or None expected){hint}")
        elif value is None and (name in params or name in modules):
            (params if name in params else modules)[name] = None
        else:
            params.pop(name, None)
            modules.pop(name, None)
            buffers.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Registers ``tensor``, a value that is state but not a parameter (running
        statistics, a fixed mask), under ``name``, as in PyTorch.

        ``self.<name>`` returns it and assigning a Tensor, an ndarray or ``None`` to that
        name replaces it; ``named_buffers()`` lists it; ``state_dict()`` includes it (a
        copy) and ``load_state_dict`` fills it in place when ``persistent``; optimizers
        never see it.

        Args:
            name (str): the attribute name (no ``"."``).
            tensor (Tensor, numpy.ndarray or None): the value.
            persistent (bool): part of ``state_dict()``. Default: ``True``.

        Raises:
            KeyError: ``name`` is empty, contains ``"."`` or is another attribute.
            TypeError: ``tensor`` is not a Tensor, an ndarray or ``None`` (a
                ``Parameter`` is registered by assignment instead).
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot register a buffer before Module.__init__() is called")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer(): buffer name must be a non-empty str without "
                           f"'.', got {name!r}")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"register_buffer(): attribute '{name}' already exists")
        if isinstance(tensor, Parameter) or not (
                tensor is None or isinstance(tensor, (Tensor, np.ndarray))):
            raise TypeError(f"register_buffer(): buffer '{name}' must be a Tensor, an ndarray "
                            f"or None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers ``param`` under ``name``, as ``self.<name> = param``; ``None`` registers
        an empty slot (skipped by ``parameters()`` and ``state_dict()``; a Parameter
        assigned there later takes its place), as PyTorch's ``register_parameter("bias",
        None)``.

        Raises:
            KeyError: ``name`` is empty, contains ``"."`` or is another attribute.
            TypeError: ``name`` is not a str, or ``param`` is neither a
                :class:`Parameter` nor ``None`` (a plain Tensor would never be trained).
        """
        self._check_member_name("register_parameter", "parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter(): cannot assign '{type(param).__name__}' "
                            f"object to parameter '{name}' (fastnn.nn.Parameter or None "
                            "required)")
        setattr(self, name, param)
        if param is None:
            self._parameters[name] = None

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers ``module`` as a child under ``name``, as ``self.<name> = module``
        (``None``: an empty slot, as in PyTorch).

        Raises:
            KeyError: ``name`` is empty, contains ``"."`` or is another attribute.
            TypeError: ``name`` is not a str, or ``module`` is neither a :class:`Module`
                nor ``None``.
        """
        self._check_member_name("add_module", "module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module(): {type(module).__name__} is not a Module subclass "
                            f"(module '{name}')")
        setattr(self, name, module)
        if module is None:
            self._modules[name] = None

    def _check_member_name(self, func: str, what: str, name: Any,
                           registry: Mapping[str, Any]) -> None:
        """PyTorch's checks of a name given to ``register_parameter`` / ``add_module``: a
        dotted name would make state-dict keys that load nowhere."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot call {func}() before Module.__init__() is called")
        if not isinstance(name, str):
            raise TypeError(f"{func}(): {what} name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{func}(): {what} name must be a non-empty str without '.', "
                           f"got {name!r}")
        if name not in registry and hasattr(self, name):
            raise KeyError(f"{func}(): attribute '{name}' already exists")

    # -- computation --------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """The computation: subclasses define it (with Tensor ops and other modules, or on NumPy
        arrays with a matching ``backward``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_in`` of the last forward on NumPy arrays (``nn/numpy_call.py``): a
        subclass that defines only ``forward`` back-propagates through the graph its
        ndarray call recorded; the built-in layers define their own."""
        if not numpy_call.has_call(self):
            raise NotImplementedError(f"{type(self).__name__} does not implement backward() "
                                      "(call it on NumPy arrays first, or call "
                                      "loss.backward() on Tensors)")
        return numpy_call.backward(self, grad_out)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs :meth:`forward`; a Module that defines only ``forward`` called on NumPy arrays
        records the call so that :meth:`backward` works too."""
        if type(self).backward is Module.backward and numpy_call.takes_numpy_path(args, kwargs):
            return numpy_call.call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- traversal ----------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yields ``(name, child)`` for the direct children, each module once (a child
        registered under two names is yielded under the first, as in PyTorch)."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """Yields the direct children, each once."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Yields ``(dotted name, module)`` for this module and every descendant, depth
        first; a module reached twice (shared) is yielded once unless
        ``remove_duplicate=False``, as in PyTorch."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yields this module and every descendant, each once (depth first)."""
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yields ``(name, parameter)`` pairs with PyTorch's dotted names, each once (every
        name of a shared one with ``remove_duplicate=False``; only this module's own with
        ``recurse=False``)."""
        yield from _named_members(self, "_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """All parameters of this module and its children (only its own with
        ``recurse=False``), in registration order, each once.

        A list (API.md), which also works as an iterator where PyTorch code expects
        its generator: ``next(model.parameters())`` gives the first parameter.
        """
        if not recurse:
            return _IterList(p for p in self._parameters.values() if p is not None)
        return _IterList(p for _, p in self.named_parameters())

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """Yields ``(name, buffer)`` for the buffers (``register_buffer``) that are not
        ``None``, with dotted names, each once (options as :meth:`named_parameters`)."""
        yield from _named_members(self, "_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> list[Any]:
        """All buffers of this module and its children (only its own with
        ``recurse=False``), in registration order (a list that also works as an
        iterator, as :meth:`parameters`)."""
        return _IterList(b for _, b in self.named_buffers(recurse=recurse))

    def _named_state(self) -> Iterator[tuple[str, Any]]:
        """What ``state_dict`` holds, in PyTorch's order: per module its parameters, then
        its persistent buffers, then its children's. As in PyTorch, a shared module or
        parameter appears under every name it has (``Sequential(s, ReLU(), s)``: ``0.*``
        and ``2.*``), so state dicts of such models load across the two libraries."""
        for mod_name, mod in self.named_modules(remove_duplicate=False):
            persistent = [(n, b) for n, b in mod._buffers.items()
                          if b is not None and n not in mod._non_persistent]
            for name, value in [*mod._parameters.items(), *persistent]:
                if value is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.numel() for p in self.parameters())

    def flatten_parameters(self) -> tuple[np.ndarray, np.ndarray]:
        """Puts all parameter values in one flat float32 buffer, and all gradients in another.

        Copies each ``p.data`` and ``p.grad`` into its slice (in :meth:`parameters`
        order) and rebinds the parameter to views of those slices: same shapes and
        values, but ``p.data`` and ``p.grad`` are new array objects, so references
        taken before the call are stale afterwards (re-read them). Everything else
        keeps working on the views: assigning ``p.data = x`` copies into the
        buffer, and ``state_dict()``, ``load_state_dict()``, ``fastnn.save`` and
        optimizers behave as before. Optimizers created afterwards update the whole
        buffer as one span per group, and ``fastnn.distributed`` reduces the
        gradient buffer in one collective. Later calls return the same buffers
        unless a parameter or one of its arrays was replaced since.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``(data, grad)``, each of shape
            ``(num_parameters(),)``.

        Example::

            >>> data, grad = model.flatten_parameters()
            >>> np.shares_memory(data, model[0].weight.data)
            True
        """
        params = self.parameters()
        return flatten(self, params, "data"), flatten(self, params, "grad")

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to("cpu")`` / ``to(fn.float32)``: fastnn modules are float32 on the CPU already.

        Returns ``self``. Any other device or dtype raises (``RuntimeError`` /
        ``TypeError``) rather than silently doing nothing.
        """
        from ..autograd.dtypes import as_dtype
        for a in args + tuple(kwargs.values()):
            if a is None or isinstance(a, bool):
                continue
            if isinstance(a, str) or isinstance(getattr(a, "type", None), str):
                name = a if isinstance(a, str) else a.type
                if str(name).split(":")[0] != "cpu":
                    raise RuntimeError(f"Module.to(): fastnn runs on the CPU only, got {a!r}")
            elif as_dtype(a, "Module.to()") != np.float32:
                raise TypeError(f"Module.to(): fastnn modules are float32, got {a!r}")
        return self

    def cpu(self) -> Module:
        """Returns ``self``: fastnn runs on the CPU only."""
        return self

    def float(self) -> Module:
        """Returns ``self``: parameters are float32 already."""
        return self

    def double(self) -> Module:
        """Raises ``TypeError``: fastnn modules compute in float32 (see :meth:`to`)."""
        raise TypeError(_NOT_FLOAT32.format(call="double()"))

    def half(self) -> Module:
        """Raises ``TypeError``: fastnn modules compute in float32 (see :meth:`to`)."""
        raise TypeError(_NOT_FLOAT32.format(call="half()"))

    def bfloat16(self) -> Module:
        """Raises ``TypeError``: fastnn modules compute in float32 (see :meth:`to`)."""
        raise TypeError(_NOT_FLOAT32.format(call="bfloat16()"))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Sets ``requires_grad`` on every parameter (``False`` freezes them)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Calls ``fn`` on every submodule (children first) and on self, as PyTorch does."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- state --------------------------------------------------------------
    def zero_grad(self, set_to_none: bool | None = None) -> None:
        """Resets every parameter's ``.grad``: zeros in place, or ``None`` as PyTorch.

        Args:
            set_to_none (bool, optional): ``True`` sets each ``.grad`` to ``None``
                (PyTorch's default). By default the gradients are filled with zeros,
                fastnn's contract for the NumPy path, where ``.grad`` is never
                ``None``; these zeros stand for PyTorch's ``None`` (see
                :meth:`fastnn.optim.Optimizer.zero_grad`). ``False`` fills zeros that
                are a gradient, as PyTorch's ``set_to_none=False``. The next
                ``backward`` gives the same gradients in every case.
        """
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Sets training mode (``mode=True``) or evaluation mode on this module, then calls
        each child's ``train(mode)``, as PyTorch: a child that overrides ``train`` (to
        keep a layer frozen in eval mode, say) has its override run."""
        if not isinstance(mode, bool):
            raise ModeError(f"train(): argument 'mode' must be a bool (training mode is "
                            f"expected to be boolean), got {type(mode).__name__}")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Sets evaluation mode: equivalent to ``train(False)``."""
        return self.train(False)

    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter and persistent buffer, keyed as PyTorch names them
        (e.g. ``"0.weight"``).

        The arrays are copies: later training does not change a saved state dict
        (PyTorch's in-place ``copy_`` / ``fill_`` / ``zero_`` on them write through to
        the module, as PyTorch's do: :class:`fastnn.nn.state_array.StateArray`). They
        are NumPy arrays (NumPy's meanings throughout) that also take the Tensor methods
        PyTorch code calls on state-dict values (``v.clone()``, ``v.cpu()``,
        ``v.view(-1)``, ``v.sum(dim=0)``, ``v.dim()``: see
        :class:`fastnn.nn.state_array.StateArray`).

        Args:
            destination (dict, optional): filled and returned instead of a new
                ``OrderedDict``, as PyTorch's.
            prefix (str): put before every key. Default: ``""``.
            keep_vars (bool): the :class:`Parameter` objects themselves (on the graph)
                instead of copies of their values, as PyTorch's. Default: ``False``.
        """
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict(): argument 'prefix' must be a str, "
                            f"got {type(prefix).__name__}")
        out = OrderedDict() if destination is None else destination
        for name, v in self._named_state():
            if keep_vars:
                out[prefix + name] = v
                continue
            data = _values(v)
            value = StateArray(data.shape, data.dtype)  # owns its memory: the base of its views
            value[...] = data
            value._source = v  # copy_ / fill_ / zero_ write through, as PyTorch's
            out[prefix + name] = value
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copies arrays from ``state_dict`` into the parameters, in place.

        Accepts NumPy arrays or anything ``np.asarray`` understands (e.g. a
        ``torch.Tensor`` state dict converted with ``.numpy()``). Nothing is
        copied unless every value fits.

        Args:
            state_dict (Mapping[str, array_like]): name to values.
            strict (bool): if ``True`` (default), missing or unexpected keys raise
                :class:`StateDictKeyError` (a ``KeyError``, and a ``RuntimeError`` as
                in PyTorch). Shape mismatches always raise ``ShapeError`` (a
                ``ValueError`` and a ``RuntimeError``).

        Returns:
            IncompatibleKeys: ``(missing_keys, unexpected_keys)``, as PyTorch's.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict(): argument 'state_dict' must be a mapping, "
                f"got {type(state_dict).__name__}"
            )
        own = OrderedDict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise StateDictKeyError(
                f"load_state_dict(): missing keys {missing}, unexpected keys {unexpected}"
            )
        checked = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = np.asarray(state_dict[name])
            kinds = "fiu" if isinstance(p, Parameter) else "fiub"  # a buffer may be a mask
            if value.dtype.kind not in kinds:
                raise TypeError(f"load_state_dict(): '{name}' must be numeric, got {value.dtype}")
            if value.shape != p.shape:
                raise ShapeError(
                    f"load_state_dict(): '{name}' expected shape {shape_str(p.shape)}, "
                    f"got {shape_str(value.shape)}"
                )
            checked[name] = value
        for name, value in checked.items():  # all checked first: no partial load
            target = own[name]
            if isinstance(target, Parameter):
                target.data = value
            else:  # a buffer: filled in place, keeping its dtype
                _values(target)[...] = value
            if isinstance(target, Tensor):  # an in-place write, as torch's copy_: a graph
                target._bump()              # that saved the old values refuses to backward
        return IncompatibleKeys(missing, unexpected)

    # -- display ------------------------------------------------------------
    def summary(self, input_shape: tuple[int, ...] | int | None = None,
                print_fn: Callable[[str], Any] = print) -> None:
        """Prints a table of the layers, their output shapes and parameter counts (Keras-style).

        Output shapes come from one forward pass on zeros of shape ``(1, *input_shape)``
        in eval mode (the previous mode is restored). Children of a ``Sequential``
        are listed one per row; other modules are one row each.

        Args:
            input_shape (tuple or int, optional): the shape of one sample. Default:
                the ``in_features`` of the first ``Linear`` found; without one,
                output shapes are shown as ``?``.
            print_fn (Callable[[str], Any]): called with the table. Default: ``print``.

        Example::

            >>> fn.nn.Sequential(fn.nn.Linear(64, 32), fn.nn.ReLU(), fn.nn.Linear(32, 10)).summary()
        """
        print_fn(_summary_table(self, input_shape))

    # -- display (repr) -----------------------------------------------------
    def extra_repr(self) -> str:
        """Extra text inside this module's repr (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(extra)`` for a one-line ``extra_repr`` and no children,
        else one indented line per ``extra_repr`` line, then ``(name): child`` per child."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self._modules.items()]
        if not child_lines and len(extra_lines) <= 1:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(extra_lines + child_lines)
        return f"{type(self).__name__}(\n  {body}\n)"


def _summary_table(model: Module, input_shape: tuple[int, ...] | int | None) -> str:
    """The text of :meth:`Module.summary`."""
    if input_shape is None:
        first = next((m for m in model.modules() if hasattr(m, "in_features")), None)
        input_shape = None if first is None else (first.in_features,)
    elif isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    rows: list[tuple[str, str, str, int]] = []
    children = [(name, m) for name, m in model._modules.items() if m is not None]
    leaves = children or [("", model)]
    x = None if input_shape is None else np.zeros((1, *input_shape), np.float32)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        for name, layer in leaves:
            if x is not None:
                x = np.asarray(layer(x))
            shape = "?" if x is None else "(N, " + ", ".join(map(str, x.shape[1:])) + ")"
            rows.append((name or "-", type(layer).__name__, shape, layer.num_parameters()))
    finally:
        for m, training in modes:
            object.__setattr__(m, "training", training)
    header = ("Layer", "Type", "Output shape", "Params")
    body = [(n, t, s, f"{p:,}") for n, t, s, p in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(header))
    total = model.num_parameters()
    return "\n".join([f"{type(model).__name__}", rule, line(header), rule,
                      *(line(r) for r in body), rule, f"Total params: {total:,}",
                      f"Parameter memory: {total * 4 / 1024:.1f} KiB (float32)"])
