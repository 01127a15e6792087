"""How fastnn's OpenMP wait policy trades speed on a quiet machine for speed on a loaded one.

    PYTHONPATH=python python benchmarks/wait_policy.py                 # quiet, then loaded
    PYTHONPATH=python python benchmarks/wait_policy.py --spins 0 2000 10000 --threads 2

fastnn loads libgomp passive after a spin of ``GOMP_SPINCOUNT`` pause iterations (2000 by
default, ``python/fastnn/_core_loader.py``). For each spin count, and for NumPy, the
GEMM cases of ``benchmarks/report.py`` that a training step runs (the MLP-layer products
and 1024^2) are timed at ``--threads`` threads with the same machinery (a worker process
per setting, the settings' rounds interleaved, medians). Then the same again with one
competing process (a Python busy loop) running beside them, which is what a machine
shared with other work looks like. Prints one table of GFLOP/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

from fastnn import _bench_gemm
from fastnn._bench_proc import Worker, interleave, worker_argv

CASES = ("mlp_forward", "mlp_dx", "mlp_dW", "mlp2_forward", "square1024")


def measure(spins: Sequence[int], threads: int, rounds: int) -> dict[str, dict[str, float]]:
    """GFLOP/s per setting ("spin N" for fastnn with GOMP_SPINCOUNT=N, and "NumPy") and per
    case: one worker process per setting, the settings' rounds interleaved case by case,
    so that drift on a shared machine falls on all of them alike. The workers inherit
    this process's environment without OMP_WAIT_POLICY / GOMP_SPINCOUNT (fastnn's loader
    then sets the policy)."""
    saved = {k: os.environ.pop(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
             if k in os.environ}
    rates: dict[str, dict[str, float]] = {f"spin {s}": {} for s in spins}
    rates["NumPy"] = {}
    n = str(threads)
    try:
        for case in CASES:
            workers = [Worker(f"spin {s}", worker_argv("fastnn._bench_gemm", ["fastnn", case, n],
                                                       import_fastnn=True), threads,
                              (("GOMP_SPINCOUNT", str(s)),)) for s in spins]
            workers.append(Worker("NumPy", worker_argv("fastnn._bench_gemm", ["numpy", case, n],
                                                       import_fastnn=False), threads))
            flops = _bench_gemm.CASES[case].flops
            for t in interleave(workers, rounds):
                rates[t.label][case] = flops / t.median / 1e9
    finally:
        os.environ.update(saved)
    return rates


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spins", type=int, nargs="+", default=[0, 2000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-load", action="store_true", help="skip the competing-process run")
    args = parser.parse_args(argv)
    rows = []
    for loaded in (False,) if args.no_load else (False, True):
        burner = (subprocess.Popen([sys.executable, "-c", "while True: pass"])
                  if loaded else None)
        try:
            label = "one competing process" if loaded else "quiet"
            for setting, rates in measure(args.spins, args.threads, args.rounds).items():
                rows.append((f"{label}, {'fastnn ' if setting != 'NumPy' else ''}{setting}",
                             rates))
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
    print(f"GFLOP/s at {args.threads} threads (median of {args.rounds} rounds):\n")
    print("| setting | " + " | ".join(CASES) + " |")
    print("|:--|" + "--:|" * len(CASES))
    for label, rates in rows:
        print(f"| {label} | " + " | ".join(f"{rates[c]:.0f}" for c in CASES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
