"""Thread scaling in one table: GEMM (2048^2 and the MLP shapes) and training steps A and C
at 1, 2, 4, 8 and 16 threads, fastnn against NumPy and torch.

    python benchmarks/scaling.py                       # builds, then measures 1 2 4 8 16
    python benchmarks/scaling.py --threads 1 2 16 --rounds 3 --no-build
    python benchmarks/scaling.py --gemm-thresholds 8388608 2097152   # also try thresholds
    python benchmarks/scaling.py --gemm-share a b                    # and both schemes

One prepared script for a lent many-core machine: it (re)builds fastnn._core in place
(``build/scaling``, CMake + Ninja, the portable default flags), then measures with the
same machinery as ``benchmarks/report.py`` (one process per library, interleaved rounds,
medians, threads pinned for every library) and prints one Markdown table: for each
workload and thread count fastnn's rate (GFLOP/s for a GEMM, samples/s for a step) and
its ratio to NumPy and torch (above 1: fastnn faster). Training steps compare fastnn's
fused step (or its plain step without one) with NumPy and torch with fused Adam.

The checks that catch a many-thread collapse are printed under the table (``--check``
makes them the exit status):
  - fastnn at n threads slower than at n / 2 on any workload (a collapse: the 16-core
    case once gave 1024^2 at 48 GFLOP/s on 16 threads, below its 1-thread 58);
  - at 4 threads and more, fastnn below 0.9x NumPy on 2048^2 or below 1.0x NumPy on an
    MLP shape (the targets: 0.9x and 1.0x);
  - n above the CPU count: oversubscribed, reported but only held to at most 2x the
    time at the CPU count.
A line above the checks names the cells whose slowest round took over 1.3x their
fastest: other work on the machine disturbed those, and their ratios are not evidence.
With ``--quick`` or fewer than 3 rounds the spread says too little to judge by: the checks
are printed as indicative only and ``--check`` does not act on them.

``--gemm-share a b`` likewise re-times them with the team sharing A and sharing B
(``FASTNN_GEMM_SHARE``; where sharing A applies: all of A one cache block).

``--gemm-thresholds`` re-times fastnn's products once per value of the GEMM thread
threshold (``MACS_PER_THREAD`` of ``FASTNN_PARALLEL_THRESHOLDS``, set in fastnn's worker
processes only: products split from twice that, then take one thread per a quarter of
it) and prints fastnn / NumPy per value: the data for choosing the default on a
many-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMM_CASES = ("square2048", "mlp_forward", "mlp_dx", "mlp_dW", "mlp2_forward")
STEPS = ("A", "C")


def build() -> None:
    """Configures and builds fastnn._core next to python/fastnn/__init__.py."""
    out = os.path.join(ROOT, "build", "scaling")
    subprocess.run(["cmake", "-S", ROOT, "-B", out, "-G", "Ninja", "-DFASTNN_DEV_INPLACE=ON",
                    "-DCMAKE_BUILD_TYPE=Release",
                    f"-DPython_EXECUTABLE={sys.executable}"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out], check=True, stdout=subprocess.DEVNULL)


Key = tuple[str, str, int]  # (workload, library, threads)


def measure(threads: Sequence[int], rounds: int,
            quick: bool) -> tuple[dict[Key, float], dict[Key, float]]:
    """Rate per (workload, library, threads): GFLOP/s (GEMM) or samples/s (steps), and
    each cell's spread (slowest round over fastest). Library names are "fastnn",
    "numpy", "torch"."""
    from fastnn import _bench_gemm, _bench_train

    rates: dict[Key, float] = {}
    spreads: dict[Key, float] = {}
    for r in _bench_gemm.run(cases=GEMM_CASES, libs=["fastnn", "numpy", "torch"],
                             threads=threads, rounds=rounds, quick=quick, stream=sys.stderr):
        rates[(r.case, r.lib, r.threads)] = r.gflops
        spreads[(r.case, r.lib, r.threads)] = r.spread
    rows, skipped = _bench_train.run(configs=STEPS, libs=["fastnn", "fastnn-fused", "numpy",
                                                            "torch-fused"],
                                     threads=threads, rounds=rounds, quick=quick,
                                     stream=sys.stderr)
    for lib, why in skipped.items():
        print(f"scaling: {lib} skipped: {why}", file=sys.stderr, flush=True)
    for r in rows:
        lib = {"torch-fused": "torch", "fastnn": "fastnn-eager",
               "fastnn-fused": "fastnn"}.get(r.lib, r.lib)  # the fused step stands for fastnn
        rates[(f"step {r.config}", lib, r.threads)] = r.samples_per_s
        spreads[(f"step {r.config}", lib, r.threads)] = r.spread
    for (work, lib, n), v in list(rates.items()):  # no fused step: the eager one stands in
        if lib == "fastnn-eager" and (work, "fastnn", n) not in rates:
            rates[(work, "fastnn", n)] = v
            spreads[(work, "fastnn", n)] = spreads[(work, lib, n)]
    return rates, spreads


def disturbed(spreads: dict[Key, float], limit: float = 1.3) -> list[str]:
    """The cells whose slowest round took more than ``limit`` times their fastest: on a
    quiet machine interleaved rounds agree within a few percent, so these name the
    cells (and often the thread counts) where other work disturbed the run."""
    return [f"{w} {lib} {n} thr ({s:.2f}x)" for (w, lib, n), s in sorted(spreads.items())
            if s > limit]


def variant_table(rates: dict[Key, float], threads: Sequence[int], variable: str,
                  variants: Sequence[tuple[str, str]], rounds: int, quick: bool) -> str:
    """fastnn / NumPy on the GEMM cases with the environment variable `variable` set to
    each (label, value) of `variants` in fastnn's worker processes."""
    from fastnn import _bench_gemm

    head = ["case", "threads", *(label for label, _ in variants)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    cells: dict[tuple[str, int], list[str]] = {}
    saved = os.environ.get(variable)
    try:
        for _, value in variants:
            os.environ[variable] = value
            for r in _bench_gemm.run(cases=GEMM_CASES, libs=["fastnn"], threads=threads,
                                     rounds=rounds, quick=quick, stream=sys.stderr):
                np_ = rates.get((r.case, "numpy", r.threads))
                cells.setdefault((r.case, r.threads), []).append(
                    f"{r.gflops:,.1f} ({r.gflops / np_:.2f})" if np_ else f"{r.gflops:,.1f}")
    finally:
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved
    for (case, n), row in cells.items():
        lines.append("| " + " | ".join([case, str(n), *row]) + " |")
    return "\n".join(lines)


def table(rates: dict[Key, float], threads: Sequence[int]) -> str:
    works = [*GEMM_CASES, *(f"step {s}" for s in STEPS)]
    head = ["workload", *(f"{n} thr: fastnn (x numpy, x torch)" for n in threads)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for w in works:
        cells = [w]
        for n in threads:
            f = rates.get((w, "fastnn", n))
            if f is None:
                cells.append("-")
                continue
            ratios = [f / rates[(w, lib, n)] if rates.get((w, lib, n)) else None
                      for lib in ("numpy", "torch")]
            cells.append(f"{f:,.1f} (" + ", ".join("-" if r is None else f"{r:.2f}"
                                                  for r in ratios) + ")")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cpus() -> int:
    """The CPUs fastnn may use (affinity mask and cgroup quota), else the machine's count."""
    try:
        import fastnn as fn

        return int(fn.info()["cpus"])
    except (ImportError, KeyError, TypeError, ValueError):
        return os.cpu_count() or 1


def checks(rates: dict[Key, float], threads: Sequence[int]) -> list[str]:
    """The collapse checks of the module docstring; one line per failure."""
    cpus = _cpus()
    fails = []
    works = sorted({w for w, _, _ in rates})
    ordered = sorted(threads)
    # the oversubscribed counts are held to the largest measured count within the CPUs
    within = [n for n in ordered if n <= cpus]
    for w in works:
        for lo, hi in zip(ordered, ordered[1:]):
            a, b = rates.get((w, "fastnn", lo)), rates.get((w, "fastnn", hi))
            if a and b and hi <= cpus and b < a:
                fails.append(f"{w}: {hi} threads slower than {lo} ({b:.1f} < {a:.1f})")
        base = rates.get((w, "fastnn", within[-1])) if within else None
        for n in ordered:
            f, np_ = rates.get((w, "fastnn", n)), rates.get((w, "numpy", n))
            if n > cpus and f and base and f < base / 2:
                fails.append(f"{w}: {n} threads (oversubscribed) below half the "
                             f"{within[-1]}-thread rate ({f:.1f} < {base:.1f} / 2)")
            if n >= 4 and n <= cpus and f and np_ and not w.startswith("step"):
                need = 0.9 if w == "square2048" else 1.0
                if f / np_ < need:
                    fails.append(f"{w}: {n} threads {f / np_:.2f}x NumPy, target {need}x")
    return fails


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke test: seconds, no calibration")
    parser.add_argument("--no-build", action="store_true", help="use the fastnn on sys.path")
    parser.add_argument("--check", action="store_true", help="exit 1 when a check fails")
    parser.add_argument("--gemm-share", nargs="+", default=[], choices=["a", "b"],
                        help="also time fastnn's products with the team sharing A or B")
    parser.add_argument("--gemm-thresholds", type=int, nargs="+", default=[], metavar="MACS",
                        help="also time fastnn's products with each GEMM thread threshold")
    args = parser.parse_args(argv)
    if not args.no_build:
        build()
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import fastnn as fn

    info = fn.info()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = "unknown CPU"
    rates, spreads = measure(args.threads, args.rounds, args.quick)
    print(f"### Thread scaling: {cpu}, {os.cpu_count()} CPUs, fastnn simd {info['simd']}, "
          f"blocks {info['gemm_blocking']}\n")
    print("GEMM in GFLOP/s, steps in samples/s; in brackets fastnn / NumPy and fastnn / torch "
          f"(median of {args.rounds} interleaved rounds, one process per library).\n")
    print(table(rates, args.threads))
    if args.gemm_thresholds:
        print("\nfastnn GFLOP/s (x NumPy above) with each GEMM thread threshold:\n")
        print(variant_table(rates, args.threads, "FASTNN_PARALLEL_THRESHOLDS",
                            [(f"{t:,} MACs/thread", f"{t},262144") for t in args.gemm_thresholds],
                            args.rounds, args.quick))
    if args.gemm_share:
        print("\nfastnn GFLOP/s (x NumPy above) with each GEMM threading scheme:\n")
        print(variant_table(rates, args.threads, "FASTNN_GEMM_SHARE",
                            [(f"share {v.upper()}", v) for v in args.gemm_share],
                            args.rounds, args.quick))
    fails = checks(rates, args.threads)
    if args.quick or args.rounds < 3:
        # under 3 rounds (or uncalibrated ones) the spread says little about a cell, and a
        # single disturbed window can decide it, so the checks below only hint
        why = "--quick" if args.quick else f"{args.rounds} round(s)"
        print(f"\nDisturbed cells: not judged ({why}; use --rounds 3 or more, no --quick)")
        print("\nChecks (indicative only, not enforced by --check on such a run): "
              + ("all pass" if not fails else "\n- " + "\n- ".join(fails)))
        return 0
    noisy = disturbed(spreads)
    print("\nDisturbed cells (slowest round over 1.3x the fastest): "
          + ("none" if not noisy else ", ".join(noisy)))
    print("\nChecks: " + ("all pass" if not fails else "\n- " + "\n- ".join(fails)))
    return 1 if fails and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
