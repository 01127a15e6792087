"""DataLoader: mini-batches over in-memory NumPy arrays, optionally reshuffled each epoch.

X is converted once to float32 C-contiguous at construction; y keeps its role
(integer labels become int64, float targets float32). Every batch is a new
C-contiguous array, as PyTorch's loader gives (writing into one, e.g. an in-place
augmentation, never touches the caller's data): without shuffling batch i copies
``X[i*b:(i+1)*b]``; with shuffling each epoch draws a fresh permutation ``p`` and
batch i gathers ``X[p[i*b:(i+1)*b]]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _random
from .._validation import as_array, as_float32, check_flag, check_int, shape_str

_FUNC = "DataLoader()"
_INT64_MAX = np.iinfo(np.int64).max


def _as_targets(y: Any, func: str) -> np.ndarray:
    """Returns ``y`` as a C-contiguous int64 (integer labels), float32 (float targets) or
    bool array (bool labels or targets are kept, as PyTorch's loader keeps them; the losses
    take them converted: ``yb.astype(np.int64)`` for cross-entropy, ``np.float32`` for
    BCE).

    Unsigned labels of 2**63 and more, which int64 would wrap to negative ones,
    raise ``ValueError``."""
    a = as_array(y, func, "y")
    if a.ndim == 0:  # checked first: ascontiguousarray would promote a scalar to shape (1,)
        raise ValueError(f"{func}: argument 'y' must have at least 1 dimension, got a scalar")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and a.max() > _INT64_MAX:
        raise ValueError(
            f"{func}: argument 'y' holds the label {a.max()}, above the int64 range of labels"
        )
    if a.dtype.kind in "iu":
        return np.ascontiguousarray(a, dtype=np.int64)
    if a.dtype.kind == "f":
        return np.ascontiguousarray(a, dtype=np.float32)
    if a.dtype.kind == "b":
        return np.ascontiguousarray(a)
    raise TypeError(
        f"{func}: argument 'y' must have an integer (labels), float (targets) or bool dtype, "
        f"got {a.dtype}"
    )


class DataLoader:
    r"""Iterates over ``(X, y)`` in mini-batches, reshuffled every epoch when asked.

    Each ``for`` loop over the loader is one epoch: it yields
    :math:`\lceil N / \text{batch\_size} \rceil` batches (or
    :math:`\lfloor N / \text{batch\_size} \rfloor` with ``drop_last=True``),
    the last one smaller when ``batch_size`` does not divide :math:`N`.

    ``X`` is converted once, here, to a float32 C-contiguous array (float64 and
    integer inputs are accepted; bool, complex, object and string dtypes raise
    ``TypeError``). ``y`` is kept as a NumPy array: integer labels become int64,
    float targets float32, bool labels stay bool (convert a batch for the loss:
    ``yb.astype(np.int64)`` for cross-entropy, ``np.float32`` for BCE; ``fit`` does that
    itself).

    Each batch is a fresh C-contiguous array (writing into it leaves ``X`` and
    ``y`` as they were); with shuffling it is gathered by a permutation drawn anew
    at the start of every epoch.

    Args:
        X (array_like): the inputs, shape :math:`(N, *)` with :math:`N \ge 1`.
        y (array_like, optional): the targets, shape :math:`(N, *)`. When None
            (default) the loader yields ``xb`` alone instead of ``(xb, yb)``.
        batch_size (int): samples per batch, >= 1. Default: 32.
        shuffle (bool): draw a new permutation of the samples at every epoch.
            Default: False.
        drop_last (bool): drop the last batch when it is smaller than
            ``batch_size``. Default: False.
        seed (int, optional): makes the epoch permutations reproducible: the
            :math:`e`-th epoch (counting from 0) of this loader is gathered by
            ``np.random.default_rng([seed, e]).permutation(N)``, the order
            :func:`fastnn.distributed.shard` cuts, so one process with batch
            :math:`Wb` takes the same steps as :math:`W` ranks with batch
            :math:`b` and the same seed. When None (default) the permutations
            come from fastnn's global generator (seeded by :func:`fastnn.manual_seed`).

    Shape:
        - X: :math:`(N, *)`; each ``xb``: :math:`(B, *)` float32, :math:`B \le` ``batch_size``.
        - y: :math:`(N, *)`; each ``yb``: :math:`(B, *)`, int64 or float32.

    Examples::

        >>> import numpy as np
        >>> from fastnn.data import DataLoader
        >>> X = np.arange(20, dtype=np.float32).reshape(10, 2)
        >>> y = np.arange(10)
        >>> loader = DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
        >>> len(loader)
        3
        >>> [xb.shape[0] for xb, yb in loader]
        [4, 4, 2]
    """

    def __init__(self, X: Any, y: Any = None, batch_size: int = 32, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None) -> None:
        X = as_float32(X, _FUNC, "X")  # keeps a scalar 0-d
        if X.ndim == 0:
            raise ValueError(f"{_FUNC}: argument 'X' must have at least 1 dimension, got a scalar")
        if X.shape[0] == 0:
            raise ValueError(f"{_FUNC}: argument 'X' is empty (shape {shape_str(X.shape)})")
        if y is not None:
            y = _as_targets(y, _FUNC)
            if y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{_FUNC}: X and y must have the same length, got len(X) = {X.shape[0]} "
                    f"and len(y) = {y.shape[0]}"
                )
        self.batch_size = check_int(batch_size, _FUNC, "batch_size", low=1)
        self.shuffle = check_flag(shuffle, _FUNC, "shuffle")
        self.drop_last = check_flag(drop_last, _FUNC, "drop_last")
        if seed is not None:
            check_int(seed, _FUNC, "seed", low=0)
        self.seed = seed
        self._X = X
        self._y = y
        self._epochs_drawn = 0  # shuffled epochs started so far (the next one's number)

    @property
    def X(self) -> np.ndarray:
        """The inputs as float32 C-contiguous, shape :math:`(N, *)`."""
        return self._X

    @property
    def y(self) -> np.ndarray | None:
        """The targets (int64, float32 or bool), or None."""
        return self._y

    @property
    def dataset_size(self) -> int:
        """The number of samples :math:`N`."""
        return self._X.shape[0]

    def __len__(self) -> int:
        n, b = self.dataset_size, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[Any]:
        return self._epoch(views=False)

    def _epoch(self, views: bool) -> Iterator[Any]:
        """One epoch's batches; ``views=True`` lets unshuffled batches be views into ``X``
        and ``y`` (for fastnn's own loops, which only read them: no copy per step)."""
        # The permutation is drawn here, when the epoch starts, not at the first next().
        order = None
        if self.shuffle:
            if self.seed is None:
                rng = _random.default_generator()
            else:  # the permutation of epoch e is fixed by [seed, e] (distributed.shard's)
                rng = np.random.default_rng([self.seed, self._epochs_drawn])
                self._epochs_drawn += 1
            order = rng.permutation(self.dataset_size)
        return self._batches(order, views)

    def _batches(self, order: np.ndarray | None, views: bool) -> Iterator[Any]:
        b = self.batch_size
        for i in range(len(self)):
            # basic slicing gives views (copied unless asked for views, so that the caller's
            # data stays untouched), fancy indexing C-contiguous copies
            sel: Any = slice(i * b, (i + 1) * b) if order is None else order[i * b:(i + 1) * b]
            xb = self._X[sel]
            yb = None if self._y is None else self._y[sel]
            if order is None and not views:
                xb = xb.copy()
                yb = None if yb is None else yb.copy()
            yield xb if yb is None else (xb, yb)

    def __repr__(self) -> str:
        y = "None" if self._y is None else f"{self._y.dtype}{shape_str(self._y.shape)}"
        return (
            f"DataLoader(X=float32{shape_str(self._X.shape)}, y={y}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}, batches={len(self)})"
        )
