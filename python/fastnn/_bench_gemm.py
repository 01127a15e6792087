"""GEMM throughput: ``fn.matmul`` against NumPy and PyTorch, per process, interleaved.

Cases (``CASES``): square 256 to 2048; the GEMMs of an MLP layer 784 -> 512 at
batch 128, with the transposes a training step uses (forward ``x @ W^T`` with
``W`` stored (512, 784); ``dx = dy @ W``; ``dW = dy^T @ x``); the 512 -> 256
layer's forward; and a tiny 32x64 @ 64x64 call. Every library gets the same
operands and transposes: ``trans_a``/``trans_b`` for ``fn.matmul``, ``.T`` views
for NumPy and torch. The large cases write into a preallocated ``out``; the tiny
case is timed end to end from Python, output allocation included.

Each (library, case, thread count) runs in its own worker process
(:mod:`fastnn._bench_proc`). Used by ``benchmarks/report.py gemm`` and
``benchmarks/bench_gemm.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, TextIO

import numpy as np

from ._bench_proc import Worker, check_counts, interleave, pin_threads, serve, worker_argv

LIBS = ("fastnn", "numpy", "torch")


@dataclass(frozen=True)
class Case:
    """``op(a) @ op(b)`` with ``a`` stored ``a_shape``, ``b`` stored ``b_shape``."""

    name: str
    a_shape: tuple[int, int]
    b_shape: tuple[int, int]
    trans_a: bool = False
    trans_b: bool = False
    end_to_end: bool = False  # no preallocated output; reported in microseconds per call

    @property
    def mkn(self) -> tuple[int, int, int]:
        m, k = self.a_shape[::-1] if self.trans_a else self.a_shape
        n = self.b_shape[0] if self.trans_b else self.b_shape[1]
        return m, k, n

    @property
    def flops(self) -> float:
        m, k, n = self.mkn
        return 2.0 * m * k * n

    @property
    def label(self) -> str:
        a = f"{'x'.join(map(str, self.a_shape))}{'^T' if self.trans_a else ''}"
        b = f"{'x'.join(map(str, self.b_shape))}{'^T' if self.trans_b else ''}"
        return f"{a} @ {b}"


CASES: dict[str, Case] = {c.name: c for c in (
    Case("square256", (256, 256), (256, 256)),
    Case("square512", (512, 512), (512, 512)),
    Case("square1024", (1024, 1024), (1024, 1024)),
    Case("square2048", (2048, 2048), (2048, 2048)),
    Case("mlp_forward", (128, 784), (512, 784), trans_b=True),  # x @ W^T, W (512, 784)
    Case("mlp_dx", (128, 512), (512, 784)),                     # dy @ W
    Case("mlp_dW", (128, 512), (128, 784), trans_a=True),       # dy^T @ x
    Case("mlp2_forward", (128, 512), (256, 512), trans_b=True),  # 128x512x256, W (256, 512)
    Case("tiny", (32, 64), (64, 64), end_to_end=True),
)}


def operands(case: Case, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random float32 ``a`` and ``b`` in their stored shapes."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(case.a_shape, dtype=np.float32),
            rng.standard_normal(case.b_shape, dtype=np.float32))


def build(lib: str, case: Case) -> Callable[[], Any]:
    """One product of ``lib`` on ``case``'s operands, as a zero-argument callable."""
    a, b = operands(case)
    m, _, n = case.mkn
    if lib == "fastnn":
        from .functional import matmul

        ta, tb = case.trans_a, case.trans_b
        if case.end_to_end:
            return lambda: matmul(a, b, trans_a=ta, trans_b=tb)
        out = np.empty((m, n), np.float32)
        return lambda: matmul(a, b, trans_a=ta, trans_b=tb, out=out)
    if lib == "numpy":
        an, bn = (a.T if case.trans_a else a), (b.T if case.trans_b else b)
        if case.end_to_end:
            return lambda: an @ bn
        out = np.empty((m, n), np.float32)
        return lambda: np.matmul(an, bn, out=out)
    if lib == "torch":
        import torch

        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        at, bt = (at.T if case.trans_a else at), (bt.T if case.trans_b else bt)
        if case.end_to_end:
            return lambda: torch.matmul(at, bt)
        out_t = torch.empty((m, n), dtype=torch.float32)
        return lambda: torch.matmul(at, bt, out=out_t)
    raise ValueError(f"bench: unknown library {lib!r}; choose from {list(LIBS)}")


def worker_main(args: Sequence[str]) -> None:
    """Worker entry: ``LIB CASE THREADS [--quick]``; serves one product."""
    lib, case, threads = args[0], CASES[args[1]], int(args[2])
    if lib == "torch":
        import torch  # noqa: F401  (imported before pinning, so pin_threads pins it)
    pin_threads(threads)
    serve(build(lib, case), quick="--quick" in args[3:])


@dataclass(frozen=True)
class Row:
    """One library on one case at one thread count."""

    case: str
    lib: str
    threads: int
    seconds: float  # median seconds per call
    spread: float = 1.0  # slowest round over fastest (Timing.spread)

    @property
    def gflops(self) -> float:
        return CASES[self.case].flops / self.seconds / 1e9


def run(*, cases: Sequence[str] | None = None, libs: Sequence[str] | None = None,
        threads: Sequence[int] = (1,), rounds: int = 5, quick: bool = False,
        stream: TextIO | None = None) -> list[Row]:
    """Times each case with each library at each thread count; rows in that order.

    Args and errors as :func:`fastnn._bench_train.run`, with case names from
    :data:`CASES` and libraries from :data:`LIBS` (torch is left out when absent).
    """
    import importlib.util

    names = list(CASES) if cases is None else list(cases)
    wanted = LIBS if libs is None else libs
    libs = [lib for lib in wanted
            if lib != "torch" or importlib.util.find_spec("torch") is not None]
    if len(libs) < len(wanted) and stream is not None:
        print("bench gemm: torch is not installed: its columns are left out", file=stream,
              flush=True)
    for name in names:
        if name not in CASES:
            raise ValueError(f"bench: unknown GEMM case {name!r}; choose from {list(CASES)}")
    check_counts("_bench_gemm.run()", rounds, threads)
    rows = []
    extra = ["--quick"] if quick else []
    for name in names:
        for n in threads:
            if stream is not None:
                print(f"bench gemm {name} ({CASES[name].label}), {n} thread(s)", file=stream,
                      flush=True)
            workers = [Worker(lib, worker_argv("fastnn._bench_gemm", [lib, name, str(n), *extra],
                                               import_fastnn=lib == "fastnn"), n) for lib in libs]
            rows += [Row(name, t.label, n, t.median, t.spread)
                     for t in interleave(workers, rounds)]
    return rows

