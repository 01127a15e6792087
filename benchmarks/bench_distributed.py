"""Data-parallel training throughput and scaling efficiency over MPI (fastnn.distributed).

For each configuration and each layout R x T (R MPI ranks of T OpenMP threads
each), it launches ``mpiexec -n R`` on this script in worker mode and times the
training step of data-parallel fastnn on random data:

    zero_grad; forward; cross-entropy; backward; allreduce_gradients; Adam step

with batch ``b`` per rank, so one step processes ``R * b`` samples. It prints
samples/s over all ranks, the share of the step spent in the gradient
Allreduce (rank 0), and the scaling efficiency against the first layout:

    efficiency = (samples/s with R x T) / ((R * T) / (R0 * T0) * samples/s with R0 x T0)

Configurations (those of the speed issue): A, MLP 784-512-256-10 with batch 128
per rank; C, MLP 784-1024-1024-10 with batch 512 per rank; both Adam.

    PYTHONPATH=python python benchmarks/bench_distributed.py                # 1x1 and 2x1
    PYTHONPATH=python python benchmarks/bench_distributed.py --layouts 1x1,2x1,4x1,1x4,2x2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

CONFIGS = {
    "A": {"sizes": (784, 512, 256, 10), "batch": 128, "steps": 40},
    "C": {"sizes": (784, 1024, 1024, 10), "batch": 512, "steps": 8},
}


def worker(config: str, repeat: int) -> None:
    """One rank: time ``repeat`` windows of training steps; rank 0 prints JSON."""
    import numpy as np

    import fastnn as fn
    from fastnn import distributed

    rank, size = distributed.init()
    spec = CONFIGS[config]
    sizes, b, steps = spec["sizes"], spec["batch"], spec["steps"]
    fn.manual_seed(0)
    layers: list[fn.nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [fn.nn.Linear(n_in, n_out), fn.nn.ReLU()]
    model = fn.nn.Sequential(*layers[:-1])
    distributed.broadcast_parameters(model)
    optimizer = fn.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = fn.nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    X = rng.normal(size=(b, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=b)

    def step() -> float:
        optimizer.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        t = time.perf_counter()
        distributed.allreduce_gradients(model)
        comm_time = time.perf_counter() - t
        optimizer.step()
        return comm_time

    for _ in range(3):  # warm-up: first touches, the flat gradient buffer
        step()
    rates, comm_shares = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        comm_time = sum(step() for _ in range(steps))
        elapsed = time.perf_counter() - start
        rates.append(size * b * steps / elapsed)
        comm_shares.append(comm_time / elapsed)
    if rank == 0:
        best = int(np.argsort(rates)[len(rates) // 2])  # the median window
        print(json.dumps({"rate": rates[best], "comm": comm_shares[best],
                          "threads": fn.get_num_threads()}))


def launch(config: str, ranks: int, threads: int, repeat: int, mpiexec: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [mpiexec, "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker",
           "--config", config, "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parse_layouts(text: str) -> list[tuple[int, int]]:
    layouts = []
    for item in text.split(","):
        ranks, _, threads = item.partition("x")
        layouts.append((int(ranks), int(threads or 1)))
    return layouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS),
                        help="configuration(s) to run (default: A and C)")
    parser.add_argument("--layouts", default="1x1,2x1",
                        help="RANKSxTHREADS per run, comma-separated; the first is the "
                        "baseline (default: 1x1,2x1)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed windows per run; the median is kept (default: 5)")
    args = parser.parse_args()
    if args.worker:
        worker(args.config[0], args.repeat)
        return
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("mpiexec not found: pip install 'fastnn[dist]'")
    layouts = parse_layouts(args.layouts)
    print(f"{os.cpu_count()} CPU(s); samples/s over all ranks, median of {args.repeat} windows")
    print(f"{'config':<34} {'ranks x threads':>15} {'samples/s':>11} {'allreduce':>10} "
          f"{'efficiency':>10}")
    for config in args.config or sorted(CONFIGS):
        spec = CONFIGS[config]
        name = f"{config}: {'-'.join(map(str, spec['sizes']))} b{spec['batch']}/rank"
        base = None
        for ranks, threads in layouts:
            r = launch(config, ranks, threads, args.repeat, mpiexec)
            if base is None:
                base = r["rate"] / (ranks * threads)
            efficiency = r["rate"] / (base * ranks * threads)
            print(f"{name:<34} {f'{ranks} x {threads}':>15} {r['rate']:>11.0f} "
                  f"{r['comm']:>9.1%} {efficiency:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
