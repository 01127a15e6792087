"""fastnn's GEMM at several K-block depths (kc) side by side, with NumPy, in one table.

    PYTHONPATH=python python benchmarks/gemm_blocks.py                  # kc 128 192 256 384
    PYTHONPATH=python python benchmarks/gemm_blocks.py --kc 96 128 384 --threads 2

The GEMM blocks come from the caches (``cpp/src/gemm/arch.cpp``, ``derive_blocking``): kc is
the kernel table's (384 on the avx512 and avx2 paths) unless the A micro-panel (mr x kc
floats; on the avx2 path also the B micro-panel, kc x nr) would take more than half of L1d,
and the A block (mc x kc) takes half of L2. This script picks each kc by reporting a smaller
L1d to fastnn through ``FASTNN_CACHE_SIZES`` (twice that micro-panel; L2 and L3 stay this
machine's, so mc follows from kc as in normal use), then
times the GEMM cases of ``benchmarks/report.py`` with the same machinery (a worker process
per setting and for NumPy, interleaved rounds, medians) and prints GFLOP/s per case and kc.

It is the measurement left open on Intel Xeons: the avx512 8 x 48 tile's B
micro-panel (kc x 48 floats) fits a 48 KiB L1d only at kc 128, while on Zen 4, whose
FMA rate is half a Xeon's per cycle, streaming it from L2 at kc 384 was fastest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence

import fastnn as fn
from fastnn import _bench_gemm
from fastnn._bench_proc import Worker, interleave, worker_argv

CASES = ("square1024", "square2048", "mlp_forward", "mlp_dx", "mlp_dW", "mlp2_forward")


def cache_sizes_for(kc: int, blocking: dict) -> str:
    """FASTNN_CACHE_SIZES under which fastnn derives this kc (this machine's L2 and L3): an
    L1d twice the micro-panel that kc keeps in half of it, the A panel (mr x kc floats) on
    the avx512 paths, the B panel (kc x nr) on avx2 and scalar; the first that gives kc."""
    for floats_per_k in (blocking["mr"], blocking["nr"]):
        sizes = f"{2 * floats_per_k * 4 * kc},{blocking['l2']},{blocking['l3']}"
        if blocks_under({"FASTNN_CACHE_SIZES": sizes})["kc"] == kc:
            break
    return sizes


def blocks_under(env: dict[str, str]) -> dict:
    """fn.info()["gemm_blocking"] in a fresh process with `env` added."""
    code = "import json, fastnn; print(json.dumps(fastnn.info()['gemm_blocking']))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def settings(kcs: Sequence[int], blocking: dict) -> list[tuple[str, dict[str, str]]]:
    """(label, environment) per setting: the default blocks first, then one per kc."""
    out = [(f"default (kc {blocking['kc']})", {})]
    for kc in kcs:
        env = {"FASTNN_CACHE_SIZES": cache_sizes_for(kc, blocking)}
        got = blocks_under(env)
        out.append((f"kc {got['kc']} (mc {got['mc']})", env))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kc", type=int, nargs="+", default=[128, 192, 256, 384],
                        help="K-block depths to try (multiples of 8, at most the table's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--case", nargs="+", default=list(CASES), choices=list(_bench_gemm.CASES))
    args = parser.parse_args(argv)
    info = fn.info()
    blocking = info["gemm_blocking"]
    if not blocking["l2"] or not blocking["l3"]:
        parser.error("this machine's L2 / L3 sizes are unknown (fn.info()['gemm_blocking'])")
    if any(kc < 16 or kc % 8 for kc in args.kc):
        parser.error("--kc values must be multiples of 8, at least 16")
    runs = settings(args.kc, blocking)
    print(f"fastnn {fn.__version__}, simd {info['simd']}, blocks {blocking}; "
          f"{args.threads} thread(s), median of {args.rounds} interleaved rounds, GFLOP/s\n")
    print("| case | " + " | ".join(label for label, _ in runs) + " | numpy |")
    print("|:--|" + "--:|" * (len(runs) + 1))
    for case in args.case:
        print(f"bench gemm {case}", file=sys.stderr, flush=True)
        n = str(args.threads)
        workers = [Worker(label, worker_argv("fastnn._bench_gemm", ["fastnn", case, n],
                                             import_fastnn=True), args.threads,
                          tuple(env.items()))
                   for label, env in runs]
        workers.append(Worker("numpy", worker_argv("fastnn._bench_gemm", ["numpy", case, n],
                                                   import_fastnn=False), args.threads))
        flops = _bench_gemm.CASES[case].flops
        rates = [flops / t.median / 1e9 for t in interleave(workers, args.rounds)]
        print(f"| {case} | " + " | ".join(f"{r:.1f}" for r in rates) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
