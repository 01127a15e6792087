"""train_test_split: one shuffled (optionally stratified) split into train and test sets.

Sizes: n_test = ceil(test_size * n) for a float test_size, n_train = n - n_test.
Stratified: class k with c_k samples gets t_k = floor(n_test * c_k / n) test
samples, and the n_test - sum(t_k) left over go one each to the classes with
the largest remainders n_test * c_k / n - t_k (scikit-learn's approximate
mode), so every class is split in proportion.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _random
from .._validation import check_int, shape_str

_FUNC = "train_test_split()"


def _as_samples(a: Any, arg: str) -> np.ndarray:
    if a is None:
        raise TypeError(f"{_FUNC}: argument '{arg}' is None; it takes the targets, which "
                        "are split together with X")
    a = np.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"{_FUNC}: argument '{arg}' must have at least 1 dimension, got a scalar")
    return a


def _test_count(test_size: Any, n: int) -> int:
    """The number of test samples, validated so that both sides are non-empty."""
    if isinstance(test_size, bool) or not isinstance(
        test_size, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{_FUNC}: argument 'test_size' must be a float in (0, 1) or an int, "
            f"got {type(test_size).__name__}"
        )
    if n < 2:
        raise ValueError(f"{_FUNC}: need at least 2 samples to split, got {n}")
    if isinstance(test_size, (int, np.integer)):
        if not 1 <= test_size <= n - 1:
            raise ValueError(
                f"{_FUNC}: an int 'test_size' must be in [1, {n - 1}] for {n} samples, "
                f"got {test_size}"
            )
        return int(test_size)
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"{_FUNC}: a float 'test_size' must be in (0, 1), got {test_size!r}"
        )
    n_test = math.ceil(float(test_size) * n)
    if n_test > n - 1:
        raise ValueError(
            f"{_FUNC}: test_size={test_size!r} leaves no training sample out of {n} "
            f"(n_test = ceil({test_size!r} * {n}) = {n_test})"
        )
    return n_test


def _stratified_indices(labels: np.ndarray, n_test: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in proportion to its size."""
    n = labels.shape[0]
    try:
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    except TypeError:  # labels NumPy cannot sort: mixed str and int, None
        kinds = sorted({type(v).__name__ for v in labels.tolist()})
        raise TypeError(f"{_FUNC}: cannot stratify on labels of mixed types ({', '.join(kinds)}"
                        "): the stratification labels (y, or the stratify array) must be "
                        "mutually comparable, e.g. all numbers or all strings") from None
    inverse = inverse.reshape(-1)
    if counts.min() < 2:
        k = int(np.argmin(counts))
        raise ValueError(
            f"{_FUNC}: cannot stratify: class {classes[k].item()!r} has only 1 sample, "
            "and every class needs at least 2 (one for each side); "
            "merge or drop the rare classes, or pass stratify=False"
        )
    n_classes = classes.shape[0]
    if n_test < n_classes or n - n_test < n_classes:
        raise ValueError(
            f"{_FUNC}: cannot stratify {n_classes} classes into {n - n_test} train and "
            f"{n_test} test samples: each side needs at least one sample per class"
        )
    share = n_test * counts / n
    t = np.floor(share).astype(np.int64)
    left = n_test - int(t.sum())
    # Stable sort: ties go to the earlier class, so the split is a function of the seed alone.
    t[np.argsort(t - share, kind="stable")[:left]] += 1
    train, test = [], []
    for k in range(n_classes):
        members = rng.permutation(np.flatnonzero(inverse == k))
        test.append(members[:t[k]])
        train.append(members[t[k]:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _row_labels(labels: np.ndarray) -> np.ndarray:
    """One label per row of a 2-D label array: the row's value for one column, else the
    row's values joined into a string (scikit-learn's encoding: each distinct row, such as
    a one-hot or multi-label row, is one class)."""
    if labels.shape[1] == 1:
        return labels[:, 0]
    if labels.dtype.kind in "biuf":  # one string per distinct row, not per row
        rows, inverse = np.unique(labels, axis=0, return_inverse=True)
        names = np.array([" ".join(str(v) for v in row) for row in rows.tolist()])
        return names[inverse.reshape(-1)]
    return np.array([" ".join(str(v) for v in row) for row in labels.tolist()])


def train_test_split(X: Any, y: Any, test_size: float | int = 0.2, seed: int | None = None,
                     stratify: bool | Any = False) -> tuple[np.ndarray, ...]:
    r"""Splits ``(X, y)`` into shuffled train and test sets (scikit-learn's order).

    The samples are shuffled, then :math:`n_\text{test}` of them go to the test
    set and the other :math:`n - n_\text{test}` to the train set. With
    stratification, each class is split in the same proportion (to within one
    sample), like scikit-learn's ``StratifiedShuffleSplit``.

    The arrays keep their dtypes; the returned arrays are copies.

    Args:
        X (array_like): the inputs, shape :math:`(n, *)`.
        y (array_like): the targets, shape :math:`(n, *)`.
        test_size (float or int): a float in (0, 1) is the test fraction,
            :math:`n_\text{test} = \lceil \text{test\_size} \cdot n \rceil`; an
            int in :math:`[1, n - 1]` is :math:`n_\text{test}` itself. Default: 0.2.
        seed (int, optional): seeds the shuffle. When None (default) it draws
            from fastnn's global generator (seeded by :func:`fastnn.manual_seed`).
        stratify (bool or array_like): True stratifies on ``y``; an array of
            :math:`n` labels stratifies on those; False (default) or None does
            not stratify. Labels of shape :math:`(n, k)` (a column of labels,
            one-hot or multi-label rows) stratify on whole rows, each distinct
            row a class, as scikit-learn. Every class needs at least 2 samples, and both
            :math:`n_\text{test}` and :math:`n - n_\text{test}` must be at least
            the number of classes.

    Returns:
        tuple: ``(X_train, X_test, y_train, y_test)``.

    Shape:
        - X: :math:`(n, *)`; X_train: :math:`(n - n_\text{test}, *)`;
          X_test: :math:`(n_\text{test}, *)`.
        - y: :math:`(n, *)`; y_train and y_test likewise.

    Examples::

        >>> import numpy as np
        >>> from fastnn.data import train_test_split
        >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 5 + [1] * 5)
        >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
        >>> X_tr.shape, X_te.shape, sorted(y_te.tolist())
        ((8, 2), (2, 2), [0, 1])
    """
    X = _as_samples(X, "X")
    y = _as_samples(y, "y")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            f"{_FUNC}: X and y must have the same length, got len(X) = {n} "
            f"and len(y) = {y.shape[0]}"
        )
    n_test = _test_count(test_size, n)
    if seed is not None:
        check_int(seed, _FUNC, "seed", low=0)
    rng = _random.generator_for(seed)

    if stratify is None or (isinstance(stratify, (bool, np.bool_)) and not stratify):
        order = rng.permutation(n)
        train, test = order[n_test:], order[:n_test]
    else:
        labels = y if isinstance(stratify, (bool, np.bool_)) else np.asarray(stratify)
        if labels.ndim == 0:  # "yes", 1: neither a flag nor labels
            raise TypeError(f"{_FUNC}: argument 'stratify' must be a bool (True: stratify on "
                            f"y) or an array of {n} labels, got {type(stratify).__name__} "
                            f"{stratify!r}")
        if labels.ndim == 2 and labels.shape[0] == n:
            labels = _row_labels(labels)
        if labels.shape != (n,):
            raise ValueError(
                f"{_FUNC}: the stratification labels must have shape ({n},) or ({n}, k), "
                f"got {shape_str(labels.shape)}"
            )
        train, test = _stratified_indices(labels, n_test, rng)
    return X[train], X[test], y[train], y[test]
