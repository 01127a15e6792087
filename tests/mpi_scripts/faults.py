"""Run by tests/test_distributed.py as ``mpiexec -n 2 python faults.py MODE``: jobs that must
end promptly with a non-zero exit status instead of hanging.

* ``raise``: the last rank raises while the others wait in ``allreduce_gradients``;
  the exception hook installed by ``init()`` prints the traceback and aborts the job.
* ``mismatch``: the last rank's model has another shape; ``broadcast_parameters``
  raises the same ValueError on every rank, uncaught.
* ``fit_argument``: without calling ``init()`` itself, the last rank passes ``fit`` a bad
  argument while the others start training; ``fit(distributed=True)`` initialises MPI
  before it checks its arguments, so the hook aborts the job.
* ``callback_exit``: a callback calls ``sys.exit(3)`` on the last rank in the second
  epoch of ``fit(distributed=True)``; SystemExit bypasses the hook, so ``fit`` itself
  aborts the job with status 3 (the others wait in a collective: the job would hang).
* ``caught_error``: a callback raises on the last rank in the second epoch and the script
  catches the error around ``fit`` and goes on; ``fit`` aborts the job (status 1) before
  the others could wait for that rank forever.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import fastnn as fn
from fastnn import distributed

mode = sys.argv[1]
# Set by the launcher before MPI starts: MPICH's mpiexec, or Open MPI's.
rank = os.environ.get("PMI_RANK") or os.environ["OMPI_COMM_WORLD_RANK"]
size = os.environ.get("PMI_SIZE") or os.environ["OMPI_COMM_WORLD_SIZE"]
last = int(rank) == int(size) - 1
fn.manual_seed(0)
hidden = 9 if mode == "mismatch" and last else 8
model = fn.nn.Sequential(fn.nn.Linear(4, hidden), fn.nn.ReLU(), fn.nn.Linear(hidden, 2))
if mode == "fit_argument":
    X, y = np.ones((8, 4), dtype=np.float32), np.zeros(8, dtype=np.int64)
    fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", batch_size=0 if last else 2,
           verbose=0, distributed=True)
elif mode == "callback_exit":

    class ExitOnTheLastRank(fn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if last and epoch == 1:
                sys.exit(3)

    X, y = np.ones((16, 4), dtype=np.float32), np.zeros(16, dtype=np.int64)
    fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", batch_size=2, epochs=4,
           callbacks=[ExitOnTheLastRank()], verbose=0, distributed=True)
elif mode == "caught_error":

    class FailOnTheLastRank(fn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if last and epoch == 1:
                raise OSError("the last rank's callback fails on purpose")

    X, y = np.ones((16, 4), dtype=np.float32), np.zeros(16, dtype=np.int64)
    try:
        fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", batch_size=2, epochs=4,
               callbacks=[FailOnTheLastRank()], verbose=0, distributed=True)
    except OSError:
        pass
    distributed.allreduce_gradients(model)  # the other ranks would wait here forever
else:
    distributed.init()
    distributed.broadcast_parameters(model)
    if last:
        raise RuntimeError("the last rank fails on purpose")
    distributed.allreduce_gradients(model)  # waits for the rank that died
print("unreachable: the job went on without the failed rank")
