r"""Whole-training-step throughput: fastnn against a NumPy MLP and PyTorch, per process.

One step is forward, softmax cross-entropy, backward and an Adam update (lr 1e-3,
PyTorch's defaults otherwise) of an MLP with ReLU hidden layers, on a fixed random
float32 batch. The throughput is ``batch / seconds per step`` (samples/s).

Competitors (``LIBS``):

- ``fastnn``: layer by layer, as a user writes it: ``model(x)``, ``loss(z, y)``,
  ``loss.backward()``, ``model.backward(g)``, ``opt.step()``, ``opt.zero_grad()``;
- ``fastnn-fused``: fastnn's one-call training step, when this build has one
  (see :func:`fused_step`);
- ``numpy``: :class:`NumpyMLP`, the same maths in plain NumPy float32 with
  preallocated buffers and in-place updates;
- ``torch`` and ``torch-fused``: ``torch.nn.Sequential`` with ``F.cross_entropy``,
  ``loss.backward()`` and ``torch.optim.Adam`` (default, then ``fused=True``).

Configurations (``CONFIGS``): A, 784-512-256-10 batch 128; B, 64-64-10 batch 32;
C, 784-1024-1024-10 batch 512.

Each (library, configuration, thread count) runs in its own worker process
(:mod:`fastnn._bench_proc`: interleaved rounds, medians, threads pinned for every
library). A NumPy or torch worker never imports fastnn, so its peak RSS is its own.

Example::

    >>> from fastnn import _bench_train
    >>> rows, skipped = _bench_train.run(configs=["B"], libs=["fastnn", "numpy"],
    ...                                  threads=[1], rounds=1, quick=True)
    >>> print(_bench_train.format_table(rows))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, TextIO

import numpy as np

from ._bench_proc import Worker, check_counts, interleave, pin_threads, serve, worker_argv

LR = 1e-3
LIBS = ("fastnn", "fastnn-fused", "numpy", "torch", "torch-fused")


@dataclass(frozen=True)
class Config:
    """An MLP ``sizes[0] - ... - sizes[-1]`` (ReLU between layers) trained on ``batch`` rows."""

    name: str
    sizes: tuple[int, ...]
    batch: int

    @property
    def label(self) -> str:
        return f"{self.name}: {'-'.join(map(str, self.sizes))} b{self.batch}"

    @property
    def gemm_flops_per_sample(self) -> float:
        r"""GEMM FLOPs one sample needs in a step: forward, weight and input gradients.

        :math:`2 (3 \sum_l n_l m_l - n_0 m_0)` for layers of ``n_l`` inputs and ``m_l``
        outputs: the input gradient of the first layer is not needed.
        """
        weights = [i * o for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        return 2.0 * (3 * sum(weights) - weights[0])


CONFIGS: dict[str, Config] = {c.name: c for c in (
    Config("A", (784, 512, 256, 10), 128),
    Config("B", (64, 64, 10), 32),
    Config("C", (784, 1024, 1024, 10), 512),
)}


def batch(config: Config, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The fixed training batch: inputs (batch, sizes[0]) float32, labels (batch,) int64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((config.batch, config.sizes[0]), dtype=np.float32)
    return x, rng.integers(0, config.sizes[-1], config.batch)


# ---------------------------------------------------------------------------- NumPy baseline


class NumpyMLP:
    r"""An MLP training step written in plain NumPy float32, the honest baseline.

    Forward per layer :math:`h_l = a_{l-1} W_l^T + b_l`, :math:`a_l = \max(h_l, 0)`
    (not after the last layer), mean softmax cross-entropy on the logits; backward
    :math:`\delta_L = (\mathrm{softmax}(z) - \mathrm{onehot}(y)) / N`,
    :math:`\partial W_l = \delta_l^T a_{l-1}`, :math:`\partial b_l = \sum_{rows} \delta_l`,
    :math:`\delta_{l-1} = (\delta_l W_l) \odot [a_{l-1} > 0]`; then Adam with PyTorch's
    formula. Every buffer is allocated once; the step runs with ``out=`` and in-place
    operators, as a careful NumPy user writes it.

    Args:
        params (sequence of ndarray): ``W1, b1, W2, b2, ...``, weights ``(out, in)``
            as ``nn.Linear``; copied to float32.
        batch (int): rows per step.
        lr (float): Adam learning rate. Default: ``1e-3``.
        betas (tuple of float): Adam's moment decays. Default: ``(0.9, 0.999)``.
        eps (float): Adam's denominator term. Default: ``1e-8``.

    Attributes:
        params, grads (list of ndarray): the parameters and the last step's gradients.

    Example::

        >>> mlp = NumpyMLP(params, batch=32)
        >>> loss = mlp.step(x, labels)
    """

    def __init__(self, params: Sequence[np.ndarray], batch: int, lr: float = LR,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = [np.array(p, dtype=np.float32) for p in params]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        outs = [w.shape[0] for w in self.params[::2]]
        self.acts = [np.empty((batch, n), np.float32) for n in outs]   # h_l, ReLU in place
        self.deltas = [np.empty((batch, n), np.float32) for n in outs]
        self.masks = [np.empty((batch, n), bool) for n in outs[:-1]]
        self.row_max = np.empty((batch, 1), np.float32)
        self.row_sum = np.empty((batch, 1), np.float32)
        self.rows = np.arange(batch)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The logits (batch, classes); hidden activations stay in ``self.acts``."""
        a = x
        last = len(self.acts) - 1
        for i, h in enumerate(self.acts):
            np.matmul(a, self.params[2 * i].T, out=h)
            h += self.params[2 * i + 1]
            if i < last:
                np.maximum(h, 0.0, out=h)
            a = h
        return a

    def cross_entropy(self, z: np.ndarray, labels: np.ndarray) -> float:
        """Mean softmax cross-entropy of logits ``z``; its gradient goes to ``deltas[-1]``."""
        p = self.deltas[-1]
        np.max(z, axis=1, keepdims=True, out=self.row_max)
        np.subtract(z, self.row_max, out=p)
        np.exp(p, out=p)
        np.sum(p, axis=1, keepdims=True, out=self.row_sum)
        value = float(np.mean(np.log(self.row_sum[:, 0]) + self.row_max[:, 0]
                              - z[self.rows, labels]))
        p /= self.row_sum
        p[self.rows, labels] -= 1.0
        p *= np.float32(1.0 / z.shape[0])
        return value

    def backward(self, x: np.ndarray) -> None:
        """Parameter gradients into ``self.grads`` from ``deltas[-1]`` (no input gradient)."""
        for i in range(len(self.acts) - 1, -1, -1):
            delta = self.deltas[i]
            a_prev = x if i == 0 else self.acts[i - 1]
            np.matmul(delta.T, a_prev, out=self.grads[2 * i])
            np.sum(delta, axis=0, out=self.grads[2 * i + 1])
            if i > 0:
                below, mask = self.deltas[i - 1], self.masks[i - 1]
                np.matmul(delta, self.params[2 * i], out=below)
                np.greater(a_prev, 0.0, out=mask)
                np.multiply(below, mask, out=below)

    def adam(self) -> None:
        r""":math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v +
        (1-\beta_2) g^2`, :math:`\theta \leftarrow \theta - \frac{lr}{1-\beta_1^t}
        \frac{m}{\sqrt{v} / \sqrt{1-\beta_2^t} + \epsilon}`."""
        self.t += 1
        b1, b2 = self.betas
        step_size = np.float32(self.lr / (1.0 - b1 ** self.t))
        sqrt_bc2 = np.float32(math.sqrt(1.0 - b2 ** self.t))
        for p, g, m, v, tmp in zip(self.params, self.grads, self.m, self.v, self.scratch):
            m *= np.float32(b1)
            np.multiply(g, np.float32(1.0 - b1), out=tmp)
            m += tmp
            v *= np.float32(b2)
            np.multiply(g, g, out=tmp)
            tmp *= np.float32(1.0 - b2)
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= sqrt_bc2
            tmp += np.float32(self.eps)
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp

    def step(self, x: np.ndarray, labels: np.ndarray) -> float:
        """One training step on ``(x, labels)``; returns the loss before the update."""
        value = self.cross_entropy(self.forward(x), labels)
        self.backward(x)
        self.adam()
        return value


