"""Shared fixtures: every kernel test runs at 1 thread and at all threads.

The tests' arrays are small, so fastnn's thresholds for going parallel are lowered for
this process (and the subprocesses it starts) before fastnn loads: the threaded code
paths then run on them too. Results never depend on the thresholds.
"""

from __future__ import annotations

import os

os.environ.setdefault("FASTNN_PARALLEL_THRESHOLDS", "524288,32768")
# Kernels run at most as many threads as there are CPUs (set_num_threads); the tests
# ask for 3, 5 or 16 threads on small machines to split work unevenly, so they lift
# that cap (test_threads.py checks the cap itself, without this variable).
os.environ.setdefault("FASTNN_CPU_LIMIT", "0")

import numpy as np
import pytest

import fastnn as fn

ALL_THREADS = max(2, os.cpu_count() or 1)


@pytest.fixture(params=[1, ALL_THREADS], ids=lambda n: f"threads{n}")
def num_threads(request):
    """Runs the test with fastnn at 1 thread and at all threads, then restores the count."""
    before = fn.get_num_threads()
    fn.set_num_threads(request.param)
    yield request.param
    fn.set_num_threads(before)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
