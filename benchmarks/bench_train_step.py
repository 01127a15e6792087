"""Training-step benchmarks: one whole step per call, fastnn against NumPy and torch.

A step is forward, softmax cross-entropy, backward and Adam on an MLP with ReLU
hidden layers (fastnn._bench_train: configurations A 784-512-256-10 batch 128,
B 64-64-10 batch 32, C 784-1024-1024-10 batch 512). Libraries: fastnn layer by
layer, fastnn's fused step (skipped where this fastnn has none), the NumPy
baseline MLP, torch with the default Adam and with Adam(fused=True) (skipped
without torch); every library pinned to 1, then 2 threads. extra_info records
samples per call: samples/s = samples_per_call / mean.

These run in one process and in few rounds so that ``pytest benchmarks/`` stays
quick; configuration C (about 0.1 s a step) runs only with FASTNN_BENCH_HEAVY=1.
For the careful comparison (a process per library, interleaved rounds, ratios):

    PYTHONPATH=python python benchmarks/report.py train-step
    PYTHONPATH=python python -m pytest benchmarks/bench_train_step.py --benchmark-group-by=group
"""

from __future__ import annotations

import os

import pytest

from fastnn import _bench_train

HEAVY = os.environ.get("FASTNN_BENCH_HEAVY") == "1"
STEPS_PER_ROUND = {"A": 4, "B": 50, "C": 1}  # about 10-50 ms per round
ROUNDS = 5


@pytest.mark.parametrize("lib", _bench_train.LIBS)
@pytest.mark.parametrize("config", list(_bench_train.CONFIGS))
def test_train_step(benchmark, request, config, lib, threads):
    if config == "C" and not HEAVY:
        pytest.skip("configuration C is heavy: set FASTNN_BENCH_HEAVY=1")
    if lib.startswith("torch"):
        request.getfixturevalue("torch_threads")
    why = _bench_train.unavailable(lib)
    if why is not None:
        pytest.skip(why)
    spec = _bench_train.CONFIGS[config]
    step = _bench_train.build(lib, spec)
    benchmark.group = f"train_step-{config}-threads{threads}"
    benchmark.extra_info["samples_per_call"] = spec.batch
    benchmark.pedantic(step, rounds=ROUNDS, iterations=STEPS_PER_ROUND[config], warmup_rounds=1)
