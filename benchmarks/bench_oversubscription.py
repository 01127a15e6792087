"""Oversubscription: fastnn's GEMM at 16 threads costs at most 2x its time at 2 threads.

A timing check, so it lives in benchmarks/ (``pytest benchmarks/`` collects it; the
default suite does not). It matters on small machines: with the shared-B threading
(gemm/blocked.cpp) every K block ends in a barrier, and 16 threads on 2 cores must
all be scheduled to pass it. Kernels therefore run at most one thread per CPU the
process may use (``fn.info()["cpus"]``; threads.h, team_threads), whatever
``set_num_threads`` asked for: the test checks that default. The script also prints
the cost with the cap lifted (``FASTNN_CPU_LIMIT=0``), 16 threads really running on
the machine's CPUs. Medians of interleaved rounds keep it robust on a shared box;
1024^2 (4 barriers) and the MLP dX product 128x512 @ 512x784 (3 barriers).

    PYTHONPATH=python python -m pytest benchmarks/bench_oversubscription.py
    PYTHONPATH=python python benchmarks/bench_oversubscription.py   # prints the ratios
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pytest

import fastnn as fn
from fastnn import _core

SHAPES = {"1024^2": ((1024, 1024), (1024, 1024)), "128x512 @ 512x784": ((128, 512), (512, 784))}


def ratios(names=tuple(SHAPES), rounds: int = 7, window: float = 0.2,
           cpu_limit: str | None = None) -> dict[str, float]:
    """Median seconds per product at 16 threads / at 2 threads, per shape in `names`;
    `cpu_limit` is FASTNN_CPU_LIMIT for the run (None: the CPUs, as by default)."""
    rng = np.random.default_rng(0)
    before = fn.get_num_threads()
    saved = os.environ.pop("FASTNN_CPU_LIMIT", None)
    if cpu_limit is not None:
        os.environ["FASTNN_CPU_LIMIT"] = cpu_limit
    out = {}
    try:
        for name in names:
            sa, sb = SHAPES[name]
            a = rng.standard_normal(sa).astype(np.float32)
            b = rng.standard_normal(sb).astype(np.float32)
            c = np.empty((sa[0], sb[1]), np.float32)
            times: dict[int, list[float]] = {2: [], 16: []}
            for _ in range(rounds):
                for n in times:  # interleaved: 2, 16, 2, 16, ...
                    fn.set_num_threads(n)  # also re-reads the cap
                    _core.matmul(a, b, out=c)
                    calls, start = 0, time.perf_counter()
                    while time.perf_counter() - start < window:
                        _core.matmul(a, b, out=c)
                        calls += 1
                    times[n].append((time.perf_counter() - start) / calls)
            out[name] = statistics.median(times[16]) / statistics.median(times[2])
    finally:
        os.environ.pop("FASTNN_CPU_LIMIT", None)
        if saved is not None:
            os.environ["FASTNN_CPU_LIMIT"] = saved
        fn.set_num_threads(before)
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
def test_16_threads_cost_at_most_twice_2(shape):
    assert ratios([shape])[shape] <= 2.0


if __name__ == "__main__":
    print(f"CPUs this process may use: {fn.info()['cpus']}")
    for label, limit in (("default, one thread per CPU", None), ("FASTNN_CPU_LIMIT=0", "0")):
        for name, r in ratios(cpu_limit=limit).items():
            # the 2x bound (the oversubscription test) holds the default; the other is shown
            verdict = "" if limit else f" ({'within' if r <= 2.0 else 'OVER'} the 2x bound)"
            print(f"{label}: {name}: 16 threads / 2 threads = {r:.2f}x the time{verdict}")
