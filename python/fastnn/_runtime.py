"""Thread control and build facts: ``set_num_threads``, ``get_num_threads``, ``info``."""

from __future__ import annotations

import os
from typing import Any

from . import _core
from ._validation import check_int


def set_num_threads(n: int) -> None:
    """Sets the number of OpenMP threads fastnn kernels use.

    Args:
        n (int): thread count, at least 1. The default is ``OMP_NUM_THREADS``
            when set, otherwise the number of cores.

    Results do not depend on the thread count: fastnn's reductions use fixed
    chunking, so a seeded run is bit-identical at 1 and N threads.
    """
    _core.set_num_threads(check_int(n, "set_num_threads()", "n", low=1))


def get_num_threads() -> int:
    """The number of OpenMP threads fastnn kernels use."""
    return int(_core.get_num_threads())


def info() -> dict[str, Any]:
    """Facts about this build and runtime.

    Returns:
        dict: ``version``, ``simd`` (the GEMM path in use: ``"avx512"``,
        ``"avx2"`` or ``"scalar"``; ``FASTNN_ARCH`` overrides it), ``threads``,
        ``openmp`` (runtime), ``compiler``, and ``omp_num_threads`` (the
        environment variable, or ``None``).
    """
    from . import __version__

    build = dict(_core.build_info())
    return {
        "version": __version__,
        "simd": build["simd"],
        "threads": get_num_threads(),
        "openmp": build["openmp"],
        "compiler": build["compiler"],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
