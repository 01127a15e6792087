"""The NumPy path of a Module written with autograd (``forward`` only, PyTorch style).

API.md: a module called on an ndarray returns an ndarray and keeps
``backward(grad_out) -> grad_in``. The built-in layers and models that define their own
``backward`` do that themselves. A subclass that defines only ``forward`` gets it here:
its float ndarray arguments become Tensors that require grad (float32, as everywhere),
``forward`` runs recording a graph, and the output comes back as an ndarray (a copy).
``backward(grad_out)`` then back-propagates ``grad_out`` through that graph: parameter
gradients accumulate into ``p.grad`` as the NumPy path's layers do, and it returns the
gradient of the (first) input, or a tuple for several inputs. The graph is kept until
the next call (as a layer keeps its input), so ``backward`` may run more than once. It
is kept beside the module (a weak-keyed table), not in it: copying or pickling a module
never carries a graph.

A ``forward`` that returns no Tensor (NumPy-only code) returns what it returned, and
has no ``backward``; under ``no_grad`` nothing is recorded.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .._validation import as_float32
from ..autograd.creation import tensor
from ..autograd.grad_mode import _state
from ..autograd.tensor import Tensor

# module -> (input Tensors, output Tensor) of its last call on ndarrays, or None when that
# call recorded nothing (a non-Tensor result, or no_grad)
_graphs: weakref.WeakKeyDictionary[Any, tuple | None] = weakref.WeakKeyDictionary()


def has_call(module: Any) -> bool:
    """Whether ``module`` was called on ndarrays here (so ``backward`` is this file's)."""
    return module in _graphs


def takes_numpy_path(args: tuple, kwargs: dict) -> bool:
    """Whether a call of a module that defines no ``backward`` of its own runs here: on
    ndarrays (and no Tensors). ``Module.__call__`` checks the ``backward``."""
    if any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
        return False
    return any(isinstance(a, np.ndarray) for a in args)


def call(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module.forward`` on Tensors made from the ndarray ``args``; the output as an
    ndarray, with the graph kept for :func:`backward`."""
    record = _state.enabled
    inputs = tuple(_as_input(a, record) for a in args)
    out = module.forward(*inputs, **kwargs)
    if not isinstance(out, Tensor):
        _graphs[module] = None
        return out
    _graphs[module] = (inputs, out) if record and out.requires_grad else None
    return np.array(out.detach().numpy())


def backward(module: Any, grad_out: Any) -> Any:
    """The input gradient(s) of the last :func:`call`, parameter gradients accumulated."""
    graph = _graphs.get(module)
    if graph is None:
        raise RuntimeError(f"{type(module).__name__}.backward() needs a forward on NumPy "
                           "arrays with a Tensor result first (the graph it recorded); a "
                           "module called on Tensors back-propagates with loss.backward()")
    inputs, out = graph
    # as the built-in layers: bool, complex, object (None) and strings are a TypeError
    g = as_float32(grad_out._data if isinstance(grad_out, Tensor) else grad_out,
                   f"{type(module).__name__}.backward()", "grad_out")
    if g.shape != tuple(out.shape):
        raise ValueError(f"{type(module).__name__}.backward(): argument 'grad_out' has shape "
                         f"{g.shape}, expected the output's {tuple(out.shape)}")
    leaves = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in leaves:
        t.grad = None
    out.backward(tensor(g), retain_graph=True)
    grads = tuple(None if not (isinstance(t, Tensor) and t.requires_grad) or t.grad is None
                  else np.array(t.grad.numpy()) for t in inputs)
    return grads[0] if len(grads) == 1 else grads


def _as_input(a: Any, record: bool) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        t = tensor(a)  # float32, a copy
        if record:
            t.requires_grad_(True)
        return t
    if isinstance(a, np.ndarray) and a.dtype.kind in "iub":
        return tensor(a)
    return a
