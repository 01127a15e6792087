"""``StateArray``: the values of ``Module.state_dict()``, ndarrays that are also Tensors.

API.md makes a state dict a dict of str -> ndarray; PyTorch scripts treat its values as
Tensors (``{k: v.clone() for k, v in sd.items()}`` to keep the best weights,
``v.cpu()``, ``v.view(-1)``, ``v.std()``, ``v.max(0)``). A ``StateArray`` is a
:class:`~fastnn.autograd.tensor_array.TensorArray` (an ndarray, and a Tensor outside the
graph, with PyTorch's meaning wherever the two APIs share a method name) on a copy of a
parameter's or buffer's values. The copying and moving methods scripts call on state-dict
values (``clone``, ``detach``, ``cpu``, ``to``, ``float``) give ``StateArray`` s again, so a
kept copy is still an ndarray; other Tensor methods give plain Tensors, as on ``p.data``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor_array import TensorArray


class StateArray(TensorArray):
    """A state-dict value: an ndarray and a Tensor outside the graph (module docstring)."""

    def clone(self, *args: Any, **kwargs: Any) -> StateArray:  # noqa: ARG002 - torch's memory_format
        """A copy (a ``StateArray``)."""
        return np.ndarray.copy(self)

    def detach(self) -> StateArray:
        """The array itself (it is on no graph)."""
        return self

    def cpu(self, *args: Any, **kwargs: Any) -> StateArray:  # noqa: ARG002 - torch's memory_format
        """The array itself (fastnn runs on the CPU)."""
        return self

    def float(self) -> StateArray:
        """float32 values (the array itself when already float32)."""
        return self if self.dtype == np.float32 else np.ndarray.astype(self, np.float32)

    def to(self, *args: Any, **kwargs: Any) -> StateArray:
        """The array itself for a device (``"cpu"``), a copy for another dtype."""
        for target in (*args, *kwargs.values()):
            if isinstance(target, str) or type(target).__name__ == "device":
                if str(target) != "cpu":
                    raise RuntimeError(f"to(): fastnn runs on the CPU only, got {target!r}")
            elif isinstance(target, bool):
                continue  # non_blocking / copy
            elif target is not None:
                dtype = np.dtype(target)
                return self if dtype == self.dtype else np.ndarray.astype(self, dtype)
        return self
