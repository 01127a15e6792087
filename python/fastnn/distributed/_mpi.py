"""The MPI runtime behind ``fastnn.distributed``: lazy mpi4py import, init, rank, size.

mpi4py is imported only by :func:`init` (``import fastnn`` never touches MPI).
Before ``init()`` the process is a world of one: rank 0, size 1.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Any, NoReturn

import numpy as np

from .._runtime import update_cpu_limit

_INSTALL_HINT = "pip install 'fastnn[dist]'"
# Process counts that MPI launchers put in each process's environment: MPICH/Hydra, Open MPI.
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")

# Seconds a rank waits between flushing its output and MPI_Abort. The launcher forwards each
# rank's stdout/stderr through its own pipes and, once one rank aborts, kills the job without
# draining them: with no pause, a loaded machine can lose every rank's traceback.
_OUTPUT_GRACE_S = 0.5

_comm: Any = None  # mpi4py's COMM_WORLD once init() ran
_alone = False  # init() ran without MPI, outside a launcher: a world of one


def _import_mpi(func: str) -> Any:
    # mpi4py without an MPI library raises RuntimeError ("cannot load MPI library") here.
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as err:
        raise ImportError(
            f"fastnn.distributed.{func} needs mpi4py and an MPI library: {_INSTALL_HINT} "
            f"(installs mpi4py and the mpich wheel) ({type(err).__name__}: "
            f"{(str(err).splitlines() or [''])[0]})"
        ) from err
    return MPI


def init() -> tuple[int, int]:
    """Initialises MPI (once) and returns ``(rank, world_size)``.

    Safe to call more than once. Also installs an exception hook: an uncaught
    exception on any rank prints its traceback and aborts the whole job
    (``MPI_Abort``, exit status 1), so the other ranks never wait forever in a
    collective for a rank that died (what ``python -m mpi4py`` does). Ranks started
    on one machine without CPU binding share its CPUs: each gets ``CPUs // ranks``
    OpenMP threads (at least one) unless ``OMP_NUM_THREADS`` or
    ``fn.set_num_threads`` chose a count.

    Returns:
        tuple[int, int]: this process's rank and the number of processes.

    Without mpi4py or an MPI library, in a process no MPI launcher started, it warns
    and the process is a world of one (rank 0 of 1), so that a script written for
    ``mpiexec`` also runs as one plain process.

    Raises:
        ImportError: an MPI launcher started this process (and others) but mpi4py or an
            MPI library for it is not installed (``pip install 'fastnn[dist]'``).

    Example::

        >>> # mpiexec -n 4 python train.py
        >>> rank, world_size = fn.distributed.init()
    """
    global _comm, _alone
    if _alone:
        return 0, 1
    if _comm is None:
        try:
            MPI = _import_mpi("init()")
        except ImportError as err:
            if _launcher_size() is not None:
                raise
            warnings.warn(f"{err}; running as a world of one (rank 0 of 1)", RuntimeWarning,
                          stacklevel=2)
            _alone = True
            return 0, 1
        update_cpu_limit()  # some MPI libraries bind each rank to its CPUs only now
        _comm = MPI.COMM_WORLD
        if _comm.Get_size() > 1:
            _install_abort_hook(_comm)
            _share_cores_among_local_ranks(MPI, _comm)
    return _comm.Get_rank(), _comm.Get_size()


def _share_cores_among_local_ranks(MPI: Any, comm: Any) -> None:
    """Ranks on one machine that may run on the same CPUs (the same affinity mask: no
    binding by the launcher) split them: each takes ``default // ranks`` threads, at least
    one, instead of every rank starting a thread per CPU (oversubscribed, every barrier
    waits for a descheduled thread). Ranks bound to their own CPUs keep them all. The
    user's choice (``OMP_NUM_THREADS``, ``fn.set_num_threads``) is left alone.
    Collective: every rank calls it from ``init()``."""
    from .._runtime import default_num_threads, set_default_num_threads, threads_chosen_by_user

    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        mask = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        masks = local.allgather(mask)
    finally:
        local.Free()
    sharing = sum(m == mask for m in masks)
    default = default_num_threads()
    if sharing > 1 and default is not None and not threads_chosen_by_user():
        set_default_num_threads(max(1, default // sharing))


def _install_abort_hook(comm: Any) -> None:
    previous = sys.excepthook

    def abort_on_exception(exc_type, exc, tb) -> None:
        previous(exc_type, exc, tb)  # the traceback first
        _flush_then_abort(comm, 1)

    sys.excepthook = abort_on_exception


def _flush_then_abort(comm: Any, status: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(_OUTPUT_GRACE_S)  # let the launcher forward what was flushed
    comm.Abort(status)


def abort(status: int) -> NoReturn:
    """Ends every rank of the job with ``status`` (``MPI_Abort``); ``sys.exit`` in a world of one.

    A rank that merely exits while others wait in a collective hangs the job:
    ``MPI_Finalize`` at exit waits for the ranks that wait for it.
    """
    c = comm("abort()")
    if c is None:
        sys.exit(status)
    _flush_then_abort(c, status)
    raise SystemExit(status)  # Abort does not return; this tells type checkers so


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process."""
    return _comm is not None or _alone


def rank() -> int:
    """This process's rank in ``[0, world_size())``; 0 before :func:`init`."""
    return 0 if _comm is None else _comm.Get_rank()


def world_size() -> int:
    """The number of processes; 1 before :func:`init`."""
    return 1 if _comm is None else _comm.Get_size()


def comm(func: str) -> Any:
    """COMM_WORLD, or None in a world of one; refuses an MPI launch without :func:`init`.

    Without ``init()`` each process would train alone and silently compute a
    different model per rank, so a launcher-set process count > 1 is an error.
    """
    if _comm is None:
        launched = _launcher_size()
        if launched is not None:
            var, size = launched
            raise RuntimeError(
                f"fastnn.distributed.{func}: this process was started by an MPI launcher "
                f"with {size} processes ({var}), but fastnn.distributed.init() was not "
                "called: call it first"
            )
        return None
    return _comm if _comm.Get_size() > 1 else None


def _launcher_size() -> tuple[str, int] | None:
    """``(variable, processes)`` where an MPI launcher started more than one process."""
    for var in _LAUNCHER_SIZE_VARS:
        size = os.environ.get(var, "1")
        if size.isdigit() and int(size) > 1:
            return var, int(size)
    return None


def allreduce_sum(values: np.ndarray) -> np.ndarray:
    """Sums a small float64 array over all ranks (in place) and returns it."""
    c = comm("allreduce_sum()")
    if c is not None:
        from mpi4py import MPI

        c.Allreduce(MPI.IN_PLACE, values, op=MPI.SUM)
    return values


def allgather(value: Any) -> list[Any]:
    """Every rank's ``value``, in rank order, on every rank (pickled; for small objects)."""
    c = comm("allgather()")
    return [value] if c is None else c.allgather(value)


def broadcast_object(value: Any, root: int = 0) -> Any:
    """The root's ``value`` on every rank (pickled; for small objects)."""
    c = comm("broadcast_object()")
    return value if c is None else c.bcast(value, root=root)
