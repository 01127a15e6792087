"""The fastnn.sklearn-vs-scikit-learn benchmark cases, shared by bench_sklearn.py and
sklearn_report.py: the data, the hyper-parameters (the same for both libraries) and one
timed fit.

- ``digits``: scikit-learn's 8x8 digits (1,797 samples, 64 features, 10 classes), X / 16,
  a stratified 75/25 split; MLPClassifier's defaults (hidden (100,), adam, max_iter=200).
- ``synthetic``: ``make_classification`` with 25,000 samples, 200 features (40
  informative, 20 redundant), 10 classes, class_sep 1.5; 20,000 to train, 5,000 to test,
  standardised; hidden (256, 128), batch 200, 30 epochs.
- ``regression``: ``make_friedman1`` with 25,000 samples, 10 features, noise 1.0; 20,000 to
  train, standardised; MLPRegressor with hidden (128, 64), batch 200, 30 epochs; R^2.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    task: str  # "classification" or "regression"
    params: dict[str, Any]


CASES = {
    "digits": Case("digits", "classification", {}),
    "synthetic": Case("synthetic", "classification",
                      dict(hidden_layer_sizes=(256, 128), batch_size=200, max_iter=30)),
    "regression": Case("regression", "regression",
                       dict(hidden_layer_sizes=(128, 64), batch_size=200, max_iter=30)),
}
LIBS = ("sklearn", "fastnn")


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, X_test, y_train, y_test)`` for a case, float64 as scikit-learn users have."""
    from sklearn.datasets import load_digits, make_classification, make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return tuple(train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y))
    if name == "synthetic":
        X, y = make_classification(n_samples=25_000, n_features=200, n_informative=40,
                                   n_redundant=20, n_classes=10, class_sep=1.5, random_state=0)
    else:
        X, y = make_friedman1(n_samples=25_000, n_features=10, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=20_000, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def estimator(lib: str, case: Case, seed: int, threads: int) -> Any:
    """The estimator of ``lib`` for ``case`` (fastnn's pinned to ``threads``)."""
    if lib == "fastnn":
        from fastnn.sklearn import MLPClassifier, MLPRegressor
        extra = {"n_threads": threads}
    else:
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        extra = {}
    cls = MLPClassifier if case.task == "classification" else MLPRegressor
    return cls(random_state=seed, **case.params, **extra)


def timed_fit(lib: str, case: Case, data: tuple, seed: int, threads: int) -> tuple[float, float]:
    """Fits once with NumPy's BLAS pinned to ``threads``: ``(seconds, test score)`` (accuracy
    or R^2). The ConvergenceWarning at max_iter is expected and silenced."""
    from threadpoolctl import threadpool_limits

    X_train, X_test, y_train, y_test = data
    est = estimator(lib, case, seed, threads)
    with threadpool_limits(threads, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        score = est.score(X_test, y_test)
    return seconds, float(score)
