"""One contiguous float32 buffer for all parameter values (or gradients) of a module.

:func:`flatten` copies each parameter's ``data`` (or ``grad``) into its slice of
one new buffer, in ``parameters()`` order, and rebinds the parameter to a view of
that slice. The buffer is cached per module (weakly, so a copied or pickled
module gets its own) and rebuilt when a parameter or a rebound array changed.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from .parameter import Parameter

if TYPE_CHECKING:
    from .module import Module

# (module, "data" | "grad") -> (buffer, its parameters, the views bound to them)
_Cache = tuple[np.ndarray, list[Parameter], list[np.ndarray]]
_flat: dict[str, weakref.WeakKeyDictionary[Module, _Cache]] = {
    "data": weakref.WeakKeyDictionary(), "grad": weakref.WeakKeyDictionary(),
}


def flatten(module: Module, which: str) -> np.ndarray:
    """The flat buffer of ``which`` (``"data"`` or ``"grad"``) for ``module``'s parameters."""
    params = module.parameters()
    cache = _flat[which]
    cached = cache.get(module)
    if cached is not None:
        buffer, cached_params, views = cached
        if len(params) == len(cached_params) and all(
            p is q and getattr(p, which) is v for p, q, v in zip(params, cached_params, views)
        ):
            return buffer
    buffer = np.empty(sum(p.size for p in params), dtype=np.float32)
    views, offset = [], 0
    for p in params:
        view = buffer[offset:offset + p.size].reshape(p.shape)
        view[...] = getattr(p, which)
        if which == "data":
            p._rebind_data(view)
        else:
            p.grad = view
        views.append(view)
        offset += p.size
    cache[module] = (buffer, params, views)
    return buffer
