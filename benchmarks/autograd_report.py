"""Autograd against PyTorch eager, side by side in one process, against fastnn's targets.

    python benchmarks/autograd_report.py [--threads 1] [--rounds 7] [--quick]

Prints one table:

* per-op overhead: forward + backward of a chain of 20 element-wise ops on
  1-element Tensors (target: fastnn at most 0.5x torch's time);
* the eager training loop ``model(x)`` -> loss -> ``zero_grad`` -> ``backward`` ->
  ``step`` with Adam, in samples/s, on A (784-512-256-10, b128), B (64-64-10, b32)
  and C (784-1024-1024-10, b512) (targets: A and C at least 1.0x torch, B at least 3x);
* the traced ``nn.TrainStep`` of a residual MLP written as a Module subclass against
  the Sequential ``TrainStep`` with the same GEMM work (target: within 10%).

Rounds interleave the contenders; each cell is the median over rounds. Both
libraries run at ``--threads`` threads. Timings on a shared machine are noisy:
compare the ratios, which come from the same rounds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import fastnn as fn
from fastnn import nn

try:
    import torch
except ImportError:  # the torch columns are left empty
    torch = None

CONFIGS = {"A": ([784, 512, 256, 10], 128), "B": ([64, 64, 10], 32),
           "C": ([784, 1024, 1024, 10], 512)}


def chain(lib, x):
    y = x
    for _ in range(5):
        y = y * 1.01
        y = y + 0.5
        y = lib.sin(y)
        y = y * y
    return y.sum()


def per_op(lib) -> Callable[[], None]:
    x = lib.tensor([0.3], requires_grad=True)

    def run() -> None:
        chain(lib, x).backward()
    return run


def mlp(lib, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def eager_loop(lib, name: str) -> Callable[[], None]:
    sizes, batch = CONFIGS[name]
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, sizes[-1], batch))
    model = mlp(lib, sizes)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


class ResidualMLP(nn.Module):
    """784 -> w, one residual block w -> w, -> 10: the GEMMs of a 784-w-w-10 Sequential."""

    def __init__(self, d_in: int, width: int, n_out: int) -> None:
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.block = nn.Linear(width, width)
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        h = fn.relu(self.inp(x))
        h = h + fn.relu(self.block(h))
        return self.out(h)


def train_step(model: nn.Module, d_in: int, batch: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, d_in)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), fn.optim.Adam(model.parameters()))
    step(x, y)

    def run() -> None:
        step(x, y)
    return run


def timed(fns: dict[str, Callable[[], None]], reps: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each function, rounds interleaved."""
    for f in fns.values():
        for _ in range(max(1, reps // 10)):
            f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            times[k].append((time.perf_counter() - t0) / reps)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = ap.parse_args()
    fn.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    scale = 0.1 if args.quick else 1.0
    rows = []

    def reps(n: int) -> int:
        return max(1, int(n * scale))

    libs = {"fastnn": fn} | ({"torch": torch} if torch is not None else {})
    t = timed({k: per_op(lib) for k, lib in libs.items()}, reps(400), args.rounds)
    ratio = t["fastnn"] / t["torch"] if torch is not None else float("nan")
    rows.append(("per-op: 20-op chain fwd+bwd, 1-element", f"{t['fastnn'] * 1e6:.1f} us",
                 f"{t.get('torch', float('nan')) * 1e6:.1f} us", f"{ratio:.2f}x time",
                 "<= 0.5x", ratio <= 0.5))
    for name, n, target in (("A", 30, 1.0), ("B", 1500, 3.0), ("C", 4, 1.0)):
        batch = CONFIGS[name][1]
        t = timed({k: eager_loop(lib, name) for k, lib in libs.items()}, reps(n), args.rounds)
        f, tt = batch / t["fastnn"], batch / t.get("torch", float("nan"))
        sizes = "-".join(map(str, CONFIGS[name][0]))
        rows.append((f"eager loop {name}: {sizes} b{batch}, Adam", f"{f:,.0f}/s", f"{tt:,.0f}/s",
                     f"{f / tt:.3f}x", f">= {target:.0f}x", f / tt >= target))
    for d_in, width, batch, n in ((784, 512, 128, 30), (64, 64, 32, 1500)):
        seq = nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width),
                            nn.ReLU(), nn.Linear(width, 10))
        t = timed({"seq": train_step(seq, d_in, batch),
                   "res": train_step(ResidualMLP(d_in, width, 10), d_in, batch)},
                  reps(n), args.rounds)
        r = t["seq"] / t["res"]
        rows.append((f"traced residual vs Sequential TrainStep {d_in}-{width}-{width}-10 "
                     f"b{batch}", f"{batch / t['res']:,.0f}/s", f"(Seq {batch / t['seq']:,.0f}/s)",
                     f"{r:.3f}x", ">= 0.9x", r >= 0.9))
    print(f"fastnn {fn.__version__} vs torch {torch.__version__ if torch else '-'}, "
          f"{args.threads} thread(s), {platform.processor() or platform.machine()}, "
          f"SIMD {fn.info()['simd']}, median of {args.rounds} interleaved rounds")
    header = ("case", "fastnn", "torch", "ratio", "target", "met")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) if not isinstance(c, bool) else ("yes" if c else "NO")
                                for c in row) + " |")


if __name__ == "__main__":
    main()
