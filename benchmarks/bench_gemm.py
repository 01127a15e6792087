"""GEMM benchmarks: fn.matmul against NumPy (OpenBLAS) and torch, same thread count.

The cases are fastnn._bench_gemm.CASES (square 256 to 2048, the GEMMs of an MLP
training step with their transposes, a tiny 32x64 @ 64x64 call end to end);
every library gets the same operands and transposes. NumPy is pinned to
fastnn's thread count with threadpoolctl, torch with torch.set_num_threads.
square2048 runs only with FASTNN_BENCH_HEAVY=1. Unset OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE first if your environment sets them (they slow a current NumPy).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python -m pytest benchmarks/bench_gemm.py --benchmark-group-by=group
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=python \\
        python benchmarks/bench_gemm.py   # = report.py gemm: GFLOP/s, % of peak, ratios
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from fastnn import _bench_gemm

HEAVY = os.environ.get("FASTNN_BENCH_HEAVY") == "1"


@pytest.mark.parametrize("lib", _bench_gemm.LIBS)
@pytest.mark.parametrize("case", list(_bench_gemm.CASES))
def test_gemm(benchmark, request, case, lib, threads):
    if case == "square2048" and not HEAVY:
        pytest.skip("square2048 is heavy: set FASTNN_BENCH_HEAVY=1")
    if lib == "torch":
        request.getfixturevalue("torch_threads")
    spec = _bench_gemm.CASES[case]
    call = _bench_gemm.build(lib, spec)
    a, b = _bench_gemm.operands(spec)
    expected = (a.T if spec.trans_a else a).astype(np.float64) @ (b.T if spec.trans_b else b)
    result = np.asarray(call())  # the same product for every library, and a warm-up
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    benchmark.group = f"{case}-threads{threads}"
    benchmark.extra_info["gflops_per_call"] = spec.flops / 1e9
    benchmark(call)


if __name__ == "__main__":
    import report

    report.main(["gemm"])
