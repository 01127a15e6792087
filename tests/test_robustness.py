"""Robustness of the compiled module: allocation failures, odd buffers, C++ exceptions
under stress and next to other pybind11 modules, and memory that stays flat over
many thousands of calls and training steps.

The random sweep over shapes, dtypes and strides is in ``test_properties.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from fastnn import _core

HUGE = 2**42  # elements: 16 TiB as float32, more than any machine can allocate


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter with faulthandler on (a crash prints a trace)."""
    here = str(Path(fn.__file__).resolve().parents[1])  # the fastnn under test
    return subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": here})


# -- pybind11 internals -----------------------------------------------------------------


def test_pybind11_internals_are_private_to_fastnn():
    """fastnn's pybind11 record is keyed '_fastnn', so no other module can corrupt it."""
    binary = Path(_core.__file__).read_bytes()
    assert b"__pybind11_internals_v" in binary
    assert b"_fastnn_" in binary.split(b"__pybind11_internals_v", 1)[1][:40]


# -- allocation failures ----------------------------------------------------------------


def _huge_1d(dtype=np.float64):
    return np.broadcast_to(np.ones((), dtype), (HUGE,))  # zero strides: no memory yet


def _huge_2d(dtype=np.float64):
    return np.broadcast_to(np.ones((), dtype), (2**21, 2**21))


HUGE_CALLS = {
    "activation_forward": lambda: _core.activation_forward(
        _core.Activation.relu, 0.0, np.zeros(3, np.float32), _huge_1d()),
    "softmax_forward": lambda: _core.softmax_forward(np.zeros((1, 1), np.float32), _huge_2d()),
    "mse_forward": lambda: _core.mse_forward(_huge_1d(), _huge_1d(), _core.Reduction.mean),
    "cross_entropy_labels": lambda: _core.cross_entropy_forward(
        np.zeros((0, 1), np.float32), _huge_1d(np.int32), 0.0, _core.Reduction.mean),
    "matmul": lambda: fn.matmul(_huge_2d(), np.ones((2**21, 1))),
    "matmul_out": lambda: fn.matmul(np.ones((2**21, 1), np.float32),
                                    np.ones((1, 2**21), np.float32)),
    "ReLU": lambda: fn.nn.ReLU()(_huge_2d(np.float32)),
    "Linear": lambda: fn.nn.Linear(2**21, 1)(_huge_2d(np.float32)),
    "MSELoss": lambda: fn.nn.MSELoss()(_huge_1d(), _huge_1d()),
}


@pytest.mark.parametrize("call", HUGE_CALLS.values(), ids=HUGE_CALLS.keys())
def test_allocation_failure_is_memory_error(call):
    with pytest.raises(MemoryError, match="Unable to allocate"):
        call()


def test_memory_error_keeps_the_module_usable():
    with pytest.raises(MemoryError):
        fn.matmul(_huge_2d(), np.ones((2**21, 1)))
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(fn.matmul(a, a.T), a @ a.T)


# -- odd buffers ------------------------------------------------------------------------


def _misaligned(shape, writeable=False):
    n = int(np.prod(shape))
    raw = (bytearray if writeable else bytes)(4 * n + 1)
    return np.frombuffer(raw, np.float32, count=n, offset=1).reshape(shape)


def test_misaligned_input_is_copied_not_read_unaligned():
    a = _misaligned((5, 7))
    assert not a.flags.aligned
    np.testing.assert_array_equal(fn.matmul(a, a.T), np.zeros((5, 5), np.float32))
    y = np.full(35, np.nan, np.float32)
    _core.activation_forward(_core.Activation.relu, 0.0, y, a.reshape(-1))
    np.testing.assert_array_equal(y, 0)


def test_misaligned_output_is_rejected():
    with pytest.raises(ValueError, match=r"matmul\(\): argument 'out' must be aligned"):
        fn.matmul(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32),
                  out=_misaligned((2, 2), writeable=True))


