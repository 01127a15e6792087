"""Comparison tables for README and issues: GEMM and whole training steps, fastnn vs NumPy/torch.

    PYTHONPATH=python python benchmarks/report.py gemm --threads 1 2
    PYTHONPATH=python python benchmarks/report.py train-step --threads 1 2 --json out.json
    PYTHONPATH=python python benchmarks/report.py all --quick      # smoke test, seconds

Method (fastnn._bench_proc): every (library, case, thread count) runs in its own
worker process; the workers of one comparison run timed windows in interleaved
rounds (A B C A B C ...) and the median window is kept. Threads are pinned for
every library: OMP/OPENBLAS/MKL_NUM_THREADS in the child environment, plus
fastnn.set_num_threads, threadpoolctl and torch.set_num_threads in the worker.

- ``gemm``: GFLOP/s and % of the measured peak for fn.matmul, NumPy and torch on
  the fastnn._bench_gemm cases (same operands and transposes for all), and the
  tiny 32x64 @ 64x64 call in microseconds, end to end from Python.
- ``train-step``: samples/s of one training step (forward, cross-entropy,
  backward, Adam) on configurations A, B, C (fastnn._bench_train), fastnn's
  ratios, the GEMM-only ceiling at peak FLOP/s, the peak RSS of each library's
  configuration-A worker, and the import time of fastnn and torch.

The peak comes from benchmarks/peak_flops.py (built with the C++ compiler at run
time) or from ``--peak``, one value per ``--threads`` value. Tables are Markdown.
Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE first if your environment sets them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import fastnn as fn
import peak_flops
from fastnn import _bench_gemm, _bench_train
from fastnn._bench_proc import child_env
from fastnn._bench_train import markdown

IMPORTS = {"python": "pass", "numpy": "import numpy", "fastnn": "import fastnn",
           "torch": "import torch"}


def machine() -> dict[str, Any]:
    """CPU, core count, versions and BLAS: the facts a reader needs to weigh the numbers."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    facts: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(),
                             "python": platform.python_version(), "fastnn": fn.__version__,
                             "fastnn_simd": fn.info()["simd"], "numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = ", ".join(f"{i['internal_api']} {i.get('version')}"
                                  for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        facts["blas"] = "unknown (threadpoolctl not installed)"
    try:
        import torch

        facts["torch"] = torch.__version__
    except ImportError:
        facts["torch"] = None
    return facts


def describe_machine(facts: dict[str, Any], peaks: dict[int, float] | None) -> str:
    torch = facts["torch"] or "not installed"
    lines = [f"- CPU: {facts['cpu']}, {facts['cores']} logical cores",
             f"- fastnn {facts['fastnn']} (GEMM path {facts['fastnn_simd']}), NumPy "
             f"{facts['numpy']} ({facts['blas']}), torch {torch}, Python {facts['python']}"]
    if peaks:
        lines.append("- measured FMA peak: " + ", ".join(f"{gf:.1f} GFLOP/s at {n} thread(s)"
                                                        for n, gf in peaks.items()))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            lines.append(f"- warning: {var} is set and can slow NumPy; unset it")
    return "\n".join(lines)


def resolve_peaks(args: argparse.Namespace) -> dict[int, float] | None:
    if args.peak is not None:
        if len(args.peak) != len(args.threads):
            raise SystemExit(f"report: --peak needs one value per --threads value "
                             f"({len(args.threads)}), got {len(args.peak)}")
        return dict(zip(args.threads, args.peak))
    try:
        return peak_flops.peaks(args.threads)
    except (RuntimeError, subprocess.CalledProcessError) as err:
        print(f"report: no peak ({err}); the % of peak columns are left out", file=sys.stderr)
        return None


# ---------------------------------------------------------------------------- GEMM


