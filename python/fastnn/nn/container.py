"""The containers: ``Sequential`` (modules applied one after another), ``ModuleList``,
``ModuleDict``, ``ParameterList`` and ``ParameterDict`` (registered entries, no forward)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .module import Module
from .parameter import Parameter


def _renumber(container: Module, modules: list[Module]) -> None:
    """Makes ``modules`` the children of ``container``, named ``"0"``, ``"1"``, ... in order
    (what Sequential and ModuleList do after an insertion or a removal, as torch)."""
    for name in list(container._modules):
        delattr(container, name)
    for i, m in enumerate(modules):
        container.add_module(str(i), m)


def _inserted(modules: list[Module], index: int, module: Any, owner: str) -> list[Module]:
    """``modules`` with ``module`` inserted before ``index`` (list.insert's rule)."""
    if not isinstance(module, Module):
        raise TypeError(f"{owner}.insert(): argument 'module' must be a Module, got "
                        f"{type(module).__name__}")
    modules.insert(index, module)
    return modules


class Sequential(Module):
    r"""Chains modules: ``forward`` applies them in order, ``backward`` in reverse.

    Children are registered as ``"0"``, ``"1"``, ... so ``state_dict()`` keys
    match a ``torch.nn.Sequential`` of the same layers (``"0.weight"``, ...). As in
    PyTorch, one ``OrderedDict`` (or dict) of name -> module names them instead:
    ``Sequential(OrderedDict([("fc1", Linear(4, 8)), ("act", ReLU())]))`` has keys
    ``"fc1.weight"``, ... and attributes ``model.fc1``.

    Args:
        *modules (Module): the layers, in order; or one mapping of names to layers.

    Example::

        >>> model = fn.nn.Sequential(fn.nn.Linear(64, 32), fn.nn.ReLU(), fn.nn.Linear(32, 10))
        >>> len(model), type(model[0]).__name__
        (3, 'Linear')
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, m in modules[0].items():
                if not isinstance(name, str) or not isinstance(m, Module):
                    raise TypeError(
                        f"Sequential(): the mapping must hold str -> fastnn.nn.Module, got "
                        f"{type(name).__name__} -> {type(m).__name__} (entry {name!r})"
                    )
                if not valid_child_name(name):
                    raise KeyError(f"Sequential(): module name {name!r} must be non-empty, "
                                   "without '.', and not an attribute of Sequential")
                self.add_module(name, m)
            return
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential(): argument {i} must be a fastnn.nn.Module, got {type(m).__name__}"
                )
            self.add_module(str(i), m)

    def append(self, module: Module) -> Sequential:
        """Appends ``module`` at the end and returns ``self``."""
        if not isinstance(module, Module):
            raise TypeError(
                "Sequential.append(): argument 'module' must be a Module, "
                f"got {type(module).__name__}"
            )
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Inserts ``module`` before position ``index``; the layers are renamed ``"0"``,
        ``"1"``, ... in order, as torch does. ``index`` must lie in ``[-len, len]``
        (IndexError otherwise, as torch's)."""
        n = len(self._modules)
        index = operator.index(index)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert(): Index out of range: {index} (the Sequential "
                             f"has {n} layers)")
        _renumber(self, _inserted(list(self._modules.values()), index, module, "Sequential"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Appends each of ``modules`` and returns ``self``."""
        for m in modules:
            self.append(m)
        return self

    def pop(self, index: int = -1) -> Module:
        """Removes the layer at ``index`` and returns it."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other: Sequential) -> Sequential:
        """A new Sequential of this one's layers, then ``other``'s (the same module
        objects, renumbered), as torch."""
        return Sequential(*self, *_sequential_operand(other, "+"))

    def __iadd__(self, other: Sequential) -> Sequential:
        """Appends ``other``'s layers (the same module objects) in place."""
        return self.extend(list(_sequential_operand(other, "+=")))

    def __mul__(self, times: int) -> Sequential:
        """A new Sequential of this one's layers ``times`` times over (the same module
        objects, so shared weights), as torch."""
        return Sequential(*(list(self) * _repeat_count(times, "*")))

    __rmul__ = __mul__

    def __imul__(self, times: int) -> Sequential:
        """Repeats the layers ``times`` times over in place (the same module objects)."""
        layers = list(self)
        return self.extend(layers * (_repeat_count(times, "*=") - 1))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Module:
        layers = list(self._modules.values())
        if isinstance(idx, slice):  # keeps the children's names, as torch does
            sliced = Sequential()
            for name, module in list(self._modules.items())[idx]:
                sliced.add_module(name, module)
            return sliced
        if not isinstance(idx, (int, np.integer)) or isinstance(idx, bool):
            raise TypeError(f"Sequential indices must be int or slice, got {type(idx).__name__}")
        if not -len(layers) <= idx < len(layers):
            raise IndexError(f"Sequential index {idx} is out of range for length {len(layers)}")
        return layers[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        """Replaces the layer at ``idx`` in place (its name and position kept), as torch."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: can only assign a fastnn.nn.Module to an index, got "
                            f"{type(module).__name__}")
        self[idx]
        setattr(self, list(self._modules)[idx], module)

    def __delitem__(self, idx: int | slice) -> None:
        """Removes the layer(s) at ``idx``; the rest are renamed ``"0"``, ``"1"``, ... in
        order, as torch does."""
        names = list(self._modules)
        if not isinstance(idx, slice):
            self[idx]
        gone = set(names[idx]) if isinstance(idx, slice) else {names[idx]}
        _renumber(self, [m for name, m in self._modules.items() if name not in gone])

    def forward(self, x: np.ndarray) -> np.ndarray:
        for m in self._modules.values():
            x = m(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """The NumPy path's backward through the layers, last to first.

        Raises:
            RuntimeError: a module instance sits at two positions (``Sequential(a, f, a)``):
                a module keeps only its last forward's values, so its first position's
                backward would be computed from the wrong input. Tensors (autograd),
                ``TrainStep`` and ``fit`` handle shared modules.
        """
        layers = list(self._modules.values())
        if len({id(m) for m in layers}) != len(layers):
            shared = next(name for name, m in self._modules.items()
                          if sum(x is m for x in layers) > 1)
            raise RuntimeError(
                f"Sequential.backward(): the module at position '{shared}' appears more than "
                "once; the NumPy path's layer-by-layer backward needs one instance per "
                "position. Use separate instances, or run the model on fn.Tensors and call "
                "loss.backward() (autograd), or train with TrainStep / fit.")
        for m in reversed(layers):
            grad_out = m.backward(grad_out)
        return grad_out


def _sequential_operand(other: Any, op: str) -> Sequential:
    """``other`` checked as the right operand of ``Sequential {op}``."""
    if not isinstance(other, Sequential):
        raise ValueError(f"Sequential {op}: the other operand must be a Sequential, "
                         f"got {type(other).__name__}")
    return other


def _repeat_count(times: Any, op: str) -> int:
    """``times`` checked as the repeat count of ``Sequential {op}``: a positive int."""
    if not isinstance(times, (int, np.integer)) or isinstance(times, bool):
        raise TypeError(f"Sequential {op}: the repeat count must be an int, "
                        f"got {type(times).__name__}")
    if times <= 0:
        raise ValueError(f"Sequential {op}: the repeat count must be positive, got {times}")
    return int(times)


_EMPTY = Sequential()


def valid_child_name(name: object) -> bool:
    """Whether a Sequential can register a child under ``name``: a non-empty str without
    ``"."`` that is not an attribute every Sequential has (``forward``, ``training``)."""
    return isinstance(name, str) and bool(name) and "." not in name and not hasattr(_EMPTY, name)


class ModuleList(Module):
    r"""Holds modules in a list, registered as ``"0"``, ``"1"``, ... (``torch.nn.ModuleList``).

    Unlike :class:`Sequential` it has no ``forward``: the owning module decides
    how to call its entries.

    Args:
        modules (iterable of Module, optional): the initial entries.

    Example::

        >>> class MLP(fn.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.layers = fn.nn.ModuleList([fn.nn.Linear(8, 8) for _ in range(3)])
        ...     def forward(self, x):
        ...         for layer in self.layers:
        ...             x = fn.relu(layer(x))
        ...         return x
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __repr__(self) -> str:
        """As PyTorch prints a ModuleList: consecutive entries that print alike share a
        line, ``(0-2): 3 x Linear(...)``."""
        groups: list[list] = []  # [first index, last index, repr]
        for i, child in enumerate(self._modules.values()):
            text = repr(child).replace("\n", "\n  ")
            if groups and groups[-1][2] == text:
                groups[-1][1] = i
            else:
                groups.append([i, i, text])
        name = type(self).__name__
        if not groups:
            return f"{name}()"
        lines = [f"  ({a}): {t}" if a == b else f"  ({a}-{b}): {b - a + 1} x {t}"
                 for a, b, t in groups]
        return f"{name}(\n" + "\n".join(lines) + "\n)"

    def _check(self, module: Any, func: str) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.{func}(): expected a fastnn.nn.Module, got "
                            f"{type(module).__name__}")
        return module

    def append(self, module: Module) -> ModuleList:
        """Adds ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), self._check(module, "append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Adds each of ``modules`` at the end; returns ``self``."""
        for m in modules:
            self.append(m)
        return self

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        """A new ModuleList of this one's entries, then ``other``'s (PyTorch's ``+``)."""
        return ModuleList([*self, *other])

    def __iadd__(self, other: Iterable[Module]) -> ModuleList:
        return self.extend(other)

    def insert(self, index: int, module: Module) -> None:
        """Inserts ``module`` before ``index`` (the later entries renumbered)."""
        _renumber(self, _inserted(list(self._modules.values()), index,
                                  self._check(module, "insert"), "ModuleList"))

    def pop(self, index: int = -1) -> Module:
        """Removes the entry at ``index`` and returns it (the rest renumbered)."""
        module = self[index]
        del self[index]
        return module

    def __delitem__(self, idx: int | slice) -> None:
        """Removes the entry (or entries) at ``idx``; the rest are renamed ``"0"``, ``"1"``,
        ... in order, as torch does."""
        items = list(self._modules.values())
        if not isinstance(idx, slice):
            self[idx]
        del items[idx]
        _renumber(self, items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        if not -len(items) <= idx < len(items):
            raise IndexError(f"index {idx} is out of range")
        return items[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        name = list(self._modules)[idx]
        self._modules[name] = self._check(module, "__setitem__")  # keeps the order
        object.__setattr__(self, name, module)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): iterate over it in the owning "
                                  "module's forward")


def _key(container: Module, key: Any, what: str) -> str:
    """A name a dict container can register: a str without ``"."``, not a method or
    attribute name of the container (as torch refuses ``ModuleDict({"train": ...})``)."""
    cls = type(container).__name__
    if not isinstance(key, str):
        raise TypeError(f"{cls}: keys must be str, got {type(key).__name__}")
    if not key or "." in key:
        raise KeyError(f"{cls}: {what} name can't be empty or contain \".\", got {key!r}")
    registered = key in container._modules or key in container._parameters
    if not registered and (hasattr(container, key) or key.startswith("_")):
        raise KeyError(f"{cls}: attribute {key!r} already exists")
    return key


class _RegisteredDict(Module):
    """The dict interface of ModuleDict / ParameterDict over one registry (``_modules`` or
    ``_parameters``, named by ``_registry``); entries are registered attributes."""

    _registry = "_modules"

    def _entries(self) -> dict[str, Any]:
        return self.__dict__[self._registry]

    def __getitem__(self, key: str) -> Any:
        return self._entries()[key]

    def __delitem__(self, key: str) -> None:
        if key not in self._entries():
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries()))

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def keys(self) -> list[str]:
        return list(self._entries())

    def values(self) -> list[Any]:
        return list(self._entries().values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._entries().items())

    def update(self, entries: Any) -> None:
        """Adds ``entries``: a mapping or an iterable of ``(key, value)`` pairs."""
        pairs = entries.items() if hasattr(entries, "items") else entries
        for item in pairs:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"{type(self).__name__}.update(): expected a mapping or "
                                "(key, value) pairs")
            self[item[0]] = item[1]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._entries()):
            del self[key]

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(): index it in the "
                                  "owning module's forward")


