"""``BaseMLP``: what fastnn's MLPClassifier and MLPRegressor share.

Fitting follows scikit-learn's ``BaseMultilayerPerceptron`` step by step (input
checks, ``warm_start`` / ``partial_fit`` rules, initialisation, the stochastic
solvers and their stopping rules, the fitted attributes) so that results and
habits carry over; the arithmetic runs in fastnn: float32, fused training steps,
OpenMP threads (``n_threads``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import Tags, check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _random
from .._runtime import thread_count
from . import _network, _stochastic
from ._lbfgs import fit_lbfgs
from ._params import InvalidParameterError, check_params, hidden_sizes


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """fastnn's kernels called from this thread run ``n`` threads for the block (None:
    unchanged): a count of this thread's own, so that fits in concurrent threads
    (joblib's threading backend) run in parallel, each with its ``n_threads``, and leave
    the process-wide count (``fn.set_num_threads``) alone. Their random streams are per
    thread too (_own_generator)."""
    with thread_count(n):
        yield


def _generator_from(rng: np.random.RandomState | None) -> np.random.Generator:
    """A generator seeded from ``rng`` (one draw), or a throwaway one for None."""
    return np.random.default_rng(0 if rng is None else int(rng.randint(0, 2**31 - 1)))


@contextmanager
def _own_generator(gen: np.random.Generator) -> Iterator[None]:
    """This thread draws, for the block, from ``gen`` instead of fastnn's global generator
    (``fastnn._random.local_generator``): the caller's stream (``fn.manual_seed``) is
    untouched, dropout masks follow ``random_state``, and fits in concurrent threads
    neither wait for nor mix streams."""
    with _random.local_generator(gen):
        yield


def store_params(est: BaseEstimator, params: dict[str, Any]) -> None:
    """Sets each constructor argument in ``params`` (an ``__init__``'s ``locals()``) as the
    attribute of the same name, unchecked: scikit-learn's convention (``fit`` checks)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(est, name, value)


def as_compute_array(X: Any, est: BaseEstimator) -> Any:
    """Validated ``X`` in fastnn's float32: a C-contiguous array, or a CSR matrix for scipy
    sparse input (densified a block at a time, or run through a sparse first layer when
    too wide for that: ``_sparse``).

    Raises:
        ValueError: a float64 value beyond float32's range (it would become inf).
    """
    with np.errstate(over="ignore"):  # overflow is reported below, once
        Xc = sp.csr_matrix(X, dtype=np.float32) if sp.issparse(X) \
            else np.ascontiguousarray(X, dtype=np.float32)
    check_float32_range(X.data if sp.issparse(X) else X, Xc.data if sp.issparse(Xc) else Xc,
                        "X has", "scale the features first (for example with "
                        "sklearn.preprocessing.StandardScaler)", est)
    return Xc


def check_float32_range(values: np.ndarray, converted: np.ndarray, what: str, advice: str,
                        est: BaseEstimator) -> None:
    """Raises a ValueError if finite ``values`` became inf in their float32 ``converted``."""
    # the values are finite (validate_data), so an inf is a float64 value that overflowed;
    # max and min need no copy
    if values.dtype == np.float64 and converted.size and \
            (np.isinf(converted.max()) or np.isinf(converted.min())):
        raise ValueError(
            f"{type(est).__name__}: {what} values beyond float32's range (largest magnitude "
            f"{float(np.max(np.abs(values))):.3g}); fastnn computes in float32: {advice}")


def sample_weight_of(est: BaseEstimator, fit_params: dict[str, Any]) -> Any:
    """The ``sample_weight`` among ``fit``'s keyword arguments (or None).

    It is a keyword of ``**fit_params``, not a named parameter: scikit-learn's estimator
    checks run their sample-weight equivalence check on every estimator whose ``fit``
    names it, and that check asks a fit with integer weights to equal one on repeated
    samples to 1e-7, which float32 training cannot give (1e-7 to 1e-6 apart with
    "adam", 1e-4 with "lbfgs", whose steps amplify rounding).

    Raises:
        TypeError: another keyword argument.
    """
    unknown = sorted(set(fit_params) - {"sample_weight"})
    if unknown:
        raise TypeError(f"{type(est).__name__}.fit() got an unexpected keyword argument "
                        f"{unknown[0]!r} (it takes sample_weight)")
    return fit_params.get("sample_weight")


class _ParameterList(list):
    """A list of float32 views of the model's parameters whose item assignment copies the new
    values into the parameter (checked for shape), so that ``est.coefs_[i] = W`` changes
    the model as it does scikit-learn's."""

    def __init__(self, name: str, views: list[np.ndarray]) -> None:
        super().__init__(views)
        self.name = name

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            targets = list(range(len(self)))[index]
            values = list(value)
            if len(values) != len(targets):
                raise ValueError(f"{self.name}[{index.start}:{index.stop}:{index.step}] has "
                                 f"{len(targets)} arrays, got {len(values)}")
        else:
            targets, values = [range(len(self))[index]], [value]
        arrays = [np.asarray(v) for v in values]
        for i, new in zip(targets, arrays):  # all checked before any is written
            if new.shape != self[i].shape:
                raise ValueError(f"{self.name}[{i}] must have shape {self[i].shape} (the "
                                 f"model's layer sizes), got {new.shape}")
        for i, new in zip(targets, arrays):
            self[i][...] = new

    def assign_all(self, values: Any) -> None:
        values = list(values)
        if len(values) != len(self):
            raise ValueError(f"{self.name} must be a list of {len(self)} arrays (one per "
                             f"layer), got {len(values)}")
        self[:] = values


class BaseMLP(BaseEstimator):
    """Shared fitting and prediction; subclasses define targets, scores and outputs."""

    # -- subclass hooks -----------------------------------------------------------------------
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        raise NotImplementedError

    def _out_activation(self) -> str:
        raise NotImplementedError

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """The training targets for fastnn's loss, from the validated 2-D ``y``."""
        raise NotImplementedError

    def _validation_split(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None,
                          rng: np.random.RandomState):
        """``(X_train, X_val, y_train, y_val, sw_train, sw_val)``, the weights None without."""
        raise NotImplementedError

    def _score_validation(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> float:
        raise NotImplementedError

    # -- fitting ------------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool, sample_weight: Any) -> BaseMLP:
        check_params(self)
        if self.solver == "lbfgs" and self.dropout:
            raise InvalidParameterError(
                f"{type(self).__name__}: dropout={self.dropout!r} needs a stochastic solver "
                "('adam' or 'sgd'); L-BFGS needs a deterministic objective")
        hidden = hidden_sizes(self)
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        sw = None if sample_weight is None else \
            _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if sw is not None and np.all(sw == 1.0):
            sw = None  # the same objective: the fused step, bit for bit the unweighted fit
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        rng = check_random_state(self.random_state)
        layer_units = [X.shape[1], *hidden, y2.shape[1]]
        Xc = as_compute_array(X, self)
        with _own_generator(_generator_from(None)):  # Linear's own draws, overwritten
            if first_pass:
                self._initialize(y2, layer_units, rng)
                self._input_dtype = X.dtype  # scikit-learn's coefs_ dtype, set at the start
            else:
                self._continue_with(layer_units)
        # eps of scikit-learn's probabilities here, float32 only when this X and the first
        # fit's are: its log-loss clips them to [eps, 1 - eps] (_network.clip_log_loss)
        self._report_eps = float(np.finfo(
            np.float32 if X.dtype == np.float32 and self._input_dtype == np.float32
            else np.float64).eps)
        # Dropout masks come from a generator seeded from random_state after the initial
        # weights (scikit-learn's draws stay in step without dropout) and kept with the
        # estimator, so that partial_fit and warm_start calls continue its stream rather
        # than draw the first call's masks again.
        if self.dropout and (first_pass or getattr(self, "_dropout_rng", None) is None):
            self._dropout_rng = _generator_from(rng)
        with _threads(self.n_threads), \
                (_own_generator(self._dropout_rng) if self.dropout else contextlib.nullcontext()):
            if self.solver == "lbfgs":
                obj = _network.objective(self.out_activation_, self.n_outputs_)
                fit_lbfgs(self, Xc, self._targets(y2), sw, obj)
            else:
                self._fit_stochastic(Xc, y2, sw, rng, incremental)
        if not all(np.isfinite(p._data).all() for p in self.model_.parameters()):
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        self._check_adam_state()
        return self

    def _check_adam_state(self) -> None:
        """Raises where Adam's second moment overflowed float32 (squared gradients beyond
        3.4e38): the weights it touches stop moving (their update is ``m / inf``), so the
        fit would silently not learn."""
        state = getattr(self._optimizer, "state", {}) if self.solver == "adam" else {}
        if not all(np.isfinite(s["exp_avg_sq"]).all() for s in state.values()
                   if "exp_avg_sq" in s):
            raise ValueError(
                f"{type(self).__name__}: gradients beyond float32's range (Adam's squared "
                "gradient overflowed) stalled training; fastnn computes in float32: scale X "
                "and y first (for example with sklearn.preprocessing.StandardScaler)")

    def _initialize(self, y: np.ndarray, layer_units: list[int],
                    rng: np.random.RandomState) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        self.model_ = _network.build(layer_units, self.activation, self.dropout, rng)
        self._layout = (self.activation, self.dropout)
        self._optimizer = None
        if self.solver == "lbfgs":  # scikit-learn keeps no curves for it
            return
        self._best_params = [p._data.copy() for p in self.model_.parameters()]
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _continue_with(self, layer_units: list[int]) -> None:
        """Checks that a warm start or partial_fit keeps the layer sizes; a changed
        ``activation`` or ``dropout`` applies from now on, as in scikit-learn."""
        layers = _network.linears(self.model_)
        if [m.in_features for m in layers] + [self.n_outputs_] != layer_units:
            raise ValueError(
                f"{type(self).__name__}: the layer sizes {layer_units} differ from the fitted "
                f"model's; fit with warm_start=False to start over")
        if self._layout != (self.activation, self.dropout):
            self.model_ = _network.assemble(layers, self.activation, self.dropout)
            self._layout = (self.activation, self.dropout)

    def _fit_stochastic(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None,
                        rng: np.random.RandomState, incremental: bool) -> None:
        obj = _network.objective(self.out_activation_, self.n_outputs_)
        if not incremental or self._optimizer is None:
            self._optimizer = _stochastic.make_optimizer(self, self.model_, obj)
            self._schedule = _stochastic.schedule_of(self)
            self._learning_rate = float(self.learning_rate_init)
            self._adam_t = 0  # scikit-learn's AdamOptimizer.t
        elif not hasattr(self, "_schedule"):  # unpickled from a version without it
            self._schedule = _stochastic.schedule_of(self)
        val = None
        if self.early_stopping:
            X, X_val, y, y_val, sw, sw_val = self._validation_split(X, y, sw, rng)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            val = (X_val, y_val, sw_val)
        step = _stochastic.make_step(self.model_, obj, self._optimizer)
        self.n_iter_ = 0
        _stochastic.run_epochs(self, X, self._targets(y), sw, val, step, self._optimizer, obj,
                               rng, incremental)

    def _validation_score(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> float:
        with _threads(self.n_threads):
            score = self._score_validation(X, y, sw)
        self.model_.train()
        return score

    # -- prediction ---------------------------------------------------------------------------
    def _forward(self, X: Any, check_input: bool = True) -> np.ndarray:
        """The output activation's values ``(N, n_outputs)`` for ``X``: float32 when ``X``
        and the fit's first ``X`` are float32, else float64 (scikit-learn's dtypes)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                              dtype=(np.float64, np.float32))
        with _threads(self.n_threads):
            out = _network.decision(self.model_, as_compute_array(X, self),
                                    self.out_activation_)
        if X.dtype == np.float32 and getattr(self, "_input_dtype", None) == np.float32:
            return out.astype(np.float32)
        return out

    # -- attributes ---------------------------------------------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)``: float32 views of
        ``model_``'s ``Linear`` weights (transposed). Editing one in place, assigning an item
        (``coefs_[i] = W``) or the whole list changes the model, as in scikit-learn."""
        check_is_fitted(self)
        return _ParameterList("coefs_", [m.weight._data.T for m in _network.linears(self.model_)])

    @coefs_.setter
    def coefs_(self, values: list[np.ndarray]) -> None:
        self.coefs_.assign_all(values)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vectors, ``intercepts_[i]`` of shape ``(fan_out,)`` (float32 views of
        ``model_``'s biases; assignable like ``coefs_``)."""
        check_is_fitted(self)
        return _ParameterList("intercepts_", [m.bias._data for m in _network.linears(self.model_)])

    @intercepts_.setter
    def intercepts_(self, values: list[np.ndarray]) -> None:
        self.intercepts_.assign_all(values)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
