"""Per-process, interleaved timing for the benchmark suites (``fastnn bench``, benchmarks/).

Each competitor (a library on a case at a thread count) runs in its own worker
process, so no library's thread pool, allocator or import side effects touch
another's. The driver starts the workers of one comparison together (their
imports overlap), calibrates them one at a time, then runs timed windows in
interleaved rounds, A B C A B C ..., so slow drift of a shared machine spreads
over every competitor, and keeps the median window of each.

Protocol: the worker writes ``@bench {json}`` lines to stdout (other output is
ignored) and reads one command per line from stdin:

- on start, after its setup: ``{"loaded": true, "fastnn_core": bool}`` (whether
  fastnn's compiled core is loaded in the worker);
- ``calibrate``: warms up, then picks the calls per window (about ``window_s``
  seconds; 1 in quick mode): ``{"number": n}``;
- ``run``: a quarter window of untimed calls (``WARM_FRACTION``; none in quick
  mode), then one timed window: ``{"seconds": seconds_per_call}``;
- ``quit``: ``{"maxrss_kib": peak resident set size}`` (:func:`peak_rss_kib`;
  ``null`` where it cannot be read), then exits.

Threads are pinned for every library: the child environment sets
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and the
worker calls :func:`pin_threads`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, TextIO

PREFIX = "@bench "
WINDOW_S = 0.1      # seconds per timed window, full mode
WARMUP_CALLS = 3    # before calibration: first touches, thread pools, optimizer state
SETTLE_S = 0.15     # pause before a multi-threaded window, see interleave()
# Untimed calls before each window, as a fraction of it: after the driver's pause (and
# the other workers' windows) a team of threads runs slowly for tens of milliseconds.
# On a 2-vCPU KVM Xeon, TrainStep A at 2 threads took 3.5 ms a step for the first ~40 ms
# after a 0.15 s pause and 1.9 ms after that (torch's and NumPy's steps slowed too);
# a training loop runs in the steady state, which the windows now measure.
WARM_FRACTION = 0.25
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------- worker side


def pin_threads(threads: int) -> None:
    """Pins fastnn and torch (those imported) and every BLAS/OpenMP pool threadpoolctl knows."""
    if "fastnn._core" in sys.modules:  # never load fastnn into a NumPy or torch worker
        from ._runtime import set_num_threads

        set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(threads)  # process-wide from here on; the worker never restores it
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _loop(call: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return time.perf_counter() - start


def calls_per_window(call: Callable[[], object], window_s: float) -> int:
    """How many calls take about ``window_s`` seconds (timeit.autorange, then scaled)."""
    number = 1
    while True:
        elapsed = _loop(call, number)
        if elapsed >= window_s / 10:
            return max(1, round(number * window_s / elapsed))
        number *= 10


def peak_rss_kib() -> int | None:
    """This process's peak resident set size in KiB (``None`` where it cannot be read).

    Linux: ``VmHWM`` from /proc/self/status, the high-water mark of this program's
    own memory. Not ``getrusage``'s ``ru_maxrss``: Linux carries that across
    fork and exec, so a worker would report at least its parent's size.
    Elsewhere ``ru_maxrss`` (bytes on macOS, KiB otherwise).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _send(stream: TextIO, message: dict[str, Any]) -> None:
    stream.write(PREFIX + json.dumps(message) + "\n")
    stream.flush()


