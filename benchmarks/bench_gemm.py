"""GEMM benchmarks: fastnn.functional.matmul against NumPy (OpenBLAS), same thread count.

NumPy is pinned to fastnn's thread count with threadpoolctl. Unset OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE first if your environment sets them (they slow a current NumPy).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python -m pytest benchmarks/bench_gemm.py --benchmark-group-by=group
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python benchmarks/bench_gemm.py        # GFLOP/s and ratio table, 1 and 2 threads
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import fastnn as fn
from fastnn.functional import matmul

# name -> (a shape, b shape, trans_a, trans_b); one MLP layer is x: 128 x 784, W: 512 x 784.
CASES = {
    "square256": ((256, 256), (256, 256), False, False),
    "square512": ((512, 512), (512, 512), False, False),
    "square1024": ((1024, 1024), (1024, 1024), False, False),
    "mlp_forward": ((128, 784), (512, 784), False, True),  # y = x @ W.T
    "mlp_dx": ((128, 512), (512, 784), False, False),      # dx = dy @ W
    "mlp_dW": ((128, 512), (128, 784), True, False),       # dW = dy.T @ x
}
THREADS = [1, 2]


def setup(case: str) -> tuple[dict[str, Callable[[], object]], float]:
    """Callables computing the product with each library, and its flop count."""
    a_shape, b_shape, ta, tb = CASES[case]
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    an, bn = (a.T if ta else a), (b.T if tb else b)
    out = np.empty((an.shape[0], bn.shape[1]), np.float32)
    flops = 2.0 * an.shape[0] * an.shape[1] * bn.shape[1]
    return {
        "fastnn": lambda: matmul(a, b, trans_a=ta, trans_b=tb, out=out),
        "numpy": lambda: np.matmul(an, bn, out=out),
    }, flops


@pytest.mark.parametrize("lib", ["fastnn", "numpy"])
@pytest.mark.parametrize("case", list(CASES))
def test_gemm(benchmark, case, lib, threads):
    funcs, flops = setup(case)
    benchmark.group = f"{case}-threads{threads}"
    benchmark.extra_info["gflops_per_call"] = flops / 1e9
    benchmark(funcs[lib])


def best_time(f: Callable[[], object], min_seconds: float = 0.3, min_reps: int = 5) -> float:
    f()  # warm up: pack buffers, thread pools
    best, total, reps = float("inf"), 0.0, 0
    while total < min_seconds or reps < min_reps:
        start = time.perf_counter()
        f()
        elapsed = time.perf_counter() - start
        best, total, reps = min(best, elapsed), total + elapsed, reps + 1
    return best


def report() -> None:
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var} is set; unset it for a fair NumPy baseline")
    print(f"fastnn {fn.__version__}, simd={fn.info()['simd']}, numpy {np.__version__}")
    print(f"{'case':<12} {'threads':>7} {'fastnn GF/s':>12} {'numpy GF/s':>11} {'ratio':>6}")
    for n in THREADS:
        fn.set_num_threads(n)
        with threadpool_limits(n, user_api="blas"):
            for case in CASES:
                funcs, flops = setup(case)
                ours = flops / best_time(funcs["fastnn"]) / 1e9
                theirs = flops / best_time(funcs["numpy"]) / 1e9
                print(f"{case:<12} {n:>7} {ours:>12.1f} {theirs:>11.1f} {ours / theirs:>6.2f}")


if __name__ == "__main__":
    report()
