"""Constructor-parameter checks for ``fastnn.sklearn``'s estimators, run at ``fit``.

scikit-learn checks parameters when ``fit`` starts, never in ``__init__`` or
``set_params``; so do these, through scikit-learn's own machinery and constraints (its
``MLPClassifier`` / ``MLPRegressor``'s, plus fastnn's ``dropout`` and ``n_threads``), so
the same values are accepted and a bad one raises scikit-learn's
``InvalidParameterError`` with its message ("The 'alpha' parameter of MLPClassifier must
be ..."). What those constraints leave to the fit (the sizes inside
``hidden_layer_sizes``, ``validation_fraction`` with early stopping) raises this module's
:class:`InvalidParameterError`, a subclass of scikit-learn's (both a ``ValueError`` and a
``TypeError``).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

try:  # scikit-learn's own class (private module), so that code catching it catches ours
    from sklearn.utils._param_validation import InvalidParameterError as _SklearnError
    _BASES: tuple[type, ...] = (_SklearnError,)  # itself a ValueError and a TypeError
except ImportError:  # pragma: no cover - a scikit-learn without it
    _BASES = (ValueError, TypeError)


class InvalidParameterError(*_BASES):
    """A constructor parameter of an estimator has a bad type or value (a subclass of
    scikit-learn's ``InvalidParameterError``, so both ``ValueError`` and ``TypeError``)."""


def _is_int(v: Any) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def parameter_constraints(sklearn_cls: type) -> dict[str, list]:
    """scikit-learn's constraints of ``sklearn_cls``'s parameters (its ``MLPClassifier`` or
    ``MLPRegressor``) and those of fastnn's two own: checked by scikit-learn's machinery,
    so the accepted values and the messages are scikit-learn's."""
    from sklearn.utils._param_validation import Interval

    return {**sklearn_cls._parameter_constraints,
            "dropout": [Interval(Real, 0, 1, closed="left")],
            "n_threads": [None, Interval(Integral, 1, None, closed="left")]}


def hidden_sizes(est: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints (an int means one layer)."""
    sizes = est.hidden_layer_sizes
    seq = [sizes] if _is_int(sizes) else sizes
    try:
        out = list(seq)
    except TypeError:
        out = None
    if out is not None and all(_is_int(s) for s in out) and any(s <= 0 for s in out):
        raise InvalidParameterError(f"hidden_layer_sizes must be > 0, got {out}.")  # as sklearn
    if out is None or not all(_is_int(s) for s in out):  # scikit-learn fails later, unclearly
        raise InvalidParameterError(
            f"{type(est).__name__}: parameter 'hidden_layer_sizes' must be a positive int or "
            f"a sequence of positive ints (an empty one means no hidden layer), got {sizes!r}")
    return [int(s) for s in out]


def check_params(est: Any) -> None:
    """Checks every constructor parameter of ``est`` (an MLPClassifier or MLPRegressor):
    scikit-learn's constraints (``est._parameter_constraints``, its messages), then what
    they leave to the fit."""
    est._validate_params()
    if isinstance(est.n_threads, (bool, np.bool_)):  # an Integral to scikit-learn's Interval
        raise InvalidParameterError(
            f"The 'n_threads' parameter of {type(est).__name__} must be None or an int in the "
            f"range [1, inf). Got {est.n_threads!r} instead.")
    hidden_sizes(est)
    if est.early_stopping is True and est.validation_fraction == 0:
        # scikit-learn's error here names train_test_split's test_size
        raise InvalidParameterError(
            f"{type(est).__name__}: parameter 'validation_fraction' must be in (0, 1) with "
            f"early_stopping=True, got {est.validation_fraction!r}")
