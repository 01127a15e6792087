"""How fastnn's OpenMP wait policy trades speed on a quiet machine for speed on a loaded one.

    PYTHONPATH=python python benchmarks/wait_policy.py                 # quiet, then loaded
    PYTHONPATH=python python benchmarks/wait_policy.py --spins 0 2000 10000 --threads 2

fastnn loads libgomp passive after a spin of ``GOMP_SPINCOUNT`` pause iterations (2000 by
default, ``python/fastnn/_core_loader.py``). For each spin count, and for NumPy, one
process times the MLP-layer products (128x784x512 forward, its dX and dW, 128x512x256)
and 1024^2 at ``--threads`` threads: GFLOP/s, the median of 7 windows of 0.1 s. Then the
same again with one competing process (a Python busy loop) running beside them, which is
what a machine shared with other work looks like. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# name: (a shape, b shape, trans_a, trans_b), as benchmarks/report.py's GEMM cases.
CASES = {
    "128x784x512 fwd": ((128, 784), (512, 784), False, True),
    "dX": ((128, 512), (512, 784), False, False),
    "dW": ((128, 512), (128, 784), True, False),
    "128x512x256": ((128, 512), (256, 512), False, True),
    "1024^2": ((1024, 1024), (1024, 1024), False, False),
}

WORKER = """
import json, sys, time
import numpy as np
lib, threads, cases = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
if lib == "fastnn":
    import fastnn as fn
    fn.set_num_threads(threads)
else:
    from threadpoolctl import threadpool_limits
    threadpool_limits(threads)
rng = np.random.default_rng(0)
rates = {}
for name, (sa, sb, ta, tb) in cases.items():
    a = rng.standard_normal(sa, dtype=np.float32)
    b = rng.standard_normal(sb, dtype=np.float32)
    A, B = (a.T if ta else a), (b.T if tb else b)
    out = np.empty((A.shape[0], B.shape[1]), np.float32)
    if lib == "fastnn":
        def call():
            fn.matmul(a, b, trans_a=ta, trans_b=tb, out=out)
    else:
        def call():
            np.matmul(A, B, out=out)
    call()
    windows = []
    for _ in range(7):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.1:
            call()
            n += 1
        windows.append(2.0 * A.shape[0] * A.shape[1] * B.shape[1] * n / (time.perf_counter() - t0))
    rates[name] = sorted(windows)[3] / 1e9
print(json.dumps(rates))
"""


def measure(lib: str, spin: int | None, threads: int) -> dict[str, float]:
    """GFLOP/s per case for fastnn with GOMP_SPINCOUNT=spin, or NumPy (spin None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "python"), env.get("PYTHONPATH", "")])
    if spin is not None:
        env["GOMP_SPINCOUNT"] = str(spin)
    out = subprocess.run([sys.executable, "-c", WORKER, lib, str(threads), json.dumps(CASES)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spins", type=int, nargs="+", default=[0, 2000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-load", action="store_true", help="skip the competing-process run")
    args = parser.parse_args(argv)
    rows = []
    for loaded in (False,) if args.no_load else (False, True):
        burner = (subprocess.Popen([sys.executable, "-c", "while True: pass"])
                  if loaded else None)
        try:
            label = "one competing process" if loaded else "quiet"
            for spin in args.spins:
                rows.append((f"{label}, fastnn spin {spin}", measure("fastnn", spin, args.threads)))
            rows.append((f"{label}, NumPy", measure("numpy", None, args.threads)))
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
    print(f"GFLOP/s at {args.threads} threads (median of 7 windows of 0.1 s):\n")
    print("| setting | " + " | ".join(CASES) + " |")
    print("|:--|" + "--:|" * len(CASES))
    for label, rates in rows:
        print(f"| {label} | " + " | ".join(f"{rates[c]:.0f}" for c in CASES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
