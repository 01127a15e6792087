"""What a model's last forward left for its ``backward``, kept across ``evaluate`` / ``predict``.

On the NumPy path a module's ``backward(grad_out)`` uses what its last forward saved (a
Linear's input, an activation's output, a loss's inputs and gradient, the graph of a
forward-only Module called on arrays). ``predict`` and ``evaluate`` run forwards too:
without this, ``m(x); fn.predict(m, x2); m.backward(g)`` computed the gradients for
``x2``, silently when the shapes matched. PyTorch's inference under ``no_grad`` leaves
the training graph alone; so do these, by restoring every module's private attributes
(where the layers keep those values) as they were before the pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..nn import Module, numpy_call

# A Module's own bookkeeping, not a forward's: never saved or restored. ``_version``
# counts public attribute assignments (TrainStep re-plans on a change), so a change
# made during the pass must stay visible.
_STRUCTURE = frozenset({"_parameters", "_modules", "_buffers", "_non_persistent", "_version"})
_ABSENT = object()  # a module without a graph entry


def _private_state(m: Module) -> dict[str, Any]:
    return {k: v for k, v in vars(m).items() if k.startswith("_") and k not in _STRUCTURE}


@contextmanager
def forward_state_kept(*tops: Module) -> Iterator[None]:
    """Runs the block, then restores the forward state of every module under ``tops``."""
    saved = []
    for top in tops:
        for m in top.modules():
            graph = numpy_call._graphs.get(m, _ABSENT) if numpy_call.has_call(m) else _ABSENT
            saved.append((m, _private_state(m), graph))
    try:
        yield
    finally:
        for m, private, graph in saved:
            d = vars(m)
            for k in [k for k in d if k.startswith("_") and k not in _STRUCTURE
                      and k not in private]:
                del d[k]
            d.update(private)
            if graph is _ABSENT:
                numpy_call._graphs.pop(m, None)
            else:
                numpy_call._graphs[m] = graph