# ---------------------------------------------------------------------------- the competitors


def fastnn_model(config: Config) -> Any:
    """``nn.Sequential(Linear, ReLU, ..., Linear)`` for ``config`` (fastnn's own init)."""
    from . import nn

    layers: list[Any] = []
    for n_in, n_out in zip(config.sizes[:-1], config.sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def fastnn_step(model: Any, loss: Any, optimizer: Any, x: np.ndarray,
                labels: np.ndarray) -> Callable[[], float]:
    """fastnn's layer-by-layer training step on ``(x, labels)``; each call returns the loss."""

    def step() -> float:
        value = loss(model(x), labels)
        model.backward(loss.backward())
        optimizer.step()
        optimizer.zero_grad()
        return value

    return step


def fused_step() -> Callable[..., Callable[[np.ndarray, np.ndarray], float]] | None:
    """fastnn's one-call training step, or ``None`` where this build has none.

    ``fn.nn.TrainStep(model, loss, optimizer)`` builds a callable
    ``step(x, y) -> loss`` doing zero_grad, forward, loss, backward and the optimizer
    step in one C++ call.
    """
    import fastnn as fn

    return getattr(fn.nn, "TrainStep", None)


def _fastnn(config: Config, fused: bool) -> Callable[[], float]:
    from . import manual_seed, nn, optim

    manual_seed(0)
    model = fastnn_model(config)
    loss, optimizer = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=LR)
    x, labels = batch(config)
    if not fused:
        return fastnn_step(model, loss, optimizer, x, labels)
    factory = fused_step()
    if factory is None:
        raise RuntimeError("bench: this fastnn has no fused training step (fn.nn.TrainStep)")
    step = factory(model, loss, optimizer)
    return lambda: step(x, labels)


