"""``fastnn.sklearn.MLPRegressor``: scikit-learn's MLPRegressor on fastnn's kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import neural_network as sk_neural_network
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import Tags, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import BaseMLP, check_float32_range, sample_weight_of, store_params
from ._classifier import _DOC_DIFFERENCES, _DOC_PARAMS, _check_solver
from ._params import parameter_constraints


def _is_text(y: Any) -> bool:
    """Whether ``y`` is a string array (or nested list of str), which scikit-learn refuses
    with a TypeError. Object arrays go on to ``validate_data``, which converts them as
    scikit-learn's does (a ValueError for a string that is no number)."""
    if y is None:
        return False
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError):  # ragged: validate_data says what is wrong
        return False
    return arr.dtype.kind in "SU"


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = r"""Multi-layer perceptron regressor: scikit-learn's, trained by fastnn.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor` (same parameters,
    defaults, methods, fitted attributes and training rules) that fits several times
    faster. The output is the identity (``loss="squared_error"``: half the squared
    error) or the exponential (``loss="poisson"``: half the Poisson deviance), one
    unit per target; multi-output targets ``(n_samples, n_targets)`` work.

    Args:
        loss (str): ``"squared_error"`` or ``"poisson"`` (targets must be ``>= 0``).
            Default: ``"squared_error"``.""" + _DOC_PARAMS.split("Args:", 1)[1] + """
    Attributes:
        loss_ (float): the last epoch's mean training loss (with the L2 term).
        best_loss_ (float or None): the least ``loss_`` seen (``None`` with early stopping).
        loss_curve_ (list of float): ``loss_`` after each epoch.
        validation_scores_ (list of float or None): the validation R^2 after each epoch,
            with early stopping.
        best_validation_score_ (float or None): the best of them.
        n_iter_ (int): epochs run by the last ``fit``.
        t_ (int): training samples seen, over all fits.
        coefs_ (list of ndarray): ``coefs_[i]`` of shape ``(fan_in, fan_out)``.
        intercepts_ (list of ndarray): ``intercepts_[i]`` of shape ``(fan_out,)``.
        n_features_in_ (int), feature_names_in_ (ndarray): seen at ``fit``.
        n_layers_ (int): layers including input and output.
        n_outputs_ (int): targets.
        out_activation_ (str): ``"identity"`` or ``"exp"``.
        model_ (nn.Sequential): the trained network (without the output activation).
""" + _DOC_DIFFERENCES + """
    Example::

        >>> from fastnn.sklearn import MLPRegressor
        >>> reg = MLPRegressor(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
        >>> reg.score(X, y)  # R^2
    """

    _parameter_constraints = parameter_constraints(sk_neural_network.MLPRegressor)

    def __init__(self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,),
                 activation: str = "relu", *, solver: str = "adam", alpha: float = 0.0001,
                 batch_size: int | str = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200,
                 shuffle: bool = True, random_state: Any = None, tol: float = 1e-4,
                 verbose: bool | int = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, max_fun: int = 15000,
                 dropout: float = 0.0, n_threads: int | None = None) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, **fit_params: Any) -> MLPRegressor:
        """Fits the network to ``X`` of shape ``(n_samples, n_features)`` (dense or scipy
        sparse, or a DataFrame) and targets ``y`` of shape ``(n_samples,)`` or
        ``(n_samples, n_targets)``.

        Args:
            **fit_params: ``sample_weight`` (array-like of shape ``(n_samples,)``,
                optional), each sample's weight in the loss, as scikit-learn's: a batch's
                loss is the weighted mean of its samples' plus ``alpha / (2 sum(w))
                ||W||^2``, and the validation score of ``early_stopping`` is weighted.

        Returns:
            MLPRegressor: ``self``.
        """
        return self._fit(X, y, False, sample_weight_of(self, fit_params))

    @available_if(_check_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``X`` and ``y``, continuing from the current weights and optimizer.

        Args:
            sample_weight (array-like of shape ``(n_samples,)``, optional): each sample's
                weight in the loss, as in :meth:`fit`.
        """
        return self._fit(X, y, True, sample_weight)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        if _is_text(y):  # strings were converted silently ("1.5" trained as 1.5)
            raise TypeError(f"{type(self).__name__}: y must be numeric, got strings; "
                            "convert the targets to numbers first")
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):  # all zeros is fine (a partial_fit batch)
            raise ValueError(f"{type(self).__name__}: loss='poisson' requires non-negative y.")
        return X, y

    def _out_activation(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _targets(self, y: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # reported by the check, once
            targets = np.ascontiguousarray(y, dtype=np.float32)
        check_float32_range(np.asarray(y), targets, "y has",
                            "scale the targets first (for example with "
                            "sklearn.compose.TransformedTargetRegressor)", self)
        return targets

    def _validation_split(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None,
                          rng: np.random.RandomState):
        if sw is None:
            return (*train_test_split(X, y, random_state=rng,
                                      test_size=self.validation_fraction), None, None)
        return train_test_split(X, y, sw, random_state=rng, test_size=self.validation_fraction)

    def _score_validation(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> float:
        pred = self._forward(X, check_input=False)
        if not np.isfinite(pred).all():
            return np.nan
        return float(r2_score(y, pred, sample_weight=sw))

    def predict(self, X: Any) -> np.ndarray:
        """The predictions, shape ``(n_samples,)`` for one target, else
        ``(n_samples, n_targets)``."""
        check_is_fitted(self)
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # the Poisson deviance needs y >= 0 (fit raises otherwise), as scikit-learn's
        # PoissonRegressor declares: its estimator checks then draw non-negative targets
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
