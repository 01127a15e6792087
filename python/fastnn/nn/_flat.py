"""One contiguous float32 buffer for all parameter values (or gradients) of a module.

:func:`flatten` copies each parameter's values (or gradient buffer) into its
slice of one new buffer, in ``parameters()`` order, and rebinds the parameter to
a view of that slice. The buffer is cached per owner (weakly, so a copied or
pickled module gets its own) and rebuilt when a parameter or a rebound array
changed. It knows parameters only, not modules: the owner is any weak-referenceable key.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .parameter import Parameter

# (owner, "data" | "grad") -> (buffer, its parameters, the arrays bound to them)
_Cache = tuple[np.ndarray, list[Parameter], list[np.ndarray]]
_flat: dict[str, weakref.WeakKeyDictionary[Any, _Cache]] = {
    "data": weakref.WeakKeyDictionary(), "grad": weakref.WeakKeyDictionary(),
}


def _bound(p: Parameter, which: str) -> np.ndarray:
    return p._data if which == "data" else p._gbuf


def flatten(owner: Any, params: list[Parameter], which: str) -> np.ndarray:
    """The flat buffer of ``which`` (``"data"`` or ``"grad"``) of ``params``, cached on ``owner``.
    """
    cache = _flat[which]
    cached = cache.get(owner)
    if cached is not None:
        buffer, cached_params, views = cached
        if len(params) == len(cached_params) and all(
            p is q and _bound(p, which) is v for p, q, v in zip(params, cached_params, views)
        ):
            return buffer
    buffer = np.empty(sum(p.numel() for p in params), dtype=np.float32)
    views, offset = [], 0
    for p in params:
        view = buffer[offset:offset + p.numel()].reshape(p.shape)
        if which == "data":
            view[...] = p._data
            p._rebind_data(view)
        else:
            p._rebind_grad(view)
        views.append(view)
        offset += p.numel()
    cache[owner] = (buffer, params, views)
    return buffer
