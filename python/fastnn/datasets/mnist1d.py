"""load_mnist1d: MNIST-1D (Greydanus & Kobak), generated offline.

MNIST-1D turns ten hand-made 1-D digit templates into 40-sample signals by
random padding, scaling, translation, correlated and i.i.d. noise and shear.
The data come from the ``mnist1d`` package's own generator
(``mnist1d.data.make_dataset``) run offline with its default arguments, so
nothing is downloaded; the package is the optional extra ``fastnn[mnist1d]``.
The paper's model and training recipe are :func:`fastnn.training.mnist1d_recipe`.
"""

from __future__ import annotations

import random

import numpy as np

from .._optional import require
from .._validation import check_int, check_number

_FUNC = "load_mnist1d()"


def _make_dataset():
    """The generator ``mnist1d.data.make_dataset`` and ``get_dataset_args``, or ImportError."""
    data = require("mnist1d.data", _FUNC, "mnist1d")
    return data.make_dataset, data.get_dataset_args


def load_mnist1d(n_samples: int = 5000, test_size: float = 0.2,
                 seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Generates MNIST-1D with the ``mnist1d`` package and splits it into train and test sets.

    Runs the package's offline generator (never its download) with its default
    arguments: ``n_samples // 10`` signals per class, each a digit template
    padded, dilated, scaled, translated, noised, sheared and resampled to 40
    points; the samples are shuffled and the whole set standardised
    (:math:`X \leftarrow (X - \bar X) / \sigma_X`, one mean and standard
    deviation over all values). The first ``n - round(n * test_size)`` samples
    form the training set, the rest the test set. The defaults give exactly
    the paper's data set: 4,000 training and 1,000 test samples, seed 42.

    The generator seeds NumPy's and Python's global random state; this
    function restores both afterwards, so the caller's random streams are
    unaffected. Each call returns new arrays (nothing is cached).

    Args:
        n_samples (int): the number of samples to generate, rounded down to a
            multiple of 10 (the same number per class); at least 10.
            Default: 5000.
        test_size (float): the fraction of samples in the test set, in (0, 1).
            Default: 0.2.
        seed (int): the generator's seed. Default: 42 (the paper's).

    Returns:
        tuple: ``(X_train, X_test, y_train, y_test)`` (scikit-learn's order, as
        :func:`fastnn.data.train_test_split`).

    Raises:
        ImportError: the ``mnist1d`` package is not installed
            (``pip install 'fastnn[mnist1d]'``).

    Shape:
        - X_train, X_test: :math:`(n_\text{train}, 40)`, :math:`(n_\text{test}, 40)`
          float32, standardised signals.
        - y_train, y_test: :math:`(n_\text{train},)`, :math:`(n_\text{test},)`
          int64, the digits 0..9.

    Examples::

        >>> from fastnn.datasets import load_mnist1d
        >>> X_train, X_test, y_train, y_test = load_mnist1d()  # doctest: +SKIP
        >>> X_train.shape, X_test.shape  # doctest: +SKIP
        ((4000, 40), (1000, 40))
    """
    n_samples = check_int(n_samples, _FUNC, "n_samples", low=10)
    test_size = check_number(test_size, _FUNC, "test_size", low=0, high=1,
                             low_open=True, high_open=True)
    seed = check_int(seed, _FUNC, "seed", low=0)
    make_dataset, get_dataset_args = _make_dataset()

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = n_samples, seed, 1.0
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)

    X = np.asarray(data["x"], dtype=np.float32)
    y = np.asarray(data["y"], dtype=np.int64)
    n_train = len(y) - int(round(len(y) * test_size))
    if n_train <= 0 or n_train >= len(y):
        raise ValueError(
            f"{_FUNC}: test_size={test_size} of {len(y)} samples leaves an empty "
            f"{'training' if n_train <= 0 else 'test'} set"
        )
    return X[:n_train].copy(), X[n_train:].copy(), y[:n_train].copy(), y[n_train:].copy()
