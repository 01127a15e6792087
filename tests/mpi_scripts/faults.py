"""Run by tests/test_distributed.py as ``mpiexec -n 2 python faults.py MODE``: jobs that must
end promptly with a non-zero exit status instead of hanging.

* ``raise``: the last rank raises while the others wait in ``allreduce_gradients``;
  the exception hook installed by ``init()`` prints the traceback and aborts the job.
* ``mismatch``: the last rank's model has another shape; ``broadcast_parameters``
  raises the same ValueError on every rank, uncaught.
"""

from __future__ import annotations

import sys

import fastnn as fn
from fastnn import distributed

mode = sys.argv[1]
rank, size = distributed.init()
fn.manual_seed(0)
hidden = 9 if mode == "mismatch" and rank == size - 1 else 8
model = fn.nn.Sequential(fn.nn.Linear(4, hidden), fn.nn.ReLU(), fn.nn.Linear(hidden, 2))
distributed.broadcast_parameters(model)
if rank == size - 1:
    raise RuntimeError(f"rank {rank} fails on purpose")
distributed.allreduce_gradients(model)  # waits for the rank that died
print("unreachable: the collective completed without the failed rank")
