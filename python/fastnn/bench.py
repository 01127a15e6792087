"""``fastnn bench``: kernel timings of fastnn against equivalent hand-written NumPy code.

Each case runs the same float32 maths on the same inputs twice: once through
fastnn's public API (``fn.matmul``, ``nn`` layers, losses, ``optim.Adam``) and
once as plain NumPy, written the way a careful NumPy user would. Before timing,
both are called once and their outputs compared element-wise, to a tolerance
relative to each output's scale (see :class:`Pair`), so the table never
compares different work; a mismatch raises ``RuntimeError``.

Timing is timeit-style: after a warm-up, each side runs ``repeat`` loops of a
calibrated number of calls (about 0.15 s per side and case in all at one thread,
0.1 s per loop at several; one call per loop in quick mode), fastnn and NumPy
loops interleaved to spread the noise of a shared machine over both (at several
threads each loop starts after a pause that lets the other side's idle pool
threads stop spinning, and one untimed call), and the per-call time is the
median over the loops.
``ratio`` is NumPy time / fastnn time: above 1, fastnn is faster. GFLOP/s are
given for the GEMM-type cases (matmul, Linear, the training step).

fastnn runs on ``threads`` threads; NumPy's BLAS is pinned to the same count
with threadpoolctl when it is installed (the table header says when it is
not). NumPy's element-wise operations run on one thread whatever the count.
Environment variables such as ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``
(set on some machines) can slow OpenBLAS down considerably; this module leaves
the environment alone, so unset them for a fair baseline, e.g.::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE fastnn bench

Building the cases draws layer weights and dropout seeds from fastnn's global
generator (:func:`fastnn.manual_seed`).

Example::

    >>> from fastnn import bench
    >>> rows = bench.run(quick=True, threads=1, cases=["matmul", "adam"])
    >>> print(bench.format_table(rows))
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, TextIO

import numpy as np

from . import nn, optim
from ._bench_proc import SETTLE_S, WINDOW_S
from ._runtime import get_num_threads, info, set_num_threads
from ._validation import check_int
from .functional import matmul

Outputs = tuple[Any, ...]  # the arrays (and floats) one call produces, compared by the check
SECONDS_PER_SIDE = 0.15    # full mode: time per case and library, over all repeats
SLOW_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Pair:
    r"""One case, ready to run: the fastnn and NumPy callables and how to compare them.

    Each callable does one unit of work (e.g. a forward and a backward) and
    returns its outputs. :meth:`verify` compares each output element-wise,
    :math:`|a - b| \le \text{tol} \, (|b| + \max |b|)` (``b`` NumPy's), so the
    tolerance is relative to the output's scale, or calls
    ``check(fastnn_outputs, numpy_outputs)`` instead when given, which raises
    ``RuntimeError`` on a mismatch.
    """

    fastnn: Callable[[], Outputs]
    numpy: Callable[[], Outputs]
    tol: float = 1e-6
    check: Callable[[Outputs, Outputs], None] | None = None

    def verify(self, name: str) -> None:
        """Calls both sides once; ``RuntimeError`` naming case ``name`` if they disagree."""
        ours, theirs = self.fastnn(), self.numpy()
        if self.check is not None:
            self.check(ours, theirs)
            return
        for i, (a, b) in enumerate(zip(ours, theirs)):
            scale = float(np.max(np.abs(b), initial=0.0))
            if not np.allclose(a, b, rtol=self.tol, atol=self.tol * scale):
                err = float(np.max(np.abs(np.asarray(a, np.float64) - b)))
                raise RuntimeError(f"bench: case {name!r}: fastnn and NumPy disagree on output "
                                   f"{i} (max abs difference {err:.3g}, largest |value| "
                                   f"{scale:.3g}, tol={self.tol})")


@dataclass(frozen=True)
class Case:
    """A named benchmark: ``build(rng)`` makes fresh inputs and state, returns a :class:`Pair`."""

    name: str
    size: str
    build: Callable[[np.random.Generator], Pair]
    flops: float | None = None  # per call; GFLOP/s is shown when set


@dataclass(frozen=True)
class Row:
    """The timing of one case at one thread count (seconds per call, medians)."""

    case: str
    size: str
    threads: int
    fastnn_s: float
    numpy_s: float
    flops: float | None = None

    @property
    def ratio(self) -> float:
        """NumPy time / fastnn time: above 1, fastnn is faster."""
        return self.numpy_s / self.fastnn_s

    @property
    def fastnn_gflops(self) -> float | None:
        return None if self.flops is None else self.flops / self.fastnn_s / 1e9

    @property
    def numpy_gflops(self) -> float | None:
        return None if self.flops is None else self.flops / self.numpy_s / 1e9


def _randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


# ---------------------------------------------------------------------------- NumPy references


def _np_cross_entropy(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z`` (N, C), gradient (softmax - onehot) / N."""
    rows = np.arange(z.shape[0])
    zmax = z.max(axis=1, keepdims=True)
    e = np.exp(z - zmax)
    s = e.sum(axis=1, keepdims=True)
    value = float(np.mean(np.log(s[:, 0]) + zmax[:, 0] - z[rows, labels]))
    grad = e / s
    grad[rows, labels] -= 1.0
    grad /= z.shape[0]
    return value, grad


class _NumpyAdam:
    r"""Adam written out in NumPy float32, PyTorch's formula (no weight decay, no amsgrad).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2,
        \qquad \theta \leftarrow \theta - \frac{lr}{1-\beta_1^t}
        \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}
    """

    def __init__(self, params: list[np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1.0 - b1 ** self.t)
        sqrt_bc2 = math.sqrt(1.0 - b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= sqrt_bc2
            denom += self.eps
            p -= step_size * (m / denom)


def _np_gelu_tanh(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""GELU, tanh form: :math:`y = \frac{x}{2}(1 + t)`, :math:`t = \tanh(c (x + 0.044715 x^3))`.

    :math:`dy/dx = \frac{1}{2}(1 + t) + \frac{x}{2}(1 - t^2)\, c\, (1 + 3 \cdot 0.044715 x^2)`.
    """
    c = math.sqrt(2.0 / math.pi)
    x2 = x * x
    t = np.tanh(c * x * (1.0 + 0.044715 * x2))
    y = 0.5 * x * (1.0 + t)
    dx = g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x2))
    return y, dx


def _np_relu(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(x, 0.0), g * (x > 0)


def _np_sigmoid(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = 1.0 / (1.0 + np.exp(-x))
    return y, g * y * (1.0 - y)


def _np_tanh(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.tanh(x)
    return y, g * (1.0 - y * y)


# ---------------------------------------------------------------------------- case builders


def _matmul_case(m: int, k: int, n: int, trans_b: bool = False) -> Callable[..., Pair]:
    """``(m, k) @ (k, n)``; with ``trans_b`` the right operand is stored ``(n, k)`` (as Linear)."""

    def build(rng: np.random.Generator) -> Pair:
        a = _randn(rng, m, k)
        b = _randn(rng, n, k) if trans_b else _randn(rng, k, n)
        b_op = b.T if trans_b else b
        out_f, out_n = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
        return Pair(lambda: (matmul(a, b, trans_b=trans_b, out=out_f),),
                    lambda: (np.matmul(a, b_op, out=out_n),), tol=1e-5)

    return build


def _linear_forward(rng: np.random.Generator) -> Pair:
    layer = nn.Linear(784, 512)
    w, b = layer.weight.data.copy(), layer.bias.data.copy()
    x = _randn(rng, 128, 784)

    def numpy_forward() -> Outputs:
        y = x @ w.T
        y += b
        return (y,)

    return Pair(lambda: (layer(x),), numpy_forward, tol=1e-5)


def _linear_backward(rng: np.random.Generator) -> Pair:
    """dx = g W, dW += g^T x, db += sum_rows g (both accumulate, as fastnn's backward does)."""
    layer = nn.Linear(784, 512)
    w = layer.weight.data.copy()
    x, g = _randn(rng, 128, 784), _randn(rng, 128, 512)
    layer(x)
    dw, db = np.zeros_like(w), np.zeros(512, np.float32)

    def numpy_backward() -> Outputs:
        dx = g @ w
        np.add(dw, g.T @ x, out=dw)
        np.add(db, g.sum(axis=0), out=db)
        return dx, dw, db

    return Pair(lambda: (layer.backward(g), layer.weight.grad, layer.bias.grad), numpy_backward,
                tol=1e-5)


def _activation_case(module: Callable[[], nn.Module],
                     reference: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
                     ) -> Callable[..., Pair]:
    """Forward then backward of an element-wise activation on (128, 512)."""

    def build(rng: np.random.Generator) -> Pair:
        act = module()
        x, g = _randn(rng, 128, 512), _randn(rng, 128, 512)

        def fastnn_call() -> Outputs:
            y = act(x)
            return y, act.backward(g)

        return Pair(fastnn_call, lambda: reference(x, g), tol=5e-6)

    return build


def _cross_entropy_case(classes: int) -> Callable[..., Pair]:
    """Mean softmax cross-entropy of (128, classes) logits, value and gradient."""

    def build(rng: np.random.Generator) -> Pair:
        loss = nn.CrossEntropyLoss()
        z = 3 * _randn(rng, 128, classes)
        labels = rng.integers(0, classes, 128)

        def fastnn_call() -> Outputs:
            value = loss(z, labels)
            return value, loss.backward()

        return Pair(fastnn_call, lambda: _np_cross_entropy(z, labels), tol=2e-6)

    return build


def _adam(rng: np.random.Generator) -> Pair:
    """One Adam step on a single parameter of 2^20 elements (gradient held fixed)."""
    p0, g = 0.1 * _randn(rng, 1 << 20), _randn(rng, 1 << 20)
    param = nn.Parameter(p0)
    param.grad[...] = g
    opt = optim.Adam([param], lr=1e-3)
    p = p0.copy()
    ref = _NumpyAdam([p], lr=1e-3)

    def fastnn_step() -> Outputs:
        opt.step()
        return (param.data,)

    def numpy_step() -> Outputs:
        ref.step([g])
        return (p,)

    return Pair(fastnn_step, numpy_step, tol=1e-6)


def _dropout(rng: np.random.Generator) -> Pair:
    """Inverted dropout, p = 0.5, on (128, 512).

    The two sides draw different masks (fastnn hashes (seed, index); NumPy uses
    its Generator), so the check verifies the work instead of the values: every
    output element is 0 or ``x / (1 - p)``, and both keep 1 - p of the elements
    to within 1 % (about five standard deviations for 65,536 draws).
    """
    p, scale = 0.5, 2.0
    x = _randn(rng, 128, 512)
    drop = nn.Dropout(p)
    mask_rng = np.random.default_rng(rng.integers(1 << 32))

    def numpy_dropout() -> Outputs:
        y = x * (mask_rng.random(x.shape, dtype=np.float32) >= p)
        y *= scale
        return (y,)

    def check(ours: Outputs, theirs: Outputs) -> None:
        for label, y in (("fastnn", ours[0]), ("numpy", theirs[0])):
            kept = y != 0
            if not np.allclose(y[kept], x[kept] * scale, rtol=1e-6, atol=0.0):
                raise RuntimeError(f"dropout: {label} kept elements are not x / (1 - p)")
            if abs(kept.mean() - (1 - p)) > 0.01:
                raise RuntimeError(f"dropout: {label} kept {kept.mean():.4f} of the elements, "
                                   f"expected {1 - p}")

    return Pair(lambda: (drop(x),), numpy_dropout, check=check)


MLP_SIZES = (784, 512, 256, 10)
MLP_BATCH = 128


def _train_step(rng: np.random.Generator) -> Pair:
    r"""One training step of an MLP 784-512-256-10 (tanh), batch 128, cross-entropy, Adam.

    fastnn: zero_grad, Sequential forward, loss, backward, Adam step. NumPy: the
    same maths written out, including the input gradient of the first layer,
    which fastnn's ``Linear.backward`` always computes.

    The hidden activation is tanh, not ReLU, so that the check is robust: a
    pre-activation within rounding of 0 (it happens in about one build in 40)
    can take ReLU's kink on different sides in fastnn and NumPy, which changes a
    whole row of the first layer's gradient.

    Adam runs with ``eps=1e-6`` instead of ``1e-8`` (the cost is the same). Its
    first step is ``lr * g / (|g| + eps)``: a float32 rounding difference
    :math:`\delta \approx 10^{-9}` in a near-zero gradient (BLAS kernels sum in
    different orders) moves a weight by up to ``lr * delta / eps``, which is
    ``lr / 10`` with ``1e-8`` (as much as a real bug) but ``lr / 1000`` with ``1e-6``,
    well inside the check's tolerance.
    """
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    loss = nn.CrossEntropyLoss()
    params = model.parameters()
    opt = optim.Adam(params, lr=1e-3, eps=1e-6)
    x = rng.random((MLP_BATCH, MLP_SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, MLP_SIZES[-1], MLP_BATCH)

    w1, b1, w2, b2, w3, b3 = np_params = [p.data.copy() for p in params]
    ref = _NumpyAdam(np_params, lr=1e-3, eps=1e-6)

    def fastnn_step() -> Outputs:
        opt.zero_grad()
        value = loss(model(x), labels)
        dx = model.backward(loss.backward())
        opt.step()
        return (value, dx, *(p.grad for p in params), *(p.data for p in params))

    def numpy_step() -> Outputs:
        h1 = x @ w1.T
        h1 += b1
        a1 = np.tanh(h1)
        h2 = a1 @ w2.T
        h2 += b2
        a2 = np.tanh(h2)
        z = a2 @ w3.T
        z += b3
        value, dz = _np_cross_entropy(z, labels)
        dh2 = (dz @ w3) * (1.0 - a2 * a2)
        dh1 = (dh2 @ w2) * (1.0 - a1 * a1)
        dx = dh1 @ w1
        grads = [dh1.T @ x, dh1.sum(axis=0), dh2.T @ a1, dh2.sum(axis=0), dz.T @ a2,
                 dz.sum(axis=0)]
        ref.step(grads)
        return (value, dx, *grads, *np_params)

    return Pair(fastnn_step, numpy_step, tol=3e-4)


def _gemm_flops(m: int, k: int, n: int) -> float:
    return 2.0 * m * k * n


_MLP_WEIGHTS = sum(i * o for i, o in zip(MLP_SIZES[:-1], MLP_SIZES[1:]))

CASES: dict[str, Case] = {c.name: c for c in (
    Case("matmul.mlp", "128x784 @ 784x512", _matmul_case(128, 784, 512),
         _gemm_flops(128, 784, 512)),
    Case("matmul.mlp_nt", "128x784 @ (512x784)^T", _matmul_case(128, 784, 512, trans_b=True),
         _gemm_flops(128, 784, 512)),
    Case("matmul.512", "512x512 @ 512x512", _matmul_case(512, 512, 512),
         _gemm_flops(512, 512, 512)),
    Case("matmul.1024", "1024x1024 @ 1024x1024", _matmul_case(1024, 1024, 1024),
         _gemm_flops(1024, 1024, 1024)),
    Case("linear.forward", "128x784 -> 512", _linear_forward, _gemm_flops(128, 784, 512)),
    Case("linear.backward", "128x784 -> 512", _linear_backward, 2 * _gemm_flops(128, 784, 512)),
    Case("activation.relu", "128x512 fwd+bwd", _activation_case(nn.ReLU, _np_relu)),
    Case("activation.sigmoid", "128x512 fwd+bwd", _activation_case(nn.Sigmoid, _np_sigmoid)),
    Case("activation.tanh", "128x512 fwd+bwd", _activation_case(nn.Tanh, _np_tanh)),
    Case("activation.gelu", "128x512 fwd+bwd, tanh form",
         _activation_case(lambda: nn.GELU(approximate="tanh"), _np_gelu_tanh)),
    Case("cross_entropy.10", "128x10 fwd+bwd", _cross_entropy_case(10)),
    Case("cross_entropy.1000", "128x1000 fwd+bwd", _cross_entropy_case(1000)),
    Case("adam", "1,048,576 params", _adam),
    Case("dropout", "128x512 fwd, p=0.5", _dropout),
    Case("train_step", "MLP 784-512-256-10 tanh, batch 128", _train_step,
         3 * 2.0 * MLP_BATCH * _MLP_WEIGHTS),  # forward GEMMs + two backward GEMMs per layer
)}


# ---------------------------------------------------------------------------- running


def select_cases(names: Sequence[str] | None = None) -> list[Case]:
    """The cases named, in table order; a group name (``"matmul"``) selects all its cases.

    Raises:
        ValueError: a name matches no case (the message lists the valid names).
    """
    if names is None:
        return list(CASES.values())
    chosen = set()
    for name in names:
        hits = {c for c in CASES if c == name or c.startswith(name + ".")}
        if not hits:
            groups = sorted({c.split(".")[0] for c in CASES})
            raise ValueError(f"bench: unknown case {name!r}; choose from groups {groups} or "
                             f"cases {list(CASES)}")
        chosen |= hits
    return [c for n, c in CASES.items() if n in chosen]


def _loop(f: Callable[[], Outputs], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        f()
    return time.perf_counter() - start


def _calls_per_loop(f: Callable[[], Outputs], target: float) -> int:
    """How many calls of ``f`` take about ``target`` seconds (timeit.autorange, then scaled)."""
    number = 1
    while True:
        elapsed = _loop(f, number)
        if elapsed >= target / 10:
            return max(1, round(number * target / elapsed))
        number *= 10


def _time_pair(pair: Pair, repeat: int, quick: bool,
               threads: int = 1) -> tuple[float, float]:
    """Median seconds per call of (fastnn, NumPy), their loops interleaved.

    With several threads each loop starts after a pause of SETTLE_S and one untimed
    call: the pool threads of the side that ran last keep spinning when idle
    (OpenBLAS's for about 0.1 s) and would otherwise hold a core the other side's
    threads need (at 2 threads on 2 cores fastnn's matmul then ran at its 1-thread
    speed, 0.43x to 0.52x NumPy); the untimed call then wakes this side's threads,
    and on a virtual machine the idle vCPUs, which took up to one extra call's time.
    """
    funcs = (pair.fastnn, pair.numpy)
    if quick:
        numbers = [1, 1]
    else:
        for f in funcs:  # first calls: allocations, thread start-up; then calibrate warm
            f()
        # Several threads: loops of at least WINDOW_S, so that the ramp-up after each
        # pause (threads, and on a virtual machine vCPUs, waking) is a small part.
        target = SECONDS_PER_SIDE / repeat
        if threads > 1:
            target = max(target, WINDOW_S)
        numbers = [_calls_per_loop(f, target) for f in funcs]
    settle = threads > 1 and not quick
    samples: tuple[list[float], list[float]] = ([], [])
    for r in range(repeat):
        order = (0, 1) if r % 2 == 0 else (1, 0)  # alternate who runs first
        for side in order:
            if settle:
                time.sleep(SETTLE_S)
                funcs[side]()
            samples[side].append(_loop(funcs[side], numbers[side]) / numbers[side])
    return statistics.median(samples[0]), statistics.median(samples[1])


def _blas_limits(threads: int) -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(threads, user_api="blas")


@contextlib.contextmanager
def _fastnn_threads(threads: int) -> Iterator[None]:
    before = get_num_threads()
    set_num_threads(threads)
    try:
        yield
    finally:
        set_num_threads(before)


def run(*, quick: bool = False, threads: int | None = None, repeat: int = 5,
        cases: Sequence[str] | None = None, stream: TextIO | None = None) -> list[Row]:
    """Checks and times each case with fastnn and with NumPy; see the module docstring.

    Args:
        quick (bool): one call per timed loop and no calibration: a smoke test
            taking about a second, not a measurement. Default: ``False``.
        threads (int, optional): thread count for fastnn and for NumPy's BLAS.
            Default: ``None`` (fastnn's current count). At most
            ``fastnn.info()["cpus"]``, the threads fastnn's kernels can run. The
            previous count is restored afterwards.
        repeat (int): timed loops per library and case; the median is kept. Default: ``5``.
        cases (sequence of str, optional): case or group names (see
            :data:`CASES`; ``"matmul"`` selects every matmul case). Default: all.
        stream (file, optional): where to write one progress line per case
            (e.g. ``sys.stderr``). Default: ``None`` (silent).

    Returns:
        list[Row]: one row per case, in table order.

    Raises:
        ValueError: a bad thread count, repeat or case name.
        RuntimeError: fastnn and NumPy disagree on a case.
    """
    chosen = select_cases(cases)
    threads = get_num_threads() if threads is None else check_int(threads, "bench.run()",
                                                                  "threads", low=1)
    cpus = info()["cpus"]  # fastnn runs at most one thread per CPU: NumPy gets the same
    if cpus is not None:
        threads = min(threads, cpus)
    repeat = check_int(repeat, "bench.run()", "repeat", low=1)
    rows = []
    with _fastnn_threads(threads), _blas_limits(threads):
        for i, case in enumerate(chosen):
            if stream is not None:
                print(f"bench [{i + 1}/{len(chosen)}] {case.name}", file=stream, flush=True)
            pair = case.build(np.random.default_rng(i))
            pair.verify(case.name)
            fastnn_s, numpy_s = _time_pair(pair, repeat, quick, threads)
            rows.append(Row(case.name, case.size, threads, fastnn_s, numpy_s, case.flops))
    return rows


# ---------------------------------------------------------------------------- reporting


def _blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ("threadpoolctl not installed: NumPy's BLAS threads are NOT pinned "
                "(pip install threadpoolctl)")
    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    if not libs:
        return "no BLAS library found by threadpoolctl"
    names = ", ".join(f"{lib.get('internal_api')} {lib.get('version')} "
                      f"({lib.get('architecture') or 'unknown arch'})" for lib in libs)
    return f"{names}, pinned to the fastnn thread count with threadpoolctl"


def header(rows: Sequence[Row], quick: bool = False) -> list[str]:
    """The lines above the table: versions, SIMD path, BLAS, threads, environment warnings."""
    facts = info()
    threads = ", ".join(str(t) for t in sorted({r.threads for r in rows})) or "-"
    lines = [
        f"fastnn {facts['version']} (simd {facts['simd']}, {facts['compiler']}) vs "
        f"NumPy {np.__version__}",
        f"BLAS: {_blas_description()}",
        f"threads: {threads}; NumPy element-wise code runs on 1 thread",
        "times are medians per call; ratio = NumPy time / fastnn time (> 1: fastnn is faster)"
        + (" (quick: one call per loop, a smoke test, not a measurement)" if quick else ""),
    ]
    for var in SLOW_ENV:
        if var in os.environ:
            lines.append(f"warning: {var} is set and can slow NumPy; unset it for a fair baseline")
    return lines


def _gflops(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_table(rows: Sequence[Row], quick: bool = False) -> str:
    """The header lines and one aligned row per case (times in microseconds); ``quick``
    marks the numbers as a smoke test's.

    Example::

        >>> print(format_table(run(quick=True, cases=["adam"])))   # doctest: +SKIP
    """
    titles = ("case", "size", "threads", "fastnn us", "numpy us", "ratio", "fastnn GF/s",
              "numpy GF/s")
    cells = [(r.case, r.size, str(r.threads), f"{r.fastnn_s * 1e6:.1f}", f"{r.numpy_s * 1e6:.1f}",
              f"{r.ratio:.2f}", _gflops(r.fastnn_gflops), _gflops(r.numpy_gflops)) for r in rows]
    widths = [max(len(t), *(len(c[i]) for c in cells)) if cells else len(t)
              for i, t in enumerate(titles)]

    def line(values: Sequence[str]) -> str:
        left = [v.ljust(w) for v, w in zip(values[:2], widths[:2])]
        right = [v.rjust(w) for v, w in zip(values[2:], widths[2:])]
        return "  ".join(left + right).rstrip()

    table = [line(titles), "  ".join("-" * w for w in widths)] + [line(c) for c in cells]
    return "\n".join(header(rows, quick) + [""] + table)