class ModuleDict(_RegisteredDict):
    r"""Holds modules in a dict, in insertion order (``torch.nn.ModuleDict``).

    Entries are registered children: ``parameters()``, ``state_dict()`` (keys
    ``"<attr>.<key>.weight"``), ``train()`` and ``eval()`` reach them. Like
    :class:`ModuleList` it has no ``forward``.

    Args:
        modules (mapping or iterable of (str, Module) pairs, optional): initial entries.

    Example::

        >>> heads = fn.nn.ModuleDict({"digit": fn.nn.Linear(8, 10), "odd": fn.nn.Linear(8, 1)})
        >>> heads["odd"](np.zeros((2, 8), np.float32)).shape
        (2, 1)
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: values must be fastnn.nn.Modules, got "
                            f"{type(module).__name__}")
        self.add_module(_key(self, key, "module"), module)


def _as_parameter(value: Any, cls: str) -> Parameter:
    """A Parameter for ``value``: Parameters as they are, Tensors and arrays wrapped (as
    torch's ParameterList wraps plain Tensors)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, (Tensor, np.ndarray)):
        return Parameter(value)
    raise TypeError(f"{cls}: values must be Parameters or Tensors, got {type(value).__name__}")


class ParameterList(Module):
    r"""Holds parameters in a list, registered as ``"0"``, ``"1"``, ...
    (``torch.nn.ParameterList``); Tensors and arrays put in become Parameters.

    Args:
        values (iterable, optional): the initial parameters.

    Example::

        >>> scales = fn.nn.ParameterList([fn.nn.Parameter(fn.ones(4)) for _ in range(3)])
        >>> len(scales.parameters())
        3
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Adds ``value`` (a Parameter, or made one) at the end; returns ``self``."""
        setattr(self, str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Adds each of ``values`` at the end; returns ``self``."""
        for v in values:
            self.append(v)
        return self

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __getitem__(self, idx: int) -> Parameter:
        items = list(self._parameters.values())
        if not isinstance(idx, (int, np.integer)) or not -len(items) <= idx < len(items):
            raise IndexError(f"ParameterList index {idx!r} is out of range")
        return items[idx]

    def __setitem__(self, idx: int, value: Any) -> None:
        self[idx]
        setattr(self, list(self._parameters)[idx], _as_parameter(value, "ParameterList"))

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ParameterList has no forward()")


class ParameterDict(_RegisteredDict):
    r"""Holds parameters in a dict, in insertion order (``torch.nn.ParameterDict``);
    Tensors and arrays put in become Parameters.

    Args:
        values (mapping or iterable of (str, value) pairs, optional): initial entries.
    """

    _registry = "_parameters"

    def __init__(self, values: Any = None) -> None:
        super().__init__()
        if values is not None:
            self.update(values)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, _key(self, key, "parameter"), _as_parameter(value, "ParameterDict"))
