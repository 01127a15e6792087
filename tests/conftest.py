"""Shared fixtures: every kernel test runs at 1 thread and at all threads."""

from __future__ import annotations

import os

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
