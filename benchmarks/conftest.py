"""Shared benchmark fixtures: every library pinned to the same thread count."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

import fastnn as fn

THREADS = [1, 2]


@pytest.fixture(params=THREADS, ids=lambda n: f"threads{n}")
def threads(request):
    """Runs the benchmark with fastnn and NumPy's BLAS both at 1, then 2 threads."""
    before = fn.get_num_threads()
    fn.set_num_threads(request.param)
    with threadpool_limits(request.param, user_api="blas"):
        yield request.param
    fn.set_num_threads(before)


@pytest.fixture
def torch_threads(threads):
    """torch, pinned to the ``threads`` count for the test (skips when torch is missing)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    yield torch
    torch.set_num_threads(before)