@pytest.mark.parametrize("dtype", [np.dtype(">f4"), np.dtype(">f8"), np.dtype("<i2")])
def test_byte_swapped_and_narrow_inputs_are_converted(dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    np.testing.assert_allclose(fn.matmul(a, a.T), (a.astype(np.float64) @ a.T.astype(np.float64)))


def test_object_array_of_numbers_is_a_type_error():
    with pytest.raises(TypeError, match=r"matmul\(\): argument 'a' must have a real numeric dtype"):
        fn.matmul(np.ones((2, 2)).astype(object), np.ones((2, 2)))


# -- C++ exceptions under stress ------------------------------------------------------


def _bad_calls():
    x = np.zeros((2, 2), np.float32)
    return [
        (ValueError, lambda: _core.activation_forward(_core.Activation.relu, 0.0, x, x.copy())),
        (TypeError, lambda: fn.matmul(np.zeros((2, 2), bool), np.zeros((2, 2)))),
        (IndexError, lambda: _core.cross_entropy_forward(np.zeros((1, 2), np.float32),
                                                         np.array([5]), 0.0, _core.Reduction.mean)),
        (ValueError, lambda: fn.matmul(np.zeros((2, 3)), np.zeros((4, 5)))),
    ]


def test_exceptions_from_many_threads_while_kernels_run_in_parallel():
    """C++ exceptions raised in some Python threads while others run OpenMP kernels."""
    a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    want = fn.matmul(a, a)
    failures: list[str] = []

    def raiser():
        for _ in range(300):
            for error, call in _bad_calls():
                try:
                    call()
                    failures.append("no exception")
                except error:
                    pass
                except Exception as e:  # the wrong type is the failure
                    failures.append(repr(e))

    def worker():
        for _ in range(20):
            if not np.array_equal(fn.matmul(a, a), want):
                failures.append("matmul differs")

    threads = [threading.Thread(target=f) for f in (raiser, raiser, worker, worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []


OTHER_PYBIND11_MODULES = ["matplotlib.ft2font", "onnxruntime"]  # torch: test_threads.py


@pytest.mark.parametrize("first", ["fastnn", "others"])
def test_exceptions_next_to_other_pybind11_modules(first):
    """Other pybind11 extension modules loaded before or after fastnn: C++ exceptions
    still translate (the crash reported on Python 3.12 / pybind11 3.1 came at the first one;
    see docs/robustness.md)."""
    code = f"""
    import importlib, numpy as np
    others = []
    def load_others():
        for name in {OTHER_PYBIND11_MODULES!r}:
            try:
                importlib.import_module(name)
                others.append(name)
            except ImportError:
                pass
    if {first!r} == "others":
        load_others()
    import fastnn as fn
    if {first!r} == "fastnn":
        load_others()
    for _ in range(100):
        try:
            fn.matmul(np.zeros((2, 3)), np.zeros((4, 5)))
        except ValueError as e:
            assert "inner dimensions differ" in str(e)
        try:
            fn.matmul(np.zeros((2, 2), bool), np.zeros((2, 2)))
        except TypeError:
            pass
    print("OK", others)
    """
    r = run_python(code, timeout=180)
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]


# -- memory stays flat ------------------------------------------------------------------

RSS = """
    import numpy as np
    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_rss_flat_over_many_small_calls_and_errors():
    """20,000 small kernel calls (every binding, error paths included): a leak of one
    4 KiB buffer per call would add 80 MiB."""
    code = RSS + """
    import fastnn as fn
    from fastnn import _core
    a = np.ones((32, 32), np.float32)
    x64 = np.ones(1024)
    y = np.empty(1024, np.float32)
    labels = np.zeros(32, np.int64)
    def calls():
        fn.matmul(a, a)
        fn.matmul(a.T, a.astype(np.float64))             # converted copies
        _core.activation_forward(_core.Activation.gelu, 0.0, y, x64)
        _core.softmax_forward(np.empty_like(a), a)
        _core.cross_entropy_forward(a, labels, 0.1, _core.Reduction.mean)
        _core.dropout_forward(y, x64, 0.5, 7)
        for bad in (lambda: fn.matmul(a, np.ones((3, 3))),
                    lambda: _core.activation_forward(_core.Activation.relu, 0.0, y, a)):
            try:
                bad()
            except ValueError:
                pass
    for _ in range(500):
        calls()
    before = rss_mib()
    for _ in range(3500):
        calls()
    print("GROWTH", rss_mib() - before)
    """
    r = run_python(code)
    assert r.returncode == 0, r.stderr[-2000:]
    growth = float(r.stdout.split("GROWTH")[1])
    assert growth < 8, f"RSS grew by {growth:.1f} MiB over 20,000+ calls"


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_rss_flat_over_many_training_steps():
    """3,000 training steps (forward, backward, Adam, dropout) with memory measured
    after a warm-up: per-step allocations must all be freed."""
    code = RSS + """
    import fastnn as fn
    fn.manual_seed(0)
    model = fn.nn.Sequential(fn.nn.Linear(16, 64), fn.nn.ReLU(), fn.nn.Dropout(0.2),
                             fn.nn.Linear(64, 4))
    opt = fn.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = fn.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 16)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    def step():
        opt.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        opt.step()
    for _ in range(300):
        step()
    before = rss_mib()
    for _ in range(3000):
        step()
    print("GROWTH", rss_mib() - before)
    """
    r = run_python(code)
    assert r.returncode == 0, r.stderr[-2000:]
    growth = float(r.stdout.split("GROWTH")[1])
    assert growth < 8, f"RSS grew by {growth:.1f} MiB over 3,000 training steps"