def gemm_tables(rows: Sequence[_bench_gemm.Row], peaks: dict[int, float] | None) -> str:
    """GFLOP/s (and % of peak) per library for the throughput cases, then the tiny call in us."""
    libs = [lib for lib in _bench_gemm.LIBS if any(r.lib == lib for r in rows)]
    found = {(r.case, r.threads, r.lib): r for r in rows}
    keys = list(dict.fromkeys((r.case, r.threads) for r in rows))
    header = ["case", "threads"]
    for lib in libs:
        header += [f"{lib} GF/s"] + (["% peak"] if peaks else [])
    header += [f"fastnn/{lib}" for lib in libs if lib != "fastnn"]
    big, tiny = [], []
    for case, threads in keys:
        spec = _bench_gemm.CASES[case]
        name = f"{case} ({spec.label})"
        got = {lib: found.get((case, threads, lib)) for lib in libs}
        ours = got.get("fastnn")
        if spec.end_to_end:
            tiny.append([name, str(threads)]
                        + ["-" if got[lib] is None else f"{got[lib].seconds * 1e6:.2f}"
                           for lib in libs]
                        + ["-" if ours is None or got[lib] is None
                           else f"{got[lib].seconds / ours.seconds:.2f}"
                           for lib in libs if lib != "fastnn"])
            continue
        cells = [name, str(threads)]
        for lib in libs:
            row = got[lib]
            cells.append("-" if row is None else f"{row.gflops:.1f}")
            if peaks:
                peak = peaks.get(threads)
                cells.append("-" if row is None or peak is None else f"{row.gflops / peak:.0%}")
        cells += ["-" if ours is None or got[lib] is None
                  else f"{ours.gflops / got[lib].gflops:.2f}" for lib in libs if lib != "fastnn"]
        big.append(cells)
    parts = []
    if big:
        parts.append(markdown(header, big))
    if tiny:
        parts.append(markdown(["case", "threads", *(f"{lib} us/call" for lib in libs),
                               *(f"{lib}/fastnn" for lib in libs if lib != "fastnn")], tiny))
    return "\n\n".join(parts)


def report_gemm(args: argparse.Namespace, peaks: dict[int, float] | None) -> dict[str, Any]:
    rows = _bench_gemm.run(cases=args.case, libs=args.lib, threads=args.threads,
                           rounds=args.rounds, quick=args.quick, stream=sys.stderr)
    print(f"\n### GEMM (median of {args.rounds} interleaved rounds, one process per library)"
          + (" (quick: a smoke test, not a measurement)" if args.quick else "") + "\n")
    print("Ratios: fastnn GFLOP/s / other's (above 1: fastnn faster); the tiny call: "
          "other's time / fastnn's.\n")
    print(gemm_tables(rows, peaks))
    return {"gemm": [{"case": r.case, "shape": _bench_gemm.CASES[r.case].label, "lib": r.lib,
                      "threads": r.threads, "seconds": r.seconds, "gflops": r.gflops}
                     for r in rows]}


# ---------------------------------------------------------------------------- train step


