"""Thread control and build facts: ``set_num_threads``, ``get_num_threads``, ``info``."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import _core
from ._core_loader import wait_policy
from ._validation import check_int


def _cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """CPUs this process may use under a cgroup CPU quota (containers, CI runners), or
    ``None`` without one. cgroup v2 ``cpu.max`` ("quota period"), else v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; rounded up, at least 1."""
    try:
        text = (root / "cpu.max").read_text().split()
        quota, period = (None if text[0] == "max" else int(text[0])), int(text[1])
    except (OSError, ValueError, IndexError):
        try:
            quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
            period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            return None
        if quota <= 0:
            quota = None
    if quota is None or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def _affinity_cpus() -> int:
    """The CPUs in the process's affinity mask (its main thread's, not the calling
    thread's: a Python thread pinned to one CPU must not cap every thread's kernels)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(os.getpid()))
    return os.cpu_count() or 1


def _capped(cpus: int, quota: int | None) -> int:
    return max(1, cpus if quota is None else min(cpus, quota))


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota
    (OpenMP alone counts the affinity mask but not the quota, and would oversubscribe a
    throttled container)."""
    return _capped(_affinity_cpus(), _cgroup_cpu_limit())


# A container's CPU quota is fixed for its life: read once here for update_cpu_limit,
# which every set_num_threads calls (reading the cgroup files took about 37 us; the
# affinity mask is one system call).
_QUOTA = _cgroup_cpu_limit()


def update_cpu_limit() -> None:
    """Tells the kernels how many CPUs there are: a parallel region runs at most
    ``usable_cpus()`` threads, whatever the thread count (threads.h, team_threads).
    ``FASTNN_CPU_LIMIT=N`` sets another cap, ``0`` none (for tests and benchmarks that
    need teams larger than the machine)."""
    env = os.environ.get("FASTNN_CPU_LIMIT")
    if env is not None:
        try:
            limit = int(env)
            if limit < 0:
                raise ValueError
        except ValueError:
            warnings.warn(f"FASTNN_CPU_LIMIT={env!r} is not a CPU count (0 or more): "
                          "the CPUs this process may use apply", RuntimeWarning, stacklevel=2)
        else:
            _core._set_cpu_limit(limit)
            return
    _core._set_cpu_limit(_capped(_affinity_cpus(), _QUOTA))


def default_num_threads() -> int | None:
    """The thread count fastnn starts with when ``OMP_NUM_THREADS`` is unset:
    ``usable_cpus()``. ``None`` when ``OMP_NUM_THREADS`` is set: OpenMP's own choice
    stands."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return usable_cpus()


# Whether the thread count is the user's (set_num_threads, OMP_NUM_THREADS) rather than
# fastnn's default: fastnn.distributed.init() shares the default among the ranks of a node.
_chosen_by_user = False


_MAX_THREADS = 2**31 - 1


def set_num_threads(n: int) -> None:
    """Sets the number of OpenMP threads fastnn kernels use.

    Args:
        n (int): thread count, at least 1; applies to every thread of the process, as
            PyTorch's (a thread where threadpoolctl lowered the OpenMP limit runs at
            most that many). The default is ``OMP_NUM_THREADS`` when set, otherwise
            the CPUs this process may run on (affinity mask), capped by a cgroup CPU
            quota. The OpenMP runtime's own per-thread limit is left alone, so other
            libraries sharing it (torch) keep their counts.

    Results do not depend on the thread count: fastnn's reductions use fixed
    chunking, so a seeded run is bit-identical at 1 and N threads.

    Kernels never run more threads than there are CPUs to run them
    (``fastnn.info()["cpus"]``, re-read here): more would only make every barrier
    wait for each thread's turn on a CPU (16 threads on 2 CPUs ran a 0.3 ms product
    2x slower than 2 threads). ``get_num_threads()`` still returns ``n``.

    Example::

        >>> import fastnn as fn
        >>> fn.set_num_threads(1)
        >>> fn.get_num_threads()
        1
    """
    global _chosen_by_user
    n = check_int(n, "set_num_threads()", "n", low=1)
    if n > _MAX_THREADS:  # the C++ side holds an int
        raise ValueError(f"set_num_threads(): argument 'n' must be <= {_MAX_THREADS}, got {n}")
    if n > 1 and _forked_child and _core.build_info()["openmp_enabled"]:
        warnings.warn(
            f"set_num_threads({n}) has no effect in this process: it was forked from one that "
            "had imported fastnn, and runs fastnn's kernels on one thread (GNU libgomp's "
            "thread pool does not survive fork); start workers with multiprocessing's "
            "'spawn' or 'forkserver' method for threaded kernels", RuntimeWarning, stacklevel=2)
    _core.set_num_threads(n)
    update_cpu_limit()  # the affinity mask may have changed since import
    _chosen_by_user = True


