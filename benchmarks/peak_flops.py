"""Measured float32 FMA peak of this CPU, per thread count (GFLOP/s), for "% of peak" columns.

Builds benchmarks/peak_flops.cpp with ``g++ -O3 -march=native -pthread`` (``$CXX``
overrides the compiler) into a temporary directory and runs it once per thread
count: independent FMA chains in registers, AVX2 always, AVX-512 too where the
compiler and this CPU support it; the peak is the faster of the two. It is a
probe for this machine only, hence ``-march=native``. Without a compiler, pass
the peak by hand (``report.py --peak``).

    python benchmarks/peak_flops.py --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peak_flops.cpp")


def measure(threads: Sequence[int], iters: int = 10_000_000) -> dict[int, dict[str, float]]:
    """GFLOP/s per ISA (``"avx2"``, maybe ``"avx512"``) for each thread count.

    Raises:
        RuntimeError: no compiler, or the probe failed to build or run.
    """
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise RuntimeError(f"peak_flops: compiler {cxx!r} not found; pass --peak GFLOPS instead")
    with tempfile.TemporaryDirectory(prefix="fastnn-peak-") as tmp:
        exe = os.path.join(tmp, "peak_flops")
        build = subprocess.run([cxx, "-O3", "-march=native", "-pthread", SOURCE, "-o", exe],
                               capture_output=True, text=True)
        if build.returncode != 0:
            raise RuntimeError(f"peak_flops: build failed; pass --peak GFLOPS instead:\n"
                               f"{build.stderr}")
        results = {}
        for n in threads:
            proc = subprocess.run([exe, str(n), str(iters)], capture_output=True, text=True,
                                  check=True)
            results[n] = {isa: float(value) for isa, value in
                          (line.split() for line in proc.stdout.splitlines())}
    return results


def peaks(threads: Sequence[int]) -> dict[int, float]:
    """The peak GFLOP/s (best ISA) for each thread count."""
    return {n: max(rates.values()) for n, rates in measure(threads).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    for n, rates in measure(args.threads).items():
        print(f"threads {n}: " + ", ".join(f"{isa} {gf:.1f} GFLOP/s" for isa, gf in rates.items()))


if __name__ == "__main__":
    main()