def _numpy(config: Config) -> Callable[[], float]:
    rng = np.random.default_rng(0)
    params: list[np.ndarray] = []
    for n_in, n_out in zip(config.sizes[:-1], config.sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default init range
        params += [rng.uniform(-bound, bound, (n_out, n_in)), rng.uniform(-bound, bound, n_out)]
    mlp = NumpyMLP(params, config.batch)
    x, labels = batch(config)
    return lambda: mlp.step(x, labels)


def _torch(config: Config, fused: bool) -> Callable[[], Any]:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    layers: list[Any] = []
    for n_in, n_out in zip(config.sizes[:-1], config.sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True if fused else None)
    x_np, labels_np = batch(config)
    x, labels = torch.from_numpy(x_np), torch.from_numpy(labels_np)

    def step() -> Any:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


def build(lib: str, config: Config) -> Callable[[], Any]:
    """One training step of ``lib`` on ``config``, as a zero-argument callable."""
    if lib in ("fastnn", "fastnn-fused"):
        return _fastnn(config, fused=lib == "fastnn-fused")
    if lib == "numpy":
        return _numpy(config)
    if lib in ("torch", "torch-fused"):
        return _torch(config, fused=lib == "torch-fused")
    raise ValueError(f"bench: unknown library {lib!r}; choose from {list(LIBS)}")


def unavailable(lib: str) -> str | None:
    """Why ``lib`` cannot run here (``None`` if it can); checked in this process."""
    if lib == "fastnn-fused" and fused_step() is None:
        return "no fused training step in this fastnn"
    if lib.startswith("torch"):
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return "torch not installed"
    return None


def worker_main(args: Sequence[str]) -> None:
    """Worker entry: ``LIB CONFIG THREADS [--quick]``; serves one training step."""
    lib, config, threads = args[0], CONFIGS[args[1]], int(args[2])
    if lib.startswith("torch"):
        import torch  # noqa: F401  (imported before pinning, so pin_threads pins it)
    pin_threads(threads)
    serve(build(lib, config), quick="--quick" in args[3:])


# ---------------------------------------------------------------------------- driver


@dataclass(frozen=True)
class Row:
    """One library on one configuration at one thread count."""

    config: str
    lib: str
    threads: int
    seconds: float            # median seconds per step
    maxrss_kib: int | None    # the worker's peak resident set size
    spread: float = 1.0       # slowest round over fastest (Timing.spread)

    @property
    def samples_per_s(self) -> float:
        return CONFIGS[self.config].batch / self.seconds


def check_names(configs: Sequence[str] | None, libs: Sequence[str] | None) -> None:
    """``ValueError`` naming the valid choices for an unknown configuration or library."""
    _choose(configs, list(CONFIGS), "configuration")
    _choose(libs, LIBS, "library")


def _choose(names: Sequence[str] | None, valid: Sequence[str], what: str) -> list[str]:
    if names is None:
        return list(valid)
    for name in names:
        if name not in valid:
            raise ValueError(f"bench: unknown {what} {name!r}; choose from {list(valid)}")
    return [v for v in valid if v in names]


def run(*, configs: Sequence[str] | None = None, libs: Sequence[str] | None = None,
        threads: Sequence[int] = (1,), rounds: int = 5, quick: bool = False,
        stream: TextIO | None = None) -> tuple[list[Row], dict[str, str]]:
    """Times the training step of each library on each configuration and thread count.

    Args:
        configs (sequence of str, optional): names from :data:`CONFIGS`. Default: all.
        libs (sequence of str, optional): names from :data:`LIBS`. Default: all.
        threads (sequence of int): thread counts, pinned for every library. Default: ``(1,)``.
        rounds (int): interleaved timed windows per worker; the median is kept. Default: ``5``.
        quick (bool): one step per window, no calibration: a smoke test. Default: ``False``.
        stream (file, optional): where to write a progress line per comparison.

    Returns:
        (list[Row], dict[str, str]): the rows (configuration, threads, then library
        order) and, for each library that cannot run here, why it was skipped.

    Raises:
        ValueError: an unknown configuration or library, or a bad count.
        RuntimeError: a worker failed.
    """
    chosen = _choose(configs, list(CONFIGS), "configuration")
    wanted = _choose(libs, LIBS, "library")
    check_counts("_bench_train.run()", rounds, threads)
    skipped = {lib: why for lib in wanted if (why := unavailable(lib)) is not None}
    runnable = [lib for lib in wanted if lib not in skipped]
    rows: list[Row] = []
    for name in chosen:
        for n in threads:
            if stream is not None:
                print(f"bench train-step {CONFIGS[name].label}, {n} thread(s): "
                      f"{', '.join(runnable)}", file=stream, flush=True)
            extra = ["--quick"] if quick else []
            workers = [Worker(lib, worker_argv("fastnn._bench_train", [lib, name, str(n), *extra],
                                               import_fastnn=lib.startswith("fastnn")), n)
                       for lib in runnable]
            for timing in interleave(workers, rounds):
                rows.append(Row(name, timing.label, n, timing.median, timing.maxrss_kib,
                                timing.spread))
    return rows, skipped


# ---------------------------------------------------------------------------- reporting


def _rate(rows: Sequence[Row], config: str, threads: int, lib: str) -> float | None:
    for r in rows:
        if (r.config, r.threads, r.lib) == (config, threads, lib):
            return r.samples_per_s
    return None


def markdown(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A Markdown table, first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) if i == 0 else c.rjust(w)
                  for i, (c, w) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(":" + "-" * (w + 1) if i == 0 else "-" * (w + 1) + ":"
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in body)])


