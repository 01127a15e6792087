"""Constructor-parameter checks for ``fastnn.sklearn``'s estimators, run at ``fit``.

scikit-learn checks parameters when ``fit`` starts, never in ``__init__`` or
``set_params``; so do these. A bad value raises :class:`InvalidParameterError`, a
subclass of scikit-learn's own (both a ``ValueError`` and a ``TypeError``), which
names the estimator, the parameter, what it accepts and what it got.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

SOLVERS = ("adam", "sgd", "lbfgs")
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
REGRESSION_LOSSES = ("squared_error", "poisson")


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


def _is_real(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and v == v  # NaN is no value


class _Checker:
    def __init__(self, est: Any) -> None:
        self.est = est
        self.name = type(est).__name__

    def fail(self, param: str, expected: str) -> None:
        got = getattr(self.est, param)
        raise InvalidParameterError(
            f"{self.name}: parameter '{param}' must be {expected}, got {got!r}")

    def option(self, param: str, choices: tuple[str, ...]) -> None:
        v = getattr(self.est, param)
        if not isinstance(v, str) or v not in choices:
            self.fail(param, "one of " + ", ".join(repr(c) for c in choices))

    def real(self, param: str, low: float, high: float = np.inf, *, low_open: bool = False,
             high_open: bool = False) -> None:
        v = getattr(self.est, param)
        high_open = high_open or high == np.inf  # scikit-learn's intervals exclude inf
        ok = _is_real(v) and (v > low if low_open else v >= low) and \
            (v < high if high_open else v <= high)
        if not ok:
            lo = ("(" if low_open else "[") + f"{low:g}"
            hi = f"{high:g}" + (")" if high_open else "]")
            self.fail(param, f"a float in {lo}, {hi}")

    def integer(self, param: str, low: int, *, allow_inf: bool = False) -> None:
        v = getattr(self.est, param)
        if not ((_is_int(v) and v >= low) or (allow_inf and _is_real(v) and v == np.inf)):
            self.fail(param, f"an int >= {low}" + (" or numpy.inf" if allow_inf else ""))

    def boolean(self, param: str) -> None:
        if not isinstance(getattr(self.est, param), (bool, np.bool_)):
            self.fail(param, "a bool")


def hidden_sizes(est: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints (an int means one layer)."""
    sizes = est.hidden_layer_sizes
    seq = [sizes] if _is_int(sizes) else sizes
    try:
        out = list(seq)
    except TypeError:
        out = None
    if out is None or not all(_is_int(s) for s in out) or any(s <= 0 for s in out):
        raise InvalidParameterError(
            f"{type(est).__name__}: parameter 'hidden_layer_sizes' must be a positive int or "
            f"a sequence of positive ints (an empty one means no hidden layer), got {sizes!r}")
    return [int(s) for s in out]


def check_params(est: Any) -> None:
    """Checks every constructor parameter of ``est`` (an MLPClassifier or MLPRegressor)."""
    c = _Checker(est)
    hidden_sizes(est)
    c.option("activation", ACTIVATIONS)
    c.option("solver", SOLVERS)
    c.real("alpha", 0)
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        if not _is_int(est.batch_size) or est.batch_size < 1:
            c.fail("batch_size", "'auto' or an int >= 1")
    c.option("learning_rate", LEARNING_RATES)
    c.real("learning_rate_init", 0, low_open=True)
    c.real("power_t", 0)
    c.integer("max_iter", 1)
    c.boolean("shuffle")
    rs = est.random_state
    if not (rs is None or (_is_int(rs) and 0 <= rs < 2**32) or
            isinstance(rs, np.random.RandomState)):
        c.fail("random_state", "None, an int in [0, 2**32 - 1] or a numpy.random.RandomState")
    c.real("tol", 0)
    if not (isinstance(est.verbose, (bool, np.bool_)) or (_is_int(est.verbose) and
                                                          est.verbose >= 0)):
        c.fail("verbose", "a bool or an int >= 0")
    c.boolean("warm_start")
    c.real("momentum", 0, 1)
    c.boolean("nesterovs_momentum")
    c.boolean("early_stopping")
    c.real("validation_fraction", 0, 1, high_open=True)
    if est.early_stopping is True and est.validation_fraction == 0:
        # scikit-learn's error here names train_test_split's test_size
        c.fail("validation_fraction", "in (0, 1) with early_stopping=True")
    c.real("beta_1", 0, 1, high_open=True)
    c.real("beta_2", 0, 1, high_open=True)
    c.real("epsilon", 0, low_open=True)
    c.integer("n_iter_no_change", 1, allow_inf=True)
    c.integer("max_fun", 1)
    c.real("dropout", 0, 1, high_open=True)
    if est.n_threads is not None and not (_is_int(est.n_threads) and est.n_threads >= 1):
        c.fail("n_threads", "None or an int >= 1")
    if hasattr(est, "loss"):
        c.option("loss", REGRESSION_LOSSES)
