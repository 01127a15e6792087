"""NumPy's argument names that PyTorch's functions and Tensor methods accept as aliases.

PyTorch's argument parser takes ``axis`` for ``dim`` and ``keepdims`` for ``keepdim``
in every op bound from C++ (``torch.mean(x, axis=0)``, ``torch.cat(xs, axis=1)``,
``x.softmax(axis=1)``), while the Python functions of ``torch.nn.functional`` take
only PyTorch's names; fastnn's functions and methods do the same.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

# (NumPy's name, PyTorch's name)
_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def rename(kwargs: dict[str, Any], func: str) -> None:
    """Replaces NumPy's names in ``kwargs`` by PyTorch's, in place.

    Raises:
        TypeError: both a name and its alias were given.
    """
    for alias, name in _ALIASES:
        if alias in kwargs:
            if name in kwargs:
                raise both_given(func, name, alias)
            kwargs[name] = kwargs.pop(alias)


def both_given(func: str, name: str = "dim", alias: str = "axis") -> TypeError:
    """PyTorch's error for a call given both an argument and its NumPy alias."""
    return TypeError(f"{func}() received both argument '{name}' and its alias '{alias}'")


def takes_dim(op: Any) -> bool:
    """Whether ``op`` has a ``dim`` or ``keepdim`` parameter and no ``axis`` of its own."""
    try:
        params = inspect.signature(op).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return ("dim" in params or "keepdim" in params) and "axis" not in params


def with_numpy_names(op: Any) -> Any:
    """``op``, also taking ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``."""
    @functools.wraps(op)
    def f(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            rename(kwargs, op.__name__)
        return op(*args, **kwargs)
    return f
