"""What ``fit(..., distributed=True)`` adds to the training loop, in one place.

* start: :func:`init`, :func:`broadcast_parameters`, one shuffling seed shared
  by all ranks (the root's), and fastnn's global generator reseeded per rank so
  dropout masks differ across ranks yet repeat for the same seed;
* per epoch: this rank's :func:`shard` of the training data and a strided
  share ``r::W`` of the validation data;
* sums and counts of losses and metrics added over ranks, so every rank logs
  the values of the whole data and callbacks decide alike on every rank;
* rank 0 alone prints and runs callbacks that write files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

from .. import _random
from ..callbacks import Callback, CSVLogger, ModelCheckpoint
from ..nn import Module
from ._mpi import allreduce_sum, broadcast_object, init
from ._params import broadcast_parameters
from ._shard import shard

# Callbacks that write files: rank 0's copy alone runs (the others would write the same bytes).
ROOT_ONLY_CALLBACKS = (CSVLogger, ModelCheckpoint)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s global generator: child ``rank`` of ``seed``'s SeedSequence."""
    state = np.random.SeedSequence(seed, spawn_key=(rank,)).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


class FitContext:
    """The distributed state of one ``fit`` call (built once, at its start)."""

    def __init__(self, model: Module, seed: int | None) -> None:
        self.rank, self.size = init()
        broadcast_parameters(model)
        self.seed: int = broadcast_object(_random.next_seed() if seed is None else seed)
        _random.manual_seed(rank_seed(self.seed, self.rank))

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def train_indices(self, n_samples: int, epoch: int, shuffle: bool) -> np.ndarray:
        return shard(n_samples, self.seed if shuffle else None, epoch)

    def val_share(self, n_samples: int) -> slice:
        return slice(self.rank, n_samples, self.size)

    def callbacks(self, callbacks: list[Callback]) -> list[Callback]:
        if self.is_root:
            return callbacks
        return [cb for cb in callbacks if not isinstance(cb, ROOT_ONLY_CALLBACKS)]

    def sum(self, values: list[float]) -> list[float]:
        return allreduce_sum(np.asarray(values, dtype=np.float64)).tolist()

    def batch_loss(self, value: float, sum_reduction: bool) -> float:
        """The loss of the global batch: the sum over ranks, or their mean (equal batches)."""
        total = self.sum([value])[0]
        return total if sum_reduction else total / self.size

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Discards what the block prints on every rank but 0."""
        if self.is_root:
            yield
            return
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            yield