def import_times(rounds: int) -> dict[str, float]:
    """Median wall seconds of ``python -c "import X"`` per module, rounds interleaved.

    Imports run from cached bytecode, as from an installed package (pip compiles it):
    the children write and read their ``.pyc`` files under a temporary
    ``PYTHONPYCACHEPREFIX`` (nothing is written into the source tree), and an untimed
    first round fills it. Without that, ``PYTHONDONTWRITEBYTECODE=1`` made every
    import of a source checkout compile each module again: fastnn's import took 430
    to 490 ms instead of 350 (2-core Zen 3, interpreter start included), while NumPy and
    torch kept their installed bytecode.
    """
    names = [n for n in IMPORTS if n != "torch" or machine_has_torch()]
    samples: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="fastnn-pycache-") as cache:
        env = {k: v for k, v in child_env(1).items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for timed in [False] + [True] * rounds:
            for name in names:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", IMPORTS[name]], check=True, env=env)
                if timed:
                    samples[name].append(time.perf_counter() - start)
    return {n: statistics.median(s) for n, s in samples.items()}


def machine_has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def rss_table(rows: Sequence[_bench_train.Row]) -> str:
    """Peak RSS (MiB) of each library's configuration-A worker, per thread count."""
    picked = [r for r in rows if r.config == "A" and r.maxrss_kib is not None]
    threads = sorted({r.threads for r in picked})
    libs = [lib for lib in _bench_train.LIBS if any(r.lib == lib for r in picked)]
    body = [[lib] + [next((f"{r.maxrss_kib / 1024:.0f}" for r in picked
                           if (r.lib, r.threads) == (lib, n)), "-") for n in threads]
            for lib in libs]
    return markdown(["library", *(f"MiB, {n} thread(s)" for n in threads)], body)


def report_train(args: argparse.Namespace, peaks: dict[int, float] | None) -> dict[str, Any]:
    rows, skipped = _bench_train.run(configs=args.config, libs=args.lib, threads=args.threads,
                                     rounds=args.rounds, quick=args.quick, stream=sys.stderr)
    print(f"\n### Training step, samples/s (median of {args.rounds} interleaved rounds, one "
          "process per library)" + (" (quick: a smoke test, not a measurement)" if args.quick
                                    else "") + "\n")
    print("fastnn/X = fastnn samples/s / X samples/s (above 1: fastnn faster; fastnn is the "
          "layer-by-layer loop, fastnn-fused nn.TrainStep). GEMM ceiling: "
          "samples/s if the step were only its GEMMs (forward, dW, dx except the first "
          "layer's) at the measured peak.\n")
    for lib, why in skipped.items():
        print(f"Skipped {lib}: {why}.\n")
    print(_bench_train.format_table(rows, peaks))
    result: dict[str, Any] = {
        "train_step": [{"config": r.config, "lib": r.lib, "threads": r.threads,
                        "seconds": r.seconds, "samples_per_s": r.samples_per_s,
                        "maxrss_kib": r.maxrss_kib} for r in rows],
        "skipped": skipped}
    if any(r.config == "A" for r in rows):
        print("\n### Peak RSS of a configuration-A training run (one process per library, "
              "VmHWM where Linux has it, else ru_maxrss; imports included)\n")
        print(rss_table(rows))
    times = import_times(3 if args.quick else max(5, args.rounds))
    print("\n### Import time (median wall time of `python -c \"import X\"`, interpreter "
          "start included)\n")
    print(markdown(["module", "ms", "ms over bare python"],
                   [[name, f"{t * 1e3:.0f}", f"{(t - times['python']) * 1e3:.0f}"]
                    for name, t in times.items()]))
    result["import_seconds"] = times
    return result


# ---------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", choices=("gemm", "train-step", "all"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts, pinned for every library (default: 1 2)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="interleaved timed windows per worker; median kept (default: 7)")
    parser.add_argument("--quick", action="store_true",
                        help="one call per window and no calibration: a smoke test")
    parser.add_argument("--peak", type=float, nargs="+", metavar="GFLOPS",
                        help="peak GFLOP/s, one per --threads value (default: measure it)")
    parser.add_argument("--lib", nargs="+", help="libraries (default: all available)")
    parser.add_argument("--case", nargs="+", choices=list(_bench_gemm.CASES),
                        help="GEMM cases (default: all)")
    parser.add_argument("--config", nargs="+", choices=list(_bench_train.CONFIGS),
                        help="training configurations (default: A B C)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    facts = machine()
    peaks = resolve_peaks(args)
    print("### Machine\n")
    print(describe_machine(facts, peaks))
    result: dict[str, Any] = {"machine": facts, "peak_gflops": peaks, "rounds": args.rounds,
                              "quick": args.quick}
    if args.suite in ("gemm", "all"):
        lib = args.lib
        args.lib = None if lib is None else [x for x in lib if x in _bench_gemm.LIBS]
        result.update(report_gemm(args, peaks))
        args.lib = lib
    if args.suite in ("train-step", "all"):
        result.update(report_train(args, peaks))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
