"""How fastnn's OpenMP wait policy trades speed on a quiet machine for speed on a loaded one.

    PYTHONPATH=python python benchmarks/wait_policy.py                 # quiet, then loaded
    PYTHONPATH=python python benchmarks/wait_policy.py --spins 0 2000 10000 --threads 2

fastnn loads libgomp passive after a spin of ``GOMP_SPINCOUNT`` pause iterations (2000 by
default, ``python/fastnn/_core_loader.py``). For each spin count, and for NumPy, the
GEMM cases of ``benchmarks/report.py`` that a training step runs (the MLP-layer products
and 1024^2) are timed at ``--threads`` threads with the same machinery (a worker process
per library and setting, interleaved rounds, medians). Then the same again with one
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

CASES = ("mlp_forward", "mlp_dx", "mlp_dW", "mlp2_forward", "square1024")


def measure(lib: str, spin: int | None, threads: int, rounds: int) -> dict[str, float]:
    """GFLOP/s per case for fastnn with GOMP_SPINCOUNT=spin, or NumPy (spin None). The
    workers inherit this process's environment."""
    saved = {k: os.environ.pop(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
             if k in os.environ}
    if spin is not None:
        os.environ["GOMP_SPINCOUNT"] = str(spin)
    try:
        rows = _bench_gemm.run(cases=CASES, libs=[lib], threads=[threads], rounds=rounds)
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)
        os.environ.update(saved)
    return {r.case: r.gflops for r in rows}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
            for spin in args.spins:
                rows.append((f"{label}, fastnn spin {spin}",
                             measure("fastnn", spin, args.threads, args.rounds)))
            rows.append((f"{label}, NumPy", measure("numpy", None, args.threads, args.rounds)))
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
