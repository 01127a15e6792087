"""What a model's last forward left for its ``backward``, kept across ``evaluate`` / ``predict``.

On the NumPy path a module's ``backward(grad_out)`` uses what its last forward saved (a
Linear's input, an activation's output, a loss's inputs and gradient, the graph of a
forward-only Module called on arrays). ``predict`` and ``evaluate`` run forwards too:
without this, ``m(x); fn.predict(m, x2); m.backward(g)`` computed the gradients for
``x2``, silently when the shapes matched. PyTorch's inference under ``no_grad`` leaves
the training graph alone; so do these, by putting back the attributes each module class
declares in ``_saved_for_backward`` (and the graph of a forward-only module), and only
those: anything else a forward changes (a layer built lazily, a counter) stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..nn import Module, numpy_call

_ABSENT = object()  # an attribute (or graph entry) that was not there


@contextmanager
def forward_state_kept(*tops: Module) -> Iterator[None]:
    """Runs the block, then restores the forward state of every module under ``tops``."""
    saved = []
    for top in tops:
        for m in top.modules():
            d = vars(m)
            values = {k: d.get(k, _ABSENT) for k in type(m)._saved_for_backward}
            graph = numpy_call._graphs.get(m, _ABSENT)
            saved.append((m, values, graph))
    try:
        yield
    finally:
        for m, values, graph in saved:
            d = vars(m)
            for k, v in values.items():
                if v is _ABSENT:
                    d.pop(k, None)
                else:
                    d[k] = v
            if graph is _ABSENT:
                numpy_call._graphs.pop(m, None)
            else:
                numpy_call._graphs[m] = graph
