"""``shard``: this rank's sample indices for one epoch of data-parallel training."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ._mpi import comm, rank, world_size


def shard(n_samples: int, seed: int | None = None, epoch: int = 0) -> np.ndarray:
    r"""The indices of the samples this rank trains on in ``epoch``.

    All ranks compute the same order of the samples: the permutation
    ``np.random.default_rng([seed, epoch]).permutation(n_samples)`` when
    ``seed`` is given (a new one each epoch), the identity ``0, 1, ...`` when
    it is ``None``. The order is cut to :math:`n = W\lfloor N / W \rfloor`
    samples (the last :math:`N \bmod W` are left out of this epoch) and rank
    :math:`r` takes every :math:`W`-th one, starting at :math:`r`:
    ``order[:n][r::W]``. Shards are disjoint, of equal size :math:`n / W` (so
    every rank runs the same number of steps) and together cover ``order[:n]``.

    Because the shards are strided, rank :math:`r`'s :math:`k`-th batch of
    size :math:`b` and the other ranks' :math:`k`-th batches make up exactly
    the :math:`k`-th batch of size :math:`Wb` of ``order[:n]``: data-parallel
    training over :math:`W` ranks with batch :math:`b` takes the same steps as
    one process with batch :math:`Wb` over the same order.

    Args:
        n_samples (int): the number of samples :math:`N \ge 0`.
        seed (int, optional): seeds the permutation; the same on every rank.
            ``None`` keeps the samples in order. Default: ``None``.
        epoch (int): the epoch, >= 0; mixed into the seed. Default: 0.

    Returns:
        np.ndarray: int64 indices, shape :math:`(\lfloor N / W \rfloor,)`.

    Example::

        >>> idx = fn.distributed.shard(len(X), seed=0, epoch=epoch)
        >>> loader = fn.data.DataLoader(X[idx], y[idx], batch_size=64)
    """
    func = "shard()"
    n_samples = check_int(n_samples, func, "n_samples", low=0)
    if seed is not None:
        seed = check_int(seed, func, "seed", low=0)
    epoch = check_int(epoch, func, "epoch", low=0)
    comm(func)  # refuses an MPI launch without init()
    size = world_size()
    if seed is None:
        order = np.arange(n_samples, dtype=np.int64)
    else:
        order = np.random.default_rng([seed, epoch]).permutation(n_samples).astype(np.int64)
    return order[: n_samples - n_samples % size][rank()::size]
