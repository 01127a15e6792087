"""What ``fit(..., distributed=True)`` adds to the training loop, in one place.

* start: :func:`init`, :func:`broadcast_parameters`, one shuffling seed shared
  by all ranks (the root's), and fastnn's global generator reseeded per rank so
  dropout masks differ across ranks yet repeat for the same seed;
* per epoch: this rank's :func:`shard` of the training data and a strided
  share ``r::W`` of the validation data;
* sums and counts of losses and metrics added over ranks, so every rank logs
  the values of the whole data and callbacks decide alike on every rank;
* rank 0 alone prints and runs callbacks that write files;
* checks that every rank passed the same number of samples and the same settings
  (epochs, batch size, metrics, loss, optimizer, a fingerprint of the data), and one
  logical OR over ranks of ``model.stop_training`` wherever a callback could set it,
  so that every rank runs the same collectives (none waits forever) on the same data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _random
from ..callbacks import Callback, CSVLogger, ModelCheckpoint
from ..nn import Module
from ._mpi import abort, allgather, allreduce_sum, broadcast_object, init
from ._params import broadcast_parameters
from ._shard import shard

# Callbacks that write files: rank 0's copy alone runs (the others would write the same bytes).
ROOT_ONLY_CALLBACKS = (CSVLogger, ModelCheckpoint)


def fingerprint(*arrays: np.ndarray) -> tuple:
    """Shapes, dtypes and a hash of up to 64 evenly spaced rows of each array: cheap at
    any size, and different wherever ranks loaded different data (their own shards)."""
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        rows = np.unique(np.linspace(0, len(a) - 1, min(len(a), 64)).astype(np.int64))
        digest.update(np.ascontiguousarray(a[rows]).tobytes())
    return tuple((a.shape, str(a.dtype)) for a in arrays), digest.hexdigest()


def settings_of(obj: Any) -> dict[str, Any]:
    """What must agree across ranks in a loss (a fastnn loss's attributes; of another
    Module, its class alone: its attributes may differ per rank on purpose) or a parameter
    group (its entries but ``params``): numbers, strings, None and tuples of them, arrays
    (class weights) as :func:`fingerprint` s."""
    if isinstance(obj, dict):
        items = [(k, v) for k, v in obj.items() if k != "params"]
    elif type(obj).__module__.startswith("fastnn."):
        items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
    else:
        return {"class": f"{type(obj).__module__}.{type(obj).__qualname__}"}
    plain = (bool, int, float, str, type(None))
    out: dict[str, Any] = {}
    for k, v in items:
        if isinstance(v, plain) or (isinstance(v, tuple) and all(isinstance(e, plain)
                                                                 for e in v)):
            out[k] = v
        elif isinstance(v, np.ndarray) or hasattr(v, "_data"):  # an array or a Tensor
            out[k] = fingerprint(np.atleast_1d(np.asarray(getattr(v, "_data", v))))
    return out


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

    def check_sizes(self, n_train: int, n_val: int, func: str) -> None:
        """Raises the same ``ValueError`` on every rank unless all ranks passed the same
        number of training and validation samples, at least one training sample per rank
        (``fit`` shards one ``X`` itself: every rank passes all of it)."""
        sizes = allgather((n_train, n_val))
        for r, (n, v) in enumerate(sizes):
            if (n, v) != sizes[0]:
                raise ValueError(
                    f"{func}: rank {r} has {n} training and {v} validation samples, rank 0 "
                    f"{sizes[0][0]} and {sizes[0][1]}; with distributed=True pass the same X "
                    "(and validation data) on every rank: fit gives each rank its shard")
        if n_train < self.size:
            raise ValueError(f"{func}: {n_train} training samples cannot be shared among "
                             f"{self.size} ranks (distributed=True needs at least one per rank)")

    def check_same(self, settings: dict[str, Any], func: str) -> None:
        """Raises the same ``ValueError`` on every rank unless every rank passed the same
        ``settings`` (``fit``'s: a rank with other epochs waited forever in a collective,
        other batch sizes or metrics aborted MPI with "Message truncated", another
        learning rate or other data trained silently apart)."""
        every = allgather(settings)
        for r, theirs in enumerate(every):
            for key, value in every[0].items():
                if repr(theirs.get(key)) == repr(value):  # NaN settings equal theirs
                    continue
                if key in ("data", "validation data") and value and theirs.get(key):
                    what = (f"other {key} than rank 0 (shapes and dtypes {theirs[key][0]} and "
                            f"{value[0]})" if theirs[key][0] != value[0] else
                            f"{key} of rank 0's shapes with other values")  # fingerprint()
                else:
                    what = f"{key} {theirs.get(key)!r} where rank 0 passed {value!r}"
                raise ValueError(f"{func}: rank {r} passed {what}; with distributed=True call "
                                 "fit with the same arguments and data on every rank (fit "
                                 "gives each rank its shard)")

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any rank (one small collective)."""
        return self.sum([float(bool(flag))])[0] > 0

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

    def from_root(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (one broadcast)."""
        return broadcast_object(value)

    def sum(self, values: list[float]) -> list[float]:
        return allreduce_sum(np.asarray(values, dtype=np.float64)).tolist()

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Discards what the block prints and warns on every rank but 0 (the ranks' losses
        and metrics are reduced, so rank 0's warnings speak for all), and aborts the job
        when the block exits the process on this rank alone (:meth:`_abort_on_exit`)."""
        with self._abort_on_exit():
            if self.is_root:
                yield
                return
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield

    @contextlib.contextmanager
    def _abort_on_exit(self) -> Iterator[None]:
        """An exception, ``sys.exit()`` (SystemExit, e.g. from a callback) or
        KeyboardInterrupt on one rank inside the epochs: the other ranks wait in a
        collective for this one, and would wait forever if the script caught the error and
        went on, or in MPI_Finalize if it exited. Ends the job instead (MPI_Abort, the exit
        status or 1, the traceback printed first), as ``init``'s hook does for an uncaught
        exception."""
        try:
            yield
        except BaseException as e:
            if self.size > 1:
                code = e.code if isinstance(e, SystemExit) else None
                status = code if isinstance(code, int) and code != 0 else 1
                if not isinstance(e, (SystemExit, KeyboardInterrupt)):
                    traceback.print_exc(file=sys.stderr)
                print(f"fastnn.distributed: rank {self.rank}: {type(e).__name__} inside "
                      "fit(distributed=True) while the other ranks train: aborting the job "
                      f"(status {status})", file=sys.stderr)
                abort(status)
            raise
