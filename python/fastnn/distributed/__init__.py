"""fastnn.distributed: data-parallel training over MPI (mpi4py).

Run the same script on every process, e.g. ``mpiexec -n 4 python train.py``.
Each rank holds a full copy of the model, trains on its own shard of every
batch and averages the gradients with one ``Allreduce`` per step, so all ranks
take the same optimizer steps::

    rank, world_size = fn.distributed.init()
    fn.distributed.broadcast_parameters(model)        # everyone starts from rank 0's weights
    for epoch in range(epochs):
        idx = fn.distributed.shard(len(X), seed=0, epoch=epoch)
        for xb, yb in fn.data.DataLoader(X[idx], y[idx], batch_size=64):
            optimizer.zero_grad()
            value = loss_fn(model(xb), yb)
            model.backward(loss_fn.backward())
            fn.distributed.allreduce_gradients(model)  # mean over ranks
            optimizer.step()

or simply ``fn.fit(..., distributed=True)``. With ``W`` ranks and per-rank
batch ``b`` this follows the trajectory of one process with batch ``W * b``
over the same samples (to float rounding).

mpi4py (``pip install 'fastnn[dist]'``) is imported by :func:`init` only.
Before ``init()`` the process is a world of one (rank 0, size 1) and every
function here works without MPI.
"""

from ._mpi import init, is_initialized, rank, world_size
from ._params import allreduce_gradients, broadcast_parameters, flatten_gradients
from ._shard import shard

__all__ = [
    "allreduce_gradients", "broadcast_parameters", "flatten_gradients", "init", "is_initialized",
    "rank", "shard", "world_size",
]