# Set in a child forked after import: the C++ fork guard (threads.cpp) has made it
# single-threaded, and set_num_threads says so instead of being silently ignored.
_forked_child = False


def _note_fork() -> None:
    global _forked_child
    _forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_fork)


def threads_chosen_by_user() -> bool:
    return _chosen_by_user or bool(os.environ.get("OMP_NUM_THREADS"))


def set_default_num_threads(n: int) -> None:
    """Sets fastnn's default thread count (the cgroup cap, the per-rank share) without
    marking it the user's choice."""
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of OpenMP threads fastnn kernels called from this thread use."""
    return int(_core.get_num_threads())


@contextmanager
def thread_count(n: int | None) -> Iterator[None]:
    """Kernels called from this Python thread use ``n`` threads for the block (``None``:
    unchanged), ahead of the process-wide count, which stays as it is: what the
    scikit-learn estimators' ``n_threads`` sets for a fit, so that fits in concurrent
    threads neither wait for one another nor change each other's (or the process's)
    count."""
    if n is None:
        yield
        return
    n = check_int(n, "thread_count()", "n", low=1)
    before = _core._thread_num_threads()
    _core._set_thread_num_threads(min(n, _MAX_THREADS))
    try:
        yield
    finally:
        _core._set_thread_num_threads(before)


def info() -> dict[str, Any]:
    """Facts about this build and runtime.

    Returns:
        dict: ``version``, ``simd`` (the GEMM path in use: ``"avx512"``,
        ``"avx2"`` or ``"scalar"``; ``FASTNN_ARCH`` overrides it, and
        ``FASTNN_ARCH=avx512emu`` runs the 16-lane AVX-512 kernel as AVX2
        ymm pairs), ``elementwise`` (the path of the element-wise kernels:
        activations, softmax, losses, dropout and optimizer updates: ``"avx512"``
        (16 zmm lanes), ``"avx512emu"`` (the same 16-lane code on ymm pairs, only
        when ``FASTNN_ARCH=avx512emu``), ``"avx2"`` (8 lanes) or ``"scalar"``; the
        SIMD paths give the same bits), ``gemm_blocking`` (the GEMM's register
        tile ``mr`` x ``nr``, cache blocks ``mc``, ``kc``, ``nc``, ``tall`` (the
        tile of tall products, ``{"mr": 6, "nr": 64, "min_rows": 256}`` on Intel
        CPUs with the 16-lane path, where it is faster from 256 rows of C; same
        results; otherwise ``None``), and the cache
        sizes ``l1d``, ``l2``, ``l3`` in bytes they were derived from, with their
        ``cache_source``:
        ``"cpuid"``, ``"sysfs"``, ``"env"`` for ``FASTNN_CACHE_SIZES="L1,L2,L3"``,
        or ``"none"``), ``parallel_thresholds`` (the work below which kernels stay on
        the calling thread: a product splits from twice ``gemm_macs_per_thread``
        multiply-adds, then takes one thread per ``gemm_macs_per_extra_thread``;
        element-wise work from ``elementwise`` elements; with their ``source``,
        ``"default"`` or ``"env"`` for ``FASTNN_PARALLEL_THRESHOLDS="MACS,ELEMENTS"``),
        ``threads`` (``get_num_threads()``), ``cpus`` (the CPUs this process may
        use, affinity mask and cgroup quota: no kernel runs more threads than
        that; ``None`` when uncapped),
        ``openmp`` (the runtime library and OpenMP version, e.g. ``"libgomp.so.1 (OpenMP
        4.5, 201511)"``, or ``"none (serial build)"``), ``omp_wait`` (how idle OpenMP
        threads wait, as libgomp was loaded: ``policy`` and ``spin_count``, the values of
        ``OMP_WAIT_POLICY`` and ``GOMP_SPINCOUNT`` or ``None`` where unset, and ``source``,
        ``"fastnn"`` for fastnn's default, passive after a spin of 2000, ``"env"`` for
        the user's ``OMP_WAIT_POLICY``, or ``"preloaded"`` where another library had
        loaded the runtime first, so that the environment's values of then apply),
        ``compiler``, and ``omp_num_threads`` (the
        environment variable, or ``None``).
    """
    from . import __version__

    build = dict(_core.build_info())
    return {
        "version": __version__,
        "simd": build["simd"],
        "elementwise": build["elementwise"],
        "gemm_blocking": dict(build["gemm_blocking"]),
        "parallel_thresholds": dict(build["parallel_thresholds"]),
        "threads": get_num_threads(),
        "cpus": _core._cpu_limit() or None,
        "openmp": build["openmp"],
        "omp_wait": dict(wait_policy),
        "compiler": build["compiler"],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