def format_table(rows: Sequence[Row], peaks: dict[int, float] | None = None) -> str:
    """Samples/s per library, fastnn's ratios, and (given peaks) the GEMM-only ceiling.

    Ratios are fastnn samples/s over the other library's (above 1: fastnn is
    faster): ``fastnn/X`` for the layer-by-layer loop, ``fastnn-fused/X`` for
    ``nn.TrainStep`` when it was measured. ``peaks`` maps a thread count to the
    measured peak GFLOP/s; the ceiling is ``peak / Config.gemm_flops_per_sample``, the
    samples/s if the step were nothing but its GEMMs at peak speed.
    """
    libs = [lib for lib in LIBS if any(r.lib == lib for r in rows)]
    others = [lib for lib in ("numpy", "torch", "torch-fused") if lib in libs]
    ours_libs = [lib for lib in ("fastnn", "fastnn-fused") if lib in libs]
    header = ["config", "threads", *libs,
              *(f"{mine}/{lib}" for mine in ours_libs for lib in others)]
    if peaks:
        header += ["GEMM ceiling", "fastnn % of ceiling"]
    body = []
    keys = list(dict.fromkeys((r.config, r.threads) for r in rows))
    for config, threads in keys:
        rates = {lib: _rate(rows, config, threads, lib) for lib in libs}
        cells = [CONFIGS[config].label, str(threads)]
        cells += ["-" if rates[lib] is None else f"{rates[lib]:,.0f}" for lib in libs]
        for mine in ours_libs:
            for lib in others:
                a, b = rates[mine], rates[lib]
                cells.append("-" if a is None or b is None else f"{a / b:.2f}")
        ours = rates.get("fastnn")
        if peaks:
            peak = peaks.get(threads)
            ceiling = None if peak is None else peak * 1e9 / CONFIGS[config].gemm_flops_per_sample
            cells.append("-" if ceiling is None else f"{ceiling:,.0f}")
            cells.append("-" if ceiling is None or ours is None else f"{ours / ceiling:.0%}")
        body.append(cells)
    return markdown(header, body)


def describe(skipped: dict[str, str], rounds: int, quick: bool) -> str:
    """The lines above the table: what was measured, how, and what was skipped."""
    lines = [f"samples/s, median of {rounds} interleaved round(s), one process per library"
             + (" (quick: one step per round, not a measurement)" if quick else ""),
             "fastnn: the layer-by-layer loop (model.backward returns the input gradient: "
             "one product more than the others, which skip the first layer's); "
             "fastnn-fused: nn.TrainStep; torch-fused: torch with Adam(fused=True); a/b: "
             "a's samples/s over b's (> 1: a is faster)"]
    lines += [f"skipped {lib}: {why}" for lib, why in skipped.items()]
    return "\n".join(lines)

