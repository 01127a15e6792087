"""fastnn.sklearn against scikit-learn's sklearn.neural_network: one whole ``fit`` per
round, same data and hyper-parameters (benchmarks/sklearn_cases.py), both libraries at
1, then 2 threads. extra_info records the test score (accuracy, or R^2 for regression).

The synthetic and regression cases (several seconds per scikit-learn fit) run only with
FASTNN_BENCH_HEAVY=1. For the table with speed-ups and seeds (interleaved rounds):

    PYTHONPATH=python python benchmarks/sklearn_report.py
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("sklearn")

import sklearn_cases

HEAVY = os.environ.get("FASTNN_BENCH_HEAVY") == "1"
_DATA: dict[str, tuple] = {}


@pytest.mark.parametrize("lib", sklearn_cases.LIBS)
@pytest.mark.parametrize("case", list(sklearn_cases.CASES))
def test_sklearn_fit(benchmark, case, lib, threads):
    if case != "digits" and not HEAVY:
        pytest.skip(f"the {case} case is heavy: set FASTNN_BENCH_HEAVY=1")
    spec = sklearn_cases.CASES[case]
    data = _DATA.setdefault(case, sklearn_cases.load(case))
    scores = []

    def fit():
        _, score = sklearn_cases.timed_fit(lib, spec, data, seed=0, threads=threads)
        scores.append(score)

    benchmark.group = f"sklearn_fit-{case}-threads{threads}"
    benchmark.pedantic(fit, rounds=1 if case != "digits" else 3, iterations=1)
    benchmark.extra_info["test_score"] = scores[-1]