def serve(call: Callable[[], object], *, quick: bool = False, window_s: float = WINDOW_S,
          stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """The worker loop: answers the driver's commands (module docstring) until ``quit``."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    number = 1
    _send(stdout, {"loaded": True, "fastnn_core": "fastnn._core" in sys.modules})
    for line in stdin:
        command = line.strip()
        if command == "calibrate":
            _loop(call, 1 if quick else WARMUP_CALLS)
            number = 1 if quick else calls_per_window(call, window_s)
            _send(stdout, {"number": number})
        elif command == "run":
            if not quick:
                _loop(call, max(1, int(number * WARM_FRACTION)))
            _send(stdout, {"seconds": _loop(call, number) / number})
        elif command == "quit":
            _send(stdout, {"maxrss_kib": peak_rss_kib()})
            return
        else:
            raise ValueError(f"bench worker: unknown command {command!r}")


# ---------------------------------------------------------------------------- driver side


@dataclass(frozen=True)
class Worker:
    """One competitor: a label, the command line starting its worker, its thread count,
    and variables its process gets on top of this one's environment (a fastnn setting
    under comparison, say)."""

    label: str
    argv: Sequence[str]
    threads: int
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Timing:
    """The windows of one worker: seconds per call in each round, and its peak RSS."""

    label: str
    seconds: tuple[float, ...]
    maxrss_kib: int | None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> float:
        """Slowest window over fastest: near 1 on a quiet machine, large when another
        process disturbed some rounds."""
        return max(self.seconds) / min(self.seconds)


# Runs MODULE.worker_main(ARGS) from `python -c BOOT PACKAGE_DIR MODULE ARGS...`. When asked,
# a bare module object with fastnn's __path__ stands in for the package, so the submodule
# loads without fastnn/__init__.py: a NumPy or torch worker then never loads fastnn's core,
# OpenMP runtime and their ~13 MiB, and its timings and peak RSS are its own.
_BOOT = """import importlib, sys, types
root, module, bare = sys.argv[1], sys.argv[2], sys.argv[3] == "bare"
if bare:
    package = types.ModuleType("fastnn")
    package.__path__ = [root]
    sys.modules["fastnn"] = package
importlib.import_module(module).worker_main(sys.argv[4:])
"""


def worker_argv(module: str, args: Sequence[str], *, import_fastnn: bool) -> list[str]:
    """The command line running ``module.worker_main(args)`` in a fresh interpreter.

    Args:
        module (str): a submodule of fastnn, e.g. ``"fastnn._bench_train"``.
        args (sequence of str): the worker's arguments.
        import_fastnn (bool): run fastnn's ``__init__`` (needed to time fastnn); without
            it only ``module`` and what it imports are loaded.
    """
    root = os.path.dirname(os.path.abspath(__file__))
    return [sys.executable, "-c", _BOOT, root, module, "full" if import_fastnn else "bare",
            *args]


def child_env(threads: int) -> dict[str, str]:
    """This environment with the thread variables set and this fastnn importable first."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


class _Process:
    """A running worker: sends one command, waits for its one reply."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(list(worker.argv), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     bufsize=1, env={**child_env(worker.threads),
                                                     **dict(worker.env)})

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                return json.loads(line[len(PREFIX):])
        self.proc.wait()
        self.stderr.seek(0)
        tail = "\n".join(self.stderr.read().strip().splitlines()[-15:])
        raise RuntimeError(f"bench: worker {self.worker.label!r} exited with status "
                           f"{self.proc.returncode} ({' '.join(self.worker.argv)}):\n{tail}")

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: receive() reports why
        return self.receive()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            if stream is not None:
                stream.close()


def check_counts(func: str, rounds: int, threads: Sequence[int]) -> None:
    """``TypeError`` unless ``rounds`` and each thread count are ints, ``ValueError`` if < 1."""
    from ._validation import check_int

    check_int(rounds, func, "rounds", low=1)
    if len(threads) == 0:
        raise ValueError(f"{func}: argument 'threads' must name at least one thread count")
    for n in threads:
        check_int(n, func, "threads", low=1)


def interleave(workers: Sequence[Worker], rounds: int) -> list[Timing]:
    """Times ``workers`` in interleaved rounds, each in its own process; one Timing each.

    Before each multi-threaded window the driver waits ``SETTLE_S`` seconds: the
    idle pool threads of the worker that ran last can spin for up to about 0.1 s
    (OpenBLAS's thread timeout of 2^28 cycles, libgomp's spin count) and would
    otherwise take a core from the next one.

    Raises:
        RuntimeError: a worker failed (the message has the end of its stderr).
    """
    procs: list[_Process] = []
    try:
        for worker in workers:
            procs.append(_Process(worker))
        for proc in procs:
            proc.receive()  # loaded: imports and setup done, all in parallel
        for proc in procs:
            proc.ask("calibrate")  # one at a time, so calibrations do not disturb each other
        seconds: list[list[float]] = [[] for _ in procs]
        for _ in range(rounds):
            for i, proc in enumerate(procs):
                if proc.worker.threads > 1:
                    time.sleep(SETTLE_S)
                seconds[i].append(float(proc.ask("run")["seconds"]))
        rss = [proc.ask("quit").get("maxrss_kib") for proc in procs]
        for proc in procs:
            proc.proc.wait()
    finally:
        for proc in procs:
            proc.close()
    return [Timing(w.label, tuple(s), r) for w, s, r in zip(workers, seconds, rss)]
