"""Kernel benchmarks: the cases of ``fastnn bench`` (fastnn.bench.CASES) under pytest-benchmark.

Each case (matmul, Linear forward/backward, activations, softmax cross-entropy,
Adam, dropout, an MLP training step) runs once with fastnn and once with the
equivalent hand-written NumPy float32 code, at 1 and 2 threads; NumPy's BLAS is
pinned to the same count with threadpoolctl. Both sides are checked to agree
before they are timed. Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE first if
your environment sets them (they slow a current NumPy).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python -m pytest benchmarks/bench_kernels.py --benchmark-group-by=group
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python benchmarks/bench_kernels.py      # the `fastnn bench` table, 1 and 2 threads
"""

from __future__ import annotations

import numpy as np
import pytest

from fastnn import bench

THREADS = [1, 2]


@pytest.mark.parametrize("lib", ["fastnn", "numpy"])
@pytest.mark.parametrize("case", list(bench.CASES))
def test_kernel(benchmark, case, lib, threads):
    spec = bench.CASES[case]
    pair = spec.build(np.random.default_rng(0))
    pair.verify(case)  # same work on both sides, and a warm-up
    benchmark.group = f"{case}-threads{threads}"
    if spec.flops is not None:
        benchmark.extra_info["gflops_per_call"] = spec.flops / 1e9
    benchmark(getattr(pair, lib))


def report() -> None:
    rows = [row for n in THREADS for row in bench.run(threads=n)]
    print(bench.format_table(rows))


if __name__ == "__main__":
    report()
