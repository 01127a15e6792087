"""Two or more builds of fastnn side by side: GEMM cases and training steps in one table.

    python benchmarks/compare_builds.py --build before=/tmp/before after=python
    python benchmarks/compare_builds.py --build a=/tmp/a b=/tmp/b a2=/tmp/a --numpy \\
        --case mlp_forward mlp2_forward --step A C --threads 1 --rounds 9

Each ``NAME=DIR`` names a directory holding a ``fastnn`` package with its built
``_core`` (``python`` in a checkout after an in-place build, or a copy of it made before
a change: ``cp -r python/fastnn /tmp/before/``). Every build runs in its own worker
processes (``PYTHONPATH=DIR``), rounds interleaved with the other builds (and NumPy or
torch with ``--numpy`` / ``--torch``), medians kept: the machinery of
``benchmarks/report.py`` (``fastnn._bench_proc``). A GEMM case prints GFLOP/s, a step
(``fastnn._bench_train`` configuration, fastnn's fused ``TrainStep``) samples/s.
Listing one build twice under two names shows the noise of the run in the same table.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fastnn import _bench_gemm, _bench_train
from fastnn._bench_proc import Worker, interleave, worker_argv


def parse_builds(specs: Sequence[str]) -> list[tuple[str, str]]:
    """``NAME=DIR`` pairs, each DIR holding a fastnn package with a built ``_core``."""
    builds = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"compare_builds: --build takes NAME=DIR, got {spec!r}")
        path = os.path.abspath(path)
        if not os.path.isfile(os.path.join(path, "fastnn", "__init__.py")):
            raise SystemExit(f"compare_builds: {path} holds no fastnn package ({spec!r})")
        builds.append((name, path))
    return builds


def workers(module: str, fastnn_args: Sequence[str], builds: Sequence[tuple[str, str]],
            others: Sequence[tuple[str, Sequence[str]]], threads: int) -> list[Worker]:
    """One worker per build (``module.worker_main(fastnn_args)`` with that build's fastnn),
    then one per (label, arguments) in ``others`` (NumPy, torch: fastnn not imported)."""
    out = [Worker(name, worker_argv(module, fastnn_args, import_fastnn=True), threads,
                  (("PYTHONPATH", path),)) for name, path in builds]
    out += [Worker(label, worker_argv(module, other_args, import_fastnn=False), threads)
            for label, other_args in others]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", nargs="+", required=True, metavar="NAME=DIR")
    parser.add_argument("--case", nargs="*", default=["square1024", "square2048", "mlp_forward",
                        "mlp_dx", "mlp_dW", "mlp2_forward"], choices=list(_bench_gemm.CASES))
    parser.add_argument("--step", nargs="*", default=["A", "C"],
                        choices=list(_bench_train.CONFIGS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--numpy", action="store_true", help="add NumPy")
    parser.add_argument("--torch", action="store_true",
                        help="add torch (with fused Adam for the steps)")
    args = parser.parse_args(argv)
    builds = parse_builds(args.build)
    n = str(args.threads)
    libs = [lib for lib, on in (("numpy", args.numpy), ("torch", args.torch)) if on]
    print(f"{args.threads} thread(s), median of {args.rounds} interleaved rounds; "
          "GEMM in GFLOP/s, steps in samples/s\n")
    print("| workload | " + " | ".join(name for name, _ in builds + [(x, "") for x in libs])
          + " |")
    print("|:--|" + "--:|" * (len(builds) + len(libs)))
    rows = [("gemm", case) for case in args.case] + [("step", step) for step in args.step]
    for kind, name in rows:
        print(f"compare {kind} {name}", file=sys.stderr, flush=True)
        if kind == "gemm":
            module, mine = "fastnn._bench_gemm", "fastnn"
            theirs = {"numpy": "numpy", "torch": "torch"}
            work = _bench_gemm.CASES[name].flops / 1e9
        else:
            module, mine = "fastnn._bench_train", "fastnn-fused"
            theirs = {"numpy": "numpy", "torch": "torch-fused"}
            work = float(_bench_train.CONFIGS[name].batch)
        others = [(lib, [theirs[lib], name, n]) for lib in libs]
        ws = workers(module, [mine, name, n], builds, others, args.threads)
        rates = [work / t.median for t in interleave(ws, args.rounds)]
        fmt = "{:.1f}" if kind == "gemm" else "{:,.0f}"
        print(f"| {kind} {name} | " + " | ".join(fmt.format(r) for r in rates) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
