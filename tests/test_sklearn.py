"""Behaviour tests of ``fastnn.sklearn``'s MLPClassifier and MLPRegressor, with
scikit-learn's ``sklearn.neural_network`` estimators as the oracle.

fastnn's estimators draw their initial weights from ``random_state`` exactly as
scikit-learn does and shuffle the same batches, so on well-conditioned data the
first epochs' ``loss_curve_`` must match scikit-learn's to float32 precision; most
tests below compare the two libraries run for run (errors included, message for
message). scikit-learn's own estimator checks are in ``test_sklearn_checks.py``.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import pickle
import re
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sknn
from sklearn.base import clone
from sklearn.datasets import (
    load_digits,
    load_iris,
    make_classification,
    make_friedman1,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
)
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import (
    InvalidParameterError as SkInvalidParameterError,
)

import fastnn as fn
import fastnn.sklearn as fsk
from fastnn import nn
from fastnn.sklearn import MLPClassifier, MLPRegressor

# -- data: small, standardised, fixed ---------------------------------------------------------


def _scaled(X):
    return StandardScaler().fit_transform(X)


_X_CLS, _Y_CLS = make_classification(n_samples=200, n_features=8, n_informative=5,
                                     n_classes=3, flip_y=0.1, random_state=0)
_X_CLS = _scaled(_X_CLS)
_X_ML, _Y_ML = make_multilabel_classification(n_samples=150, n_features=8, n_classes=3,
                                              random_state=0)
_X_ML = _scaled(_X_ML)
_X_REG, _Y_REG = make_regression(n_samples=150, n_features=8, n_targets=2, noise=5.0,
                                 random_state=0)
_Y_REG = _Y_REG / _Y_REG.std(axis=0)

_X_BIG, _Y_BIG = make_classification(n_samples=450, n_features=8, n_informative=5,
                                     n_classes=4, random_state=1)

DATA = {
    "binary": (_X_CLS, (_Y_CLS == 0).astype(int)),
    "multiclass-450": (_scaled(_X_BIG), _Y_BIG),  # batch_size="auto": batches 200, 200, 50
    "multiclass": (_X_CLS, _Y_CLS),
    "multilabel": (_X_ML, _Y_ML),
    "regression": (_X_REG, _Y_REG[:, 0]),
    "multioutput": (_X_REG, _Y_REG),
    "poisson": (_X_REG, np.random.RandomState(0).poisson(np.exp(0.5 * _X_REG[:, 0]))),
}
CLASSIFICATION = ("binary", "multiclass", "multiclass-450", "multilabel")


def _est(lib, kind, **params):
    """``lib``'s ("sklearn" or "fastnn") estimator for the ``kind`` of data in DATA."""
    mod = sknn if lib == "sklearn" else fsk
    cls = mod.MLPClassifier if kind in CLASSIFICATION else mod.MLPRegressor
    if kind == "poisson":
        params.setdefault("loss", "poisson")
    return cls(**params)


def _fit(est, X, y, **kw):
    """``est.fit(X, y)`` without the ConvergenceWarning of short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _fit_both(kind, **params):
    """(scikit-learn's, fastnn's) estimators fitted with the same parameters on DATA[kind]."""
    X, y = DATA[kind]
    params = {"hidden_layer_sizes": (16,), "max_iter": 6, "random_state": 1, **params}
    return tuple(_fit(_est(lib, kind, **params), X, y) for lib in ("sklearn", "fastnn"))


def _weights(est):
    return [*est.coefs_, *est.intercepts_]


def _pairs(a, b):
    """The weights and biases of ``a`` and ``b``, layer by layer."""
    wa, wb = _weights(a), _weights(b)
    assert len(wa) == len(wb)
    return zip(wa, wb)


def _assert_same_weights(a, b):
    for wa, wb in _pairs(a, b):
        assert_array_equal(wa, wb)


def _outcome(call):
    """What ``call()`` does: ``("ok", None)`` or ``(exception type, message)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except Exception as e:
        return type(e), str(e)
    return "ok", None


# -- constructor, parameters, clone, pickle ---------------------------------------------------


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_signature_is_sklearns_plus_dropout_and_n_threads(name):
    """Same parameter names, kinds, defaults and order as scikit-learn's, then fastnn's own."""
    ours = list(inspect.signature(getattr(fsk, name)).parameters.values())
    theirs = list(inspect.signature(getattr(sknn, name)).parameters.values())

    def describe(params):
        return [(p.name, p.kind, p.default) for p in params]

    assert describe(ours[:-2]) == describe(theirs)
    assert describe(ours[-2:]) == [("dropout", inspect.Parameter.KEYWORD_ONLY, 0.0),
                                   ("n_threads", inspect.Parameter.KEYWORD_ONLY, None)]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_get_params_set_params_and_clone(cls):
    est = cls()
    params = est.get_params()
    assert list(params) == sorted(inspect.signature(cls).parameters)
    assert params["dropout"] == 0.0 and params["n_threads"] is None
    new = dict(hidden_layer_sizes=(7, 3), alpha=0.1, solver="sgd", dropout=0.25, n_threads=1)
    assert est.set_params(**new) is est
    assert {k: est.get_params()[k] for k in new} == new
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        est.set_params(bogus=1)

    X, y = DATA["binary"]
    fitted = _fit(cls(max_iter=2, random_state=0, dropout=0.1, n_threads=1), X, y)
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "model_") and not hasattr(twin, "n_iter_")
    with pytest.raises(NotFittedError):
        twin.predict(X)
    _assert_same_weights(_fit(twin, X, y), fitted)  # same parameters, same fit


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_pickle_round_trip_predicts_bit_identically(kind):
    X, y = DATA[kind]
    est = _fit(_est("fastnn", kind, hidden_layer_sizes=(16,), max_iter=5, random_state=0), X, y)
    back = pickle.loads(pickle.dumps(est))
    assert_array_equal(back.predict(X), est.predict(X))
    if kind in CLASSIFICATION:
        assert_array_equal(back.predict_proba(X), est.predict_proba(X))
        assert_array_equal(back.classes_, est.classes_)
    assert back.loss_curve_ == est.loss_curve_
    assert (back.n_iter_, back.t_, back.n_layers_, back.out_activation_) == \
        (est.n_iter_, est.t_, est.n_layers_, est.out_activation_)
    _assert_same_weights(back, est)


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_a_copied_estimator_trains_on_like_the_original(kind, how, copier):
    """Training goes on after pickling (or deep-copying) exactly as without it: the weights
    and the optimizer's state survive the round trip."""
    X, y = DATA[kind]
    est = _fit(_est("fastnn", kind, hidden_layer_sizes=(16,), max_iter=3, random_state=0), X, y)
    twin = pickle.loads(pickle.dumps(est)) if copier == "pickle" else copy.deepcopy(est)
    for e in (est, twin):
        if how == "partial_fit":
            e.partial_fit(X, y)
        else:
            _fit(e.set_params(warm_start=True), X, y)
    assert twin.loss_curve_ == est.loss_curve_
    _assert_same_weights(twin, est)


# -- parameters are checked at fit, with ValueErrors naming them ------------------------------

BAD_PARAMS = [
    ("alpha", -1), ("alpha", float("nan")), ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (5, -1)), ("hidden_layer_sizes", 0), ("hidden_layer_sizes", 5.0),
    ("activation", "softmax"), ("solver", "newton"), ("batch_size", 0),
    ("learning_rate", "cyclic"), ("learning_rate_init", 0.0), ("power_t", -1.0),
    ("max_iter", 0), ("shuffle", 1), ("random_state", "seed"), ("tol", -1.0),
    ("momentum", 1.5), ("validation_fraction", 1.0), ("beta_1", 1.0), ("beta_2", -0.1),
    ("epsilon", 0.0), ("n_iter_no_change", 0), ("max_fun", 0), ("early_stopping", "yes"),
    ("dropout", 1.0), ("dropout", -0.1), ("n_threads", 0), ("n_threads", 1.5),
    ("n_threads", True),
    # scikit-learn's intervals exclude inf (epsilon=inf would train nothing, silently;
    # power_t=inf divided by zero)
    ("alpha", np.inf), ("learning_rate_init", np.inf), ("power_t", np.inf), ("tol", np.inf),
    ("epsilon", np.inf), ("verbose", -1), ("random_state", -1), ("random_state", 2**32),
]


@pytest.mark.parametrize("cls_name", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize(("param", "value"), BAD_PARAMS)
def test_bad_parameter_raises_value_error_naming_it_at_fit(cls_name, param, value):
    X, y = DATA["binary"]
    est = getattr(fsk, cls_name)(**{param: value})  # accepted until fit, as in scikit-learn
    est.set_params(**{param: value})
    # scikit-learn's own class (a ValueError and a TypeError): code catching it catches ours
    with pytest.raises(SkInvalidParameterError, match=param):
        est.fit(X, y)
    if param not in ("dropout", "n_threads"):  # scikit-learn rejects it too
        with pytest.raises(ValueError):
            getattr(sknn, cls_name)(**{param: value}).fit(X, y)


def test_a_vanishing_invscaling_rate_trains_like_sklearn():
    """power_t=20 drives the rate below 1e-40 within a few epochs: the momentum buffers
    (velocity / rate) once overflowed float32 and the fit failed; scikit-learn's velocity
    simply decays. The same epochs, loss and weights."""
    X = np.random.RandomState(0).randn(100, 4)
    y = (X[:, 0] > 0).astype(int)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="invscaling",
                  learning_rate_init=0.5, power_t=20, batch_size=10, max_iter=40,
                  n_iter_no_change=1000, random_state=0)
    sk, ours = (_fit(lib.MLPClassifier(**params), X, y) for lib in (sknn, fsk))
    assert ours.n_iter_ == sk.n_iter_ == 40
    assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-5)
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, atol=1e-5)


def test_bad_regression_loss_raises():
    X, y = DATA["regression"]
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="huber").fit(X, y)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
def test_lbfgs_matches_sklearn(kind):
    """solver="lbfgs": SciPy's L-BFGS-B on the same objective; float32 gradients make the
    path differ slowly, so the final loss and predictions are compared, not the steps."""
    sk, ours = _fit_both(kind, solver="lbfgs", max_iter=30)
    assert not hasattr(ours, "loss_curve_") and not hasattr(sk, "loss_curve_")
    assert 1 <= ours.n_iter_ <= 30
    assert_allclose(ours.loss_, sk.loss_, rtol=0.05)
    assert type(ours.loss_) is type(sk.loss_) is np.float64
    X, _ = DATA[kind]
    if kind == "regression":
        assert_allclose(ours.predict(X), sk.predict(X), rtol=0.05, atol=0.05)
    else:
        assert np.mean(ours.predict(X) == sk.predict(X)) > 0.95


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_lbfgs_has_no_partial_fit_and_refuses_dropout(cls):
    X, y = DATA["binary"]
    assert not hasattr(cls(solver="lbfgs"), "partial_fit")
    assert hasattr(cls(solver="sgd"), "partial_fit")
    with pytest.raises(ValueError, match="dropout.*stochastic solver"):
        cls(solver="lbfgs", dropout=0.2).fit(X, y)


def test_lbfgs_warns_when_max_iter_stops_it():
    X, y = DATA["multiclass"]
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        est = MLPClassifier(solver="lbfgs", max_iter=2, random_state=0).fit(X, y)
    assert est.n_iter_ == 2


# -- the same numbers as scikit-learn ---------------------------------------------------------

INIT_CASES = [("binary", {}), ("multiclass", {"hidden_layer_sizes": (9, 5)}),
              ("multilabel", {"activation": "logistic"}), ("multioutput", {}),
              ("regression", {"hidden_layer_sizes": ()})]


@pytest.mark.parametrize(("kind", "params"), INIT_CASES, ids=[k for k, _ in INIT_CASES])
def test_initial_weights_are_sklearns_rounded_to_float32(kind, params):
    """One SGD epoch at a learning rate of 1e-12 leaves the initial draws (the Glorot bound
    is sqrt(2 / fan) for logistic, sqrt(6 / fan) otherwise) unchanged in float32."""
    sk, ours = _fit_both(kind, solver="sgd", learning_rate_init=1e-12, momentum=0.0,
                         max_iter=1, **params)
    for a, b in _pairs(sk, ours):
        assert b.dtype == np.float32 and b.shape == a.shape
        assert_allclose(b, a, rtol=1e-7, atol=1e-9)


PARITY_CASES = {
    "adam-binary": ("binary", {}),
    "adam-multiclass": ("multiclass", {}),
    # several batches an epoch: Adam's epsilon must enter as scikit-learn's at every step,
    # or a weight with gradients of order 1e-8 drifts by 2e-4 from scikit-learn's
    "adam-auto-batches": ("multiclass-450", dict(alpha=0.1)),
    "sgd-auto-batches": ("multiclass-450", dict(alpha=0.1, solver="sgd",
                                                learning_rate_init=0.05)),
    "adam-multilabel": ("multilabel", {}),
    "adam-regression": ("regression", {}),
    "adam-multioutput": ("multioutput", {}),
    "adam-poisson": ("poisson", {}),
    "adam-tanh-two-layers-alpha-batch32": (
        "multiclass", dict(activation="tanh", hidden_layer_sizes=(12, 7), alpha=0.5,
                           batch_size=32)),
    "adam-logistic-batch40": ("regression", dict(activation="logistic", batch_size=40)),
    "adam-identity-no-shuffle": ("binary", dict(activation="identity", shuffle=False,
                                                batch_size=64)),
    "adam-no-hidden-layer": ("multiclass", dict(hidden_layer_sizes=())),
    "sgd-multiclass": ("multiclass", dict(solver="sgd", learning_rate_init=0.05)),
    "sgd-regression": ("regression", dict(solver="sgd", learning_rate_init=0.01)),
    "sgd-multilabel-classical-momentum": ("multilabel", dict(
        solver="sgd", nesterovs_momentum=False, learning_rate_init=0.05)),
    "sgd-binary-no-momentum": ("binary", dict(solver="sgd", momentum=0.0,
                                              learning_rate_init=0.1)),
    "sgd-invscaling": ("multiclass", dict(solver="sgd", learning_rate="invscaling",
                                          momentum=0.0, learning_rate_init=0.5)),
    # momentum across rate changes: scikit-learn's velocity keeps the old rates
    "sgd-invscaling-nesterov": ("multiclass", dict(solver="sgd", learning_rate="invscaling",
                                                   learning_rate_init=0.5)),
    "sgd-adaptive-momentum": ("multiclass", dict(solver="sgd", learning_rate="adaptive",
                                                 nesterovs_momentum=False, tol=10.0,
                                                 n_iter_no_change=1, max_iter=40)),
    # tol=10: no epoch improves, so the rate is divided by 5 every other epoch until it
    # is <= 1e-6, then training stops
    "sgd-adaptive": ("multiclass", dict(solver="sgd", learning_rate="adaptive", momentum=0.0,
                                        tol=10.0, n_iter_no_change=1, max_iter=40)),
    "stop-on-training-loss": ("multiclass", dict(tol=0.02, n_iter_no_change=2, max_iter=60)),
    "early-stopping-binary": ("binary", dict(early_stopping=True, n_iter_no_change=3,
                                             learning_rate_init=0.05, max_iter=60)),
    "early-stopping-multilabel": ("multilabel", dict(early_stopping=True, n_iter_no_change=2,
                                                     learning_rate_init=0.05, max_iter=60)),
    "early-stopping-regression": ("regression", dict(
        early_stopping=True, n_iter_no_change=2, tol=1e-2, learning_rate_init=0.01,
        max_iter=60, validation_fraction=0.2)),
}


@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_training_matches_sklearn(case):
    """loss_curve_, stopping epoch, validation scores and weights as scikit-learn's."""
    kind, params = PARITY_CASES[case]
    sk, ours = _fit_both(kind, **params)
    assert ours.n_iter_ == sk.n_iter_
    if params.get("max_iter", 6) > 6:  # the cases of the stopping rules do stop early
        assert ours.n_iter_ < params["max_iter"]
    assert ours.t_ == sk.t_
    assert_allclose(ours.loss_curve_[:6], sk.loss_curve_[:6], rtol=1e-4)
    assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-3)  # float32 drifts, slowly
    assert ours.loss_ == ours.loss_curve_[-1]
    assert_allclose(ours.loss_, sk.loss_, rtol=1e-3)
    if sk.early_stopping:
        assert ours.best_loss_ is None
        # the same accuracies; R^2 to float32 precision
        assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-4, atol=1e-6)
        assert_allclose(ours.best_validation_score_, sk.best_validation_score_, rtol=1e-3)
    else:
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None
        assert_allclose(ours.best_loss_, sk.best_loss_, rtol=1e-3)
    # after a few epochs, weights that get tiny gradients drift apart: Adam's epsilon enters
    # as PyTorch's (a documented difference), and float32 rounding adds up
    tol = 2e-4 if sk.n_iter_ <= 6 else 1e-2
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, atol=tol)
    X, _ = DATA[kind]
    if kind in CLASSIFICATION:
        assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=tol / 2)
    else:
        assert_allclose(ours.predict(X), sk.predict(X), rtol=5 * tol, atol=5 * tol)


FORWARD_CASES = [(kind, act) for kind in ("binary", "multiclass", "multilabel", "multioutput",
                                          "poisson")
                 for act in ("relu", "tanh", "logistic", "identity")]


@pytest.mark.parametrize(("kind", "activation"), FORWARD_CASES)
def test_prediction_with_sklearns_weights_is_sklearns(kind, activation):
    """``coefs_`` and ``intercepts_`` are the network's live weights: written with
    scikit-learn's fitted ones, fastnn predicts what scikit-learn predicts."""
    sk, ours = _fit_both(kind, hidden_layer_sizes=(12, 6), activation=activation, max_iter=3,
                         random_state=5)
    for w_sk, w in _pairs(sk, ours):
        w[...] = w_sk + 0.1  # not the weights fastnn trained itself
        w_sk += 0.1
    X, _ = DATA[kind]
    if kind in CLASSIFICATION:
        assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-5, atol=1e-6)
        assert_array_equal(ours.predict(X), sk.predict(X))
    else:
        assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("how", ["item", "whole-list", "slice"])
def test_assigning_coefs_and_intercepts_changes_the_model_as_in_sklearn(how):
    """scikit-learn's fitted weights are plain lists users assign to (custom starts,
    pruning); fastnn's write through into model_ (item assignment was once silently lost)."""
    sk, ours = _fit_both("multiclass", hidden_layer_sizes=(12, 6), max_iter=3, random_state=5)
    new_coefs = [c * 0.5 + 0.01 for c in sk.coefs_]
    new_intercepts = [b - 0.2 for b in sk.intercepts_]
    for est in (sk, ours):
        if how == "item":
            for i in range(len(new_coefs)):
                est.coefs_[i] = new_coefs[i]
                est.intercepts_[-1 - i] = new_intercepts[-1 - i]
        elif how == "whole-list":
            est.coefs_, est.intercepts_ = new_coefs, new_intercepts
        else:
            est.coefs_[:] = new_coefs
            est.intercepts_[1:] = new_intercepts[1:]
            est.intercepts_[:1] = new_intercepts[:1]
    X, _ = DATA["multiclass"]
    assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-5, atol=1e-6)
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, rtol=1e-7)
        assert b.dtype == np.float32


def test_assigning_coefs_of_another_shape_raises_and_changes_nothing():
    _, ours = _fit_both("multiclass", hidden_layer_sizes=(12,), max_iter=2)
    before = [w.copy() for w in _weights(ours)]
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(8, 12\).*\(8, 6\)"):
        ours.coefs_[0] = np.zeros((8, 6))
    with pytest.raises(ValueError, match="intercepts_ must be a list of 2 arrays.*got 1"):
        ours.intercepts_ = [np.zeros(12)]
    with pytest.raises(ValueError, match=r"intercepts_\[1\] must have shape \(3,\)"):
        ours.intercepts_ = [np.ones(12), np.ones(4)]  # the first one is not written either
    for a, b in zip(before, _weights(ours)):
        assert_array_equal(a, b)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_shared_random_state_is_drawn_from_like_sklearn(early_stopping):
    """With a RandomState instance, each fit draws on from where the last one stopped;
    fastnn draws the same numbers in the same order (weights, validation split, shuffles),
    so a second fit still matches scikit-learn's."""
    X, y = DATA["regression"]
    runs = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, "regression", hidden_layer_sizes=(8,), max_iter=3,
                   early_stopping=early_stopping, random_state=np.random.RandomState(3))
        first = list(_fit(est, X, y).loss_curve_)
        runs.append((first, list(_fit(est, X, y).loss_curve_)))
    (sk_first, sk_second), (first, second) = runs
    assert_allclose(first, sk_first, rtol=1e-4)
    assert_allclose(second, sk_second, rtol=1e-4)
    assert abs(second[0] - first[0]) > 1e-3  # the second fit started elsewhere


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression",
                                  "multioutput", "poisson"])
def test_fitted_attributes_are_sklearns(kind):
    sk, ours = _fit_both(kind, hidden_layer_sizes=(10, 4), max_iter=2)
    X, y = DATA[kind]
    for attr in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_", "n_iter_",
                 "t_"):
        assert getattr(ours, attr) == getattr(sk, attr), attr
    assert ours.t_ == 2 * len(X)
    for attr in ("loss_", "best_loss_"):
        assert type(getattr(ours, attr)) is type(getattr(sk, attr)) is np.float64, attr
    assert type(ours.loss_curve_[0]) is type(sk.loss_curve_[0])
    assert [c.shape for c in ours.coefs_] == [c.shape for c in sk.coefs_]
    assert [i.shape for i in ours.intercepts_] == [i.shape for i in sk.intercepts_]
    assert isinstance(ours.model_, nn.Sequential)
    assert len(ours.loss_curve_) == 2 and ours.best_loss_ == min(ours.loss_curve_)
    if kind in CLASSIFICATION:
        assert_array_equal(ours.classes_, sk.classes_)
    assert not hasattr(ours, "feature_names_in_")  # plain arrays carry no names
    # model_ is the network without its output activation
    ours.model_.eval()
    z = np.asarray(ours.model_(X.astype(np.float32)), dtype=np.float64)
    out = {"softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
           "logistic": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z,
           "exp": np.exp}[ours.out_activation_](z)
    if kind in CLASSIFICATION:
        proba = ours.predict_proba(X)
        assert_allclose(proba if out.shape[1] > 1 else proba[:, 1:], out, rtol=1e-12)
    else:
        assert_allclose(ours.predict(X), out.reshape(ours.predict(X).shape), rtol=1e-12)
    # coefs_ and intercepts_ are model_'s weights, not copies of them
    first = next(m for m in ours.model_ if isinstance(m, nn.Linear))
    assert_array_equal(ours.coefs_[0], first.weight.detach().numpy().T)
    assert_array_equal(ours.intercepts_[0], first.bias.detach().numpy())


def test_verbose_prints_sklearns_lines(capsys):
    """Same lines as scikit-learn's (iteration losses, validation scores, schedule and stop
    messages), the numbers equal to float32 precision."""
    number = re.compile(r"-?\d+\.\d+")
    outputs = []
    for lib in ("sklearn", "fastnn"):
        X, y = DATA["regression"]
        _fit(_est(lib, "regression", hidden_layer_sizes=(16,), random_state=1, verbose=True,
                  solver="sgd", learning_rate="adaptive", learning_rate_init=0.01, momentum=0.0,
                  early_stopping=True, tol=0.5, n_iter_no_change=1, max_iter=8,
                  validation_fraction=0.2), X, y)
        outputs.append(capsys.readouterr().out.splitlines())
    sk, ours = outputs
    assert [number.sub("#", s) for s in ours] == [number.sub("#", s) for s in sk]
    assert any("Setting learning rate to" in s for s in ours)
    assert_allclose([float(v) for s in ours for v in number.findall(s)],
                    [float(v) for s in sk for v in number.findall(s)], rtol=1e-4, atol=2e-6)

    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0,
                             verbose=True), *DATA["multiclass"])
    assert capsys.readouterr().out.splitlines() == [
        f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(est.loss_curve_, 1)]


# -- stopping rules, early stopping, warm start, partial_fit ----------------------------------


def test_convergence_warning_at_max_iter_only():
    X, y = DATA["multiclass"]
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, tol=10.0, n_iter_no_change=2,
                            random_state=0).fit(X, y)  # stops on tol before max_iter
        assert est.n_iter_ == 4 < est.max_iter  # the first epoch sets best_loss_, then 3 misses
        est.partial_fit(X, y)  # one epoch, never a warning


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_early_stopping_restores_the_best_epochs_weights(kind):
    """After early stopping the weights are those of the best validation epoch: the same,
    bit for bit, as a run that ends at that epoch."""
    X, y = DATA[kind]
    params = dict(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
                  learning_rate_init=0.05, max_iter=100, random_state=0,
                  validation_fraction=0.2)
    full = _fit(_est("fastnn", kind, **params), X, y)
    scores = full.validation_scores_
    assert len(scores) == len(full.loss_curve_) == full.n_iter_
    best = int(np.argmax(scores))  # the first best: later ties do not replace it
    assert full.best_validation_score_ == scores[best]
    assert full.best_loss_ is None
    assert best + 1 < full.n_iter_ < params["max_iter"]  # stopped early, past the best epoch
    short = _fit(_est("fastnn", kind, **{**params, "max_iter": best + 1}), X, y)
    assert short.validation_scores_ == scores[:best + 1]
    _assert_same_weights(full, short)
    assert_array_equal(full.predict(X), short.predict(X))
    # the held-out rows are scikit-learn's: drawn from random_state after the weights
    rng = np.random.RandomState(params["random_state"])
    for fan_in, fan_out in zip([X.shape[1], 32], [32, full.n_outputs_]):
        rng.uniform(size=(fan_in, fan_out))
        rng.uniform(size=fan_out)
    _, X_val, _, y_val = train_test_split(X, y, random_state=rng, test_size=0.2,
                                          stratify=y if kind == "binary" else None)
    assert full.score(X_val, y_val) == pytest.approx(full.best_validation_score_, abs=1e-9)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_early_stopping_holds_out_scikit_learns_samples(monkeypatch, kind):
    """The held-out rows are scikit-learn's for the same random_state: stratified for
    binary targets only (scikit-learn 1.9 stratifies where its binarized y has one
    column). fastnn stratified every single-label split, so multi-class runs held out
    other samples than scikit-learn's."""
    from fastnn.sklearn import _classifier

    calls = []

    def spy(*arrays, **kw):
        parts = train_test_split(*arrays, **kw)
        calls.append(kw.get("stratify") is not None)
        return parts

    monkeypatch.setattr(_classifier, "train_test_split", spy)
    X, y = DATA[kind]
    for seed in range(4):
        # a learning rate of ~0: one epoch leaves the (equal) initial weights, so the
        # validation accuracy tells the held-out samples apart
        params = dict(hidden_layer_sizes=(8,), early_stopping=True, max_iter=1,
                      learning_rate_init=1e-12, random_state=seed)
        ours = _fit(_est("fastnn", kind, **params), X, y)
        theirs = _fit(_est("sklearn", kind, **params), X, y)
        assert ours.validation_scores_ == theirs.validation_scores_
        assert calls.pop() == (kind == "binary")


def test_binary_class_of_one_sample_cannot_be_stratified():
    # scikit-learn raises (train_test_split's stratification); fastnn fell back to a
    # plain split, silently
    y = np.zeros(60, int)
    y[0] = 1
    for lib in ("sklearn", "fastnn"):
        with pytest.raises(ValueError, match="least populated class"):
            _fit(_est(lib, "binary", early_stopping=True), _X_CLS[:60], y)


def test_warm_start_with_early_stopping_keeps_the_best_weights_so_far():
    """A warm fit whose epochs all score below the best of the previous fits restores that
    best epoch's weights. (scikit-learn 1.9 restores the last epoch's instead: after the
    first fit its ``coefs_`` and ``_best_coefs`` are the same arrays, updated in place.)"""
    X, y = DATA["regression"]
    est = _fit(MLPRegressor(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=2,
                            learning_rate_init=0.05, max_iter=60, random_state=0,
                            warm_start=True), X, y)
    best, weights = est.best_validation_score_, [w.copy() for w in _weights(est)]
    n_first = len(est.validation_scores_)
    _fit(est.set_params(learning_rate_init=0.5), X, y)  # too big a step: no epoch improves
    assert max(est.validation_scores_[n_first:]) < best
    assert est.best_validation_score_ == best
    for w, w0 in zip(_weights(est), weights):
        assert_array_equal(w, w0)


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_warm_start_continues_like_sklearn(kind):
    """A second warm fit starts from the fitted weights (a fresh optimizer and
    RandomState, as in scikit-learn): the curve goes on where it stopped."""
    X, y = DATA[kind]
    runs = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, kind, hidden_layer_sizes=(16,), max_iter=3, random_state=0,
                   warm_start=True)
        _fit(_fit(est, X, y), X, y)
        runs.append(est)
    sk, ours = runs
    assert len(ours.loss_curve_) == 6 and ours.n_iter_ == 3 and ours.t_ == 6 * len(X)
    assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-4)
    cold = _est("fastnn", kind, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    _fit(_fit(cold, X, y), X, y)  # without warm_start the second fit starts over
    assert cold.loss_curve_ == ours.loss_curve_[:3]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_after_fit_goes_on_with_its_optimizer_like_sklearn(solver):
    """partial_fit after fit keeps fit's optimizer: Adam's moments and step count,
    "invscaling"'s decayed learning rate."""
    X, y = DATA["multiclass"]
    params = dict(solver=solver, learning_rate="invscaling", momentum=0.0,
                  learning_rate_init=0.5) if solver == "sgd" else {}
    runs = []
    for lib in ("sklearn", "fastnn"):
        est = _fit(_est(lib, "multiclass", hidden_layer_sizes=(16,), max_iter=3,
                        random_state=0, **params), X, y)
        est.partial_fit(X, y)
        est.partial_fit(X[:50], y[:50])
        runs.append(est)
    sk, ours = runs
    assert len(ours.loss_curve_) == 5
    assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-4)
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, atol=1e-4)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_keyboard_interrupt_ends_training_with_a_warning(monkeypatch, early_stopping):
    """Ctrl-C during an epoch ends fit with scikit-learn's warning and a usable estimator
    (with early stopping, the best weights so far)."""
    from fastnn.sklearn import _stochastic

    make_step, calls = _stochastic.make_step, []

    def interrupted_on_the_4th_batch(*args):
        step = make_step(*args)

        def call(x, y, w):
            calls.append(len(x))
            if len(calls) == 4:
                raise KeyboardInterrupt
            return step(x, y, w)

        return call

    monkeypatch.setattr(_stochastic, "make_step", interrupted_on_the_4th_batch)
    X, y = DATA["multiclass"]
    est = MLPClassifier(hidden_layer_sizes=(8,), batch_size=100, random_state=0,
                        early_stopping=early_stopping)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1  # the second epoch did not end
    assert est.predict(X).shape == (len(X),)
    if early_stopping:
        monkeypatch.setattr(_stochastic, "make_step", make_step)
        one = _fit(clone(est).set_params(max_iter=1), X, y)  # the first epoch's weights
        assert len(calls) == 4 and one.n_iter_ == 1
        _assert_same_weights(est, one)


def test_warm_start_refuses_other_classes_or_layers():
    X, y = DATA["multiclass"]
    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, warm_start=True,
                             random_state=0), X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same "
                                         "classes as in the previous call to fit"):
        est.fit(X, np.where(y == 2, 5, y))
    with pytest.raises(ValueError, match="layer sizes"):
        est.set_params(hidden_layer_sizes=(9,)).fit(X, y)


@pytest.mark.parametrize("kind", ["multiclass", "multilabel", "regression"])
def test_partial_fit_like_sklearn(kind):
    """One epoch per call on the given rows, the optimizer carried over; the first batch
    may lack a class when ``classes`` names them all."""
    X, y = DATA[kind]
    first = slice(0, 100)
    if kind == "multiclass":
        first = np.flatnonzero(y != 2)[:100]  # no class 2 in the first call
    runs = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, kind, hidden_layer_sizes=(16,), random_state=0)
        kw = {"classes": np.unique(y) if kind == "multiclass" else [0, 1, 2]} \
            if kind in CLASSIFICATION else {}
        est.partial_fit(X[first], y[first], **kw)
        est.partial_fit(X, y)
        est.partial_fit(X[100:], y[100:])
        runs.append(est)
    sk, ours = runs
    assert ours.n_iter_ == 1 and ours.t_ == sk.t_ and len(ours.loss_curve_) == 3
    assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-4)
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, atol=1e-4)
    if kind == "multiclass":
        assert_array_equal(ours.classes_, [0, 1, 2])
        assert ours.predict_proba(X).shape == (len(X), 3)


# -- errors: scikit-learn's types and messages ------------------------------------------------

_rng = np.random.RandomState(0)
_X = _rng.randn(20, 3)
_y = np.arange(20) % 2
_X_nan, _X_inf, _X_str = _X.copy(), _X.copy(), _X.astype(object)
_X_nan[0, 0], _X_inf[0, 0], _X_str[0, 0] = np.nan, np.inf, "abc"
_C, _R = "MLPClassifier", "MLPRegressor"

ERROR_CASES = {
    "nan-X": (_C, lambda e: e.fit(_X_nan, _y)),
    "inf-X": (_R, lambda e: e.fit(_X_inf, _y)),
    "1d-X": (_C, lambda e: e.fit(_X[:, 0], _y)),
    "3d-X": (_R, lambda e: e.fit(_X[:, :, None], _y)),
    "empty": (_C, lambda e: e.fit(_X[:0], _y[:0])),
    "no-features": (_R, lambda e: e.fit(_X[:, :0], _y)),
    "strings-in-X": (_C, lambda e: e.fit(_X_str, _y)),
    "complex-X": (_R, lambda e: e.fit(_X + 1j, _y)),
    "continuous-y-to-classifier": (_C, lambda e: e.fit(_X, _X[:, 0])),
    "string-y-to-regressor": (_R, lambda e: e.fit(_X, np.array(["a", "b"] * 10, object))),
    "y-None": (_C, lambda e: e.fit(_X, None)),
    "y-None-regressor": (_R, lambda e: e.fit(_X, None)),
    "nan-y": (_R, lambda e: e.fit(_X, np.where(_y, np.nan, 1.0))),
    "inconsistent-lengths": (_C, lambda e: e.fit(_X, _y[:-1])),
    "predict-before-fit": (_C, lambda e: e.predict(_X)),
    "predict-proba-before-fit": (_C, lambda e: e.predict_proba(_X)),
    "predict-wrong-n-features": (_C, lambda e: e.set_params(max_iter=2).fit(_X, _y)
                                 .predict(_X[:, :2])),
    "predict-wrong-n-features-regressor": (_R, lambda e: e.set_params(max_iter=2)
                                           .fit(_X, _y).predict(_X[:, :2])),
    "predict-nan": (_R, lambda e: e.set_params(max_iter=2).fit(_X, _y).predict(_X_nan)),
    "predict-proba-1d": (_C, lambda e: e.set_params(max_iter=2).fit(_X, _y)
                         .predict_proba(_X[0])),
    "partial-fit-without-classes": (_C, lambda e: e.partial_fit(_X, _y)),
    "partial-fit-new-class": (_C, lambda e: e.partial_fit(_X, _y, classes=[0, 1])
                              .partial_fit(_X, _y + 1)),
    "partial-fit-other-classes": (_C, lambda e: e.partial_fit(_X, _y, classes=[0, 1])
                                  .partial_fit(_X, _y, classes=[0, 1, 2])),
    "partial-fit-early-stopping": (_C, lambda e: e.set_params(early_stopping=True)
                                   .partial_fit(_X, _y, classes=[0, 1])),
    "warm-start-other-classes": (_C, lambda e: e.set_params(warm_start=True, max_iter=2)
                                 .fit(_X, _y).fit(_X, _y + 1)),
    "partial-fit-other-n-features": (_R, lambda e: e.partial_fit(_X, _y)
                                     .partial_fit(_X[:, :2], _y)),
    "predict-log-proba-before-fit": (_C, lambda e: e.predict_log_proba(_X)),
    "score-before-fit": (_R, lambda e: e.score(_X, _y)),
    "warm-start-other-n-features": (_R, lambda e: e.set_params(warm_start=True, max_iter=2)
                                    .fit(_X, _y).fit(_X[:, :2], _y)),
    "validation-set-too-small": (_R, lambda e: e.set_params(early_stopping=True)
                                 .fit(_X[:10], _y[:10])),
    "diverging-weights": (_R, lambda e: e.set_params(solver="sgd", learning_rate_init=1.0,
                                                     max_iter=20, random_state=0)
                          .fit(_X, _X @ [1e3, 2e3, 3e3])),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_are_sklearns(case):
    """The same exception type and message as scikit-learn's estimator raises."""
    name, call = ERROR_CASES[case]
    expected = _outcome(lambda: call(getattr(sknn, name)()))
    assert expected[0] != "ok"  # the case is an error in scikit-learn
    assert _outcome(lambda: call(getattr(fsk, name)())) == expected


def test_a_partial_fit_refused_for_its_parameters_leaves_no_trace():
    """Parameters are checked before anything is set: a first partial_fit that fails on
    them does not count as the first call."""
    outcomes = []
    for mod in (sknn, fsk):
        est = mod.MLPClassifier(alpha=-1.0)
        with pytest.raises(ValueError, match="alpha"):
            est.partial_fit(_X, _y, classes=[0, 1])
        assert not hasattr(est, "classes_")
        outcomes.append(_outcome(lambda est=est: est.set_params(alpha=0.0).partial_fit(_X, _y)))
    assert outcomes[0][0] is ValueError
    assert outcomes[1] == outcomes[0]


def test_poisson_loss_rejects_negative_targets():
    X, y = DATA["poisson"]
    with pytest.raises(ValueError, match="poisson"):
        MLPRegressor(loss="poisson").fit(X, y - 1.0)


def test_poisson_loss_takes_all_zero_targets_like_sklearn():
    """Counts may all be zero, in a partial_fit batch or a whole fit (the loss is then
    the mean prediction)."""
    X, y = DATA["poisson"]
    zeros = np.zeros_like(y)
    runs = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, "poisson", hidden_layer_sizes=(8,), random_state=0)
        est.partial_fit(X[:75], y[:75])
        est.partial_fit(X[75:], zeros[75:])
        whole = _fit(_est(lib, "poisson", hidden_layer_sizes=(8,), max_iter=3,
                          random_state=0), X, zeros)
        runs.append((est.loss_curve_, whole.loss_curve_))
    (sk_stream, sk_whole), (stream, whole) = runs
    assert_allclose(stream, sk_stream, rtol=1e-4)
    assert_allclose(whole, sk_whole, rtol=1e-4)


# -- inputs and outputs -----------------------------------------------------------------------

LABELS = {"strings": np.array(["zebra", "apple", "mango"]), "ints": np.array([11, 3, 7]),
          "binary-strings": np.array(["yes", "no"]), "bools": np.array([True, False])}


@pytest.mark.parametrize("labels", list(LABELS))
def test_labels_classes_and_probabilities(labels):
    """Any labels; ``classes_`` sorted as scikit-learn's; predict_proba's columns in that
    order (equal to scikit-learn's), rows summing to 1; predict its argmax."""
    X, y3 = DATA["multiclass"]
    names = LABELS[labels]
    y = names[y3 % len(names)]
    sk, ours = (_fit(_est(lib, "multiclass", hidden_layer_sizes=(16,), max_iter=5,
                          random_state=0), X, y) for lib in ("sklearn", "fastnn"))
    assert_array_equal(ours.classes_, sk.classes_)
    assert ours.classes_.dtype == sk.classes_.dtype
    proba = ours.predict_proba(X)
    assert proba.shape == (len(X), len(names))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(proba, sk.predict_proba(X), atol=1e-4)
    pred = ours.predict(X)
    assert pred.dtype == sk.predict(X).dtype
    assert_array_equal(pred, ours.classes_[proba.argmax(axis=1)])
    assert_allclose(ours.predict_log_proba(X), np.log(proba))
    assert ours.score(X, y) == accuracy_score(y, pred)


def test_multilabel_outputs():
    X, Y = DATA["multilabel"]
    sk, ours = _fit_both("multilabel", max_iter=20)
    proba = ours.predict_proba(X)
    assert proba.shape == Y.shape and not np.allclose(proba.sum(axis=1), 1.0)
    assert_allclose(proba, sk.predict_proba(X), atol=1e-4)
    pred = ours.predict(X)
    assert pred.shape == Y.shape
    assert_array_equal(pred, (proba > 0.5).astype(pred.dtype))
    assert ours.score(X, Y) == accuracy_score(Y, pred)


@pytest.mark.parametrize("kind", ["regression", "multioutput", "poisson"])
def test_regression_outputs_and_r2_score(kind):
    X, y = DATA[kind]
    sk, ours = _fit_both(kind)
    pred = ours.predict(X)
    assert pred.shape == y.shape
    assert_allclose(pred, sk.predict(X), rtol=1e-3, atol=1e-3)
    assert ours.score(X, y) == pytest.approx(r2_score(y, pred))
    if kind == "poisson":
        assert (pred > 0).all()


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_column_vector_y_is_raveled_with_a_warning(cls):
    X, y = DATA["binary"]
    with pytest.warns(DataConversionWarning):
        col = _fit(cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0), X, y[:, None])
    flat = _fit(cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0), X, y)
    assert col.predict(X).shape == (len(X),)
    assert col.loss_curve_ == flat.loss_curve_


def test_dataframe_sets_feature_names_as_sklearn():
    pd = pytest.importorskip("pandas")
    X, y = DATA["multiclass"]
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = pd.Series(np.array(["a", "b", "c"])[y], name="target")
    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0), df, labels)
    assert_array_equal(est.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_array = est.predict(X)
    assert_array_equal(est.predict(df), from_array)
    sk = _fit(sknn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0), df,
              labels)
    renamed = df.rename(columns={"f0": "z"})
    assert _outcome(lambda: est.predict(renamed)) == _outcome(lambda: sk.predict(renamed))


LAYOUTS = {
    "float32": lambda X: X.astype(np.float32),
    "fortran": np.asfortranarray,
    "strided": lambda X: np.repeat(X, 2, axis=1)[:, ::2],
    "csr": sp.csr_matrix,
    "csc": sp.csc_matrix,
    "list": lambda X: X.tolist(),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_input_layouts_and_dtypes_fit_identically(layout):
    """float32 or float64, C or F order, strided, sparse or nested lists: the network runs
    on the same float32 numbers, so the fit is bit-identical to C-ordered float64's."""
    X, y = DATA["multiclass"]
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    base = _fit(MLPClassifier(**params), X, y)
    Xl = LAYOUTS[layout](X)
    if layout == "strided":
        assert not Xl.flags.c_contiguous and not Xl.flags.f_contiguous
    other = _fit(MLPClassifier(**params), Xl, y)
    assert other.loss_curve_ == base.loss_curve_
    _assert_same_weights(other, base)
    proba = other.predict_proba(Xl)  # float32 for float32 X, as scikit-learn's
    assert_array_equal(proba, base.predict_proba(X).astype(proba.dtype))
    assert_array_equal(base.predict_proba(Xl), base.predict_proba(X))


SPARSE_PATH_CASES = {
    "adam-multiclass": ("multiclass", {}),
    "sgd-dropout-two-layers": ("multiclass", dict(solver="sgd", dropout=0.2,
                                                  hidden_layer_sizes=(16, 8))),
    "lbfgs-multilabel": ("multilabel", dict(solver="lbfgs")),
    "adam-no-hidden-layer-regression": ("multioutput", dict(hidden_layer_sizes=())),
    "adam-poisson": ("poisson", {}),
}


@pytest.mark.parametrize("case", list(SPARSE_PATH_CASES))
def test_wide_sparse_input_runs_a_sparse_first_layer_never_densified(case, monkeypatch):
    """Sparse X too wide to densify a batch of (a HashingVectorizer's 2**20 columns:
    800 MiB for 200 rows) runs its first layer as scipy's sparse product in fit (every
    solver) and predict. Forced here with a zero budget: toarray() must never run, and
    the fit follows the densified one to float32 rounding."""
    from fastnn.sklearn import _sparse

    kind, params = SPARSE_PATH_CASES[case]
    X, y = DATA[kind]
    params = {"hidden_layer_sizes": (12,), "max_iter": 4, "random_state": 0, **params}
    dense = _fit(_est("fastnn", kind, **params), X, y)
    expected = dense.predict_proba(X) if kind in CLASSIFICATION else dense.predict(X)
    monkeypatch.setattr(_sparse, "DENSE_BUDGET", 0)

    def refuse(*_):
        raise AssertionError("a wide sparse X was densified")

    for fmt in (sp.csr_matrix, sp.csc_matrix):
        Xs = fmt(X)
        monkeypatch.setattr(type(Xs), "toarray", refuse)
        ours = _fit(_est("fastnn", kind, **params), Xs, y)
        if "loss_curve_" in vars(ours):
            assert_allclose(ours.loss_curve_, dense.loss_curve_, rtol=1e-5)
        assert_allclose(ours.loss_, dense.loss_, rtol=1e-4)
        got = ours.predict_proba(Xs) if kind in CLASSIFICATION else ours.predict(Xs)
        assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        for a, b in _pairs(dense, ours):
            assert_allclose(b, a, atol=1e-5)


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("predict_dtype", [np.float32, np.float64])
def test_output_dtypes_are_sklearns(fit_dtype, predict_dtype):
    """float32 out only for float32 X on a model first fitted on float32 X, as scikit-learn
    (whose weights take the first fit's dtype)."""
    outputs = []
    for lib in (sknn, fsk):
        clf = _fit(lib.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2),
                   _X_CLS.astype(fit_dtype), _Y_CLS)
        reg = _fit(lib.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2),
                   _X_REG.astype(fit_dtype), _Y_REG)
        outputs.append([clf.predict_proba(_X_CLS.astype(predict_dtype)).dtype,
                        clf.predict_log_proba(_X_CLS.astype(predict_dtype)).dtype,
                        reg.predict(_X_REG.astype(predict_dtype)).dtype])
    assert outputs[1] == outputs[0]


# -- fastnn's own: threads and dropout --------------------------------------------------------


def test_n_threads_is_used_restored_and_bit_identical(monkeypatch):
    """fastnn trains and predicts at ``n_threads`` threads, restores the caller's count, and
    its results do not depend on the thread count."""
    from fastnn.sklearn import _network, _stochastic

    seen = []
    make_step, decision = _stochastic.make_step, _network.decision

    def spy_step(*args):
        step = make_step(*args)

        def counted(x, y, w):
            seen.append(fn.get_num_threads())
            return step(x, y, w)

        return counted

    def spy_decision(*args):
        seen.append(fn.get_num_threads())
        return decision(*args)

    monkeypatch.setattr(_stochastic, "make_step", spy_step)
    monkeypatch.setattr(_network, "decision", spy_decision)
    X, y = DATA["multiclass"]
    before = fn.get_num_threads()
    fn.set_num_threads(3)
    try:
        fits = {}
        for n in (1, 2):
            fits[n] = _fit(MLPClassifier(hidden_layer_sizes=(32,), max_iter=3, n_threads=n,
                                         random_state=0), X, y)
            assert set(seen) == {n} and fn.get_num_threads() == 3
            fits[n].predict(X)
            assert set(seen) == {n} and fn.get_num_threads() == 3
            seen.clear()
        _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0), X, y)
        assert set(seen) == {3}  # n_threads=None: the caller's count
    finally:
        fn.set_num_threads(before)
    _assert_same_weights(fits[1], fits[2])
    assert fits[1].loss_curve_ == fits[2].loss_curve_
    many = np.tile(X, (20, 1))  # predicted at 1 and at 2 threads
    assert_array_equal(fits[1].predict_proba(many), fits[2].predict_proba(many))
    assert_array_equal(fits[1].predict_proba(many[:7]), fits[2].predict_proba(X[:7]))


def test_n_threads_is_restored_when_fit_fails(monkeypatch):
    from fastnn.sklearn import _stochastic

    def failing(*args):
        def step(x, y, w):
            raise RuntimeError("boom")
        return step

    monkeypatch.setattr(_stochastic, "make_step", failing)
    before = fn.get_num_threads()
    fn.set_num_threads(3)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            MLPClassifier(n_threads=1).fit(*DATA["binary"])
        assert fn.get_num_threads() == 3
    finally:
        fn.set_num_threads(before)


@pytest.mark.parametrize("kind", ["multiclass-450", "poisson"])
def test_dropout_fits_do_not_depend_on_the_thread_count(kind):
    """Dropout masks too (the fused step, and the eager loop of the Poisson loss)."""
    X, y = DATA[kind]
    fits = [_fit(_est("fastnn", kind, hidden_layer_sizes=(64, 32), dropout=0.3, max_iter=2,
                      random_state=0, n_threads=n), X, y) for n in (1, 2)]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    _assert_same_weights(*fits)


def test_concurrent_dropout_fits_are_each_reproducible(monkeypatch):
    """Two estimators fitting at the same time in two threads (as under joblib's threading
    backend) each give what they give alone: the masks come from each one's random_state."""
    from fastnn.sklearn import _stochastic

    X, y = DATA["multiclass"]
    params = dict(hidden_layer_sizes=(16,), dropout=0.3, max_iter=2, batch_size=50)
    alone = [_fit(MLPClassifier(random_state=seed, **params), X, y) for seed in (0, 1)]
    # the first step of each fit waits (5 s at most: fits may be serialised) for the other
    make_step, both_training, local = _stochastic.make_step, threading.Barrier(2, timeout=5), \
        threading.local()

    def synchronised(*args):
        step = make_step(*args)

        def call(x, y, w):
            if not getattr(local, "met", False):
                local.met = True
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_training.wait()
            return step(x, y, w)

        return call

    monkeypatch.setattr(_stochastic, "make_step", synchronised)
    with warnings.catch_warnings(), ThreadPoolExecutor(2) as pool:
        warnings.simplefilter("ignore", ConvergenceWarning)  # once: filters are global
        together = [f.result() for f in
                    [pool.submit(MLPClassifier(random_state=seed, **params).fit, X, y)
                     for seed in (0, 1)]]
    for a, b in zip(together, alone):
        assert a.loss_curve_ == b.loss_curve_
        _assert_same_weights(a, b)


def test_dropout_is_reproducible_from_random_state():
    X, y = DATA["multiclass"]
    params = dict(hidden_layer_sizes=(32, 16), max_iter=3, random_state=0)
    fn.manual_seed(1)
    a = _fit(MLPClassifier(dropout=0.3, **params), X, y)
    fn.manual_seed(2)  # the global seed plays no part
    b = _fit(MLPClassifier(dropout=0.3, **params), X, y)
    _assert_same_weights(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert sum(isinstance(m, nn.Dropout) for m in a.model_) == 2
    plain = _fit(MLPClassifier(**params), X, y)
    assert not any(isinstance(m, nn.Dropout) for m in plain.model_)
    assert a.loss_curve_[0] != plain.loss_curve_[0]  # the masks act while training
    assert_array_equal(a.predict_proba(X), a.predict_proba(X))  # and not while predicting


def test_dropout_masks_go_on_across_partial_fit_and_warm_start_calls():
    """Each call drew its dropout seed from a fresh random_state: every call after the
    first had the same masks, so with one sample per call a fixed subset of the hidden
    units never trained (5 of 16 moved in 50 calls)."""
    X = np.random.RandomState(0).randn(1, 4)
    params = dict(hidden_layer_sizes=(16,), activation="tanh", dropout=0.5, solver="sgd",
                  momentum=0.0, alpha=0.0, random_state=0)
    est = MLPRegressor(**params).partial_fit(X, [1.0])
    start = est.coefs_[0].copy()
    for _ in range(50):
        est.partial_fit(X, [1.0])
    assert np.all(np.any(est.coefs_[0] != start, axis=0))  # every hidden unit trained
    warm = MLPRegressor(**params, warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, [1.0])
        start = warm.coefs_[0].copy()
        for _ in range(50):
            warm.fit(X, [1.0])
    assert np.all(np.any(warm.coefs_[0] != start, axis=0))
    # still reproducible: the same calls from the same random_state, the same weights
    again = MLPRegressor(**params).partial_fit(X, [1.0])
    for _ in range(50):
        again.partial_fit(X, [1.0])
    assert_array_equal(again.coefs_[0], est.coefs_[0])
    # and a pickled estimator continues the same stream
    twin = pickle.loads(pickle.dumps(again))
    assert_array_equal(twin.partial_fit(X, [1.0]).coefs_[0], again.partial_fit(X, [1.0]).coefs_[0])


def test_string_regression_targets_and_an_empty_validation_fraction_are_named():
    X = np.random.RandomState(0).rand(40, 3)
    for y in (np.array(["1.5"] * 40), ["1.5"] * 40):  # "1.5" trained as 1.5 silently
        with pytest.raises(TypeError, match="y must be numeric, got strings"):
            MLPRegressor(max_iter=5).fit(X, y)
    # scikit-learn's message names train_test_split's test_size
    with pytest.raises(ValueError, match="'validation_fraction' must be in \\(0, 1\\) with "
                       "early_stopping=True"):
        MLPClassifier(early_stopping=True, validation_fraction=0.0).fit(X, np.arange(40) % 2)


@pytest.mark.parametrize("dropout", [0.3, 0.0])
def test_fit_leaves_fastnns_global_random_stream_alone(dropout):
    """``random_state`` drives everything random in a fit, so the draws after
    ``fn.manual_seed`` are the same with or without a fit in between."""
    X, y = DATA["multiclass"]
    fn.manual_seed(0)
    expected = fn.rand(8).numpy()
    fn.manual_seed(0)
    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, dropout=dropout,
                             random_state=0), X, y)
    est.predict(X)
    assert_array_equal(fn.rand(8).numpy(), expected)


# -- in scikit-learn's tools ------------------------------------------------------------------


def test_pipeline_in_grid_search_with_string_labels():
    iris = load_iris()
    X, y = iris.data, iris.target_names[iris.target]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=50, learning_rate_init=0.02,
                                           random_state=0))])
    grid = {"mlp__hidden_layer_sizes": [(8,), (16,)], "mlp__alpha": [1e-4, 1e-1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
        scores = cross_val_score(search.best_estimator_, X, y, cv=2)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["mlp"]
    assert isinstance(best, MLPClassifier)
    assert_array_equal(best.classes_, sorted(iris.target_names))
    assert set(search.predict(X)) <= set(iris.target_names)
    assert search.best_score_ > 0.7 and scores.mean() > 0.7


# -- accuracy on real data --------------------------------------------------------------------


def test_digits_accuracy_within_a_point_of_sklearn():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3,
                                                        random_state=0, stratify=y)
    acc = {lib: np.mean([_fit(_est(lib, "multiclass", hidden_layer_sizes=(64,), max_iter=30,
                                   random_state=seed), X_train, y_train).score(X_test, y_test)
                         for seed in range(3)])
           for lib in ("sklearn", "fastnn")}
    assert acc["sklearn"] > 0.9
    assert abs(acc["fastnn"] - acc["sklearn"]) <= 0.01


def test_friedman_r2_within_002_of_sklearn():
    X, y = make_friedman1(n_samples=600, noise=0.5, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    mean, std = y_train.mean(), y_train.std()
    y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    r2 = {lib: np.mean([_fit(_est(lib, "regression", hidden_layer_sizes=(64,), max_iter=100,
                                  learning_rate_init=0.01, random_state=seed),
                             X_train, y_train).score(X_test, y_test) for seed in range(3)])
          for lib in ("sklearn", "fastnn")}
    assert r2["sklearn"] > 0.8
    assert abs(r2["fastnn"] - r2["sklearn"]) <= 0.02


# -- the optional dependency ------------------------------------------------------------------


def test_import_without_sklearn_names_the_extra():
    """With scikit-learn hidden, ``import fastnn`` works and ``import fastnn.sklearn`` raises
    an ImportError naming ``pip install 'fastnn[sklearn]'``."""
    code = ("import sys\n"
            "sys.modules['sklearn'] = None  # import sklearn -> ImportError\n"
            "import fastnn\n"
            "try:\n"
            "    import fastnn.sklearn\n"
            "except ImportError as e:\n"
            "    print('ImportError:', e)\n"
            "print('sklearn' in sys.modules and sys.modules['sklearn'] is not None)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("ImportError: fastnn.sklearn needs the scikit-learn package")
    assert "pip install 'fastnn[sklearn]'" in lines[0]
    assert lines[1] == "False"



@pytest.mark.parametrize("sparse", [False, True])
def test_values_beyond_float32_range_raise_a_clear_error(sparse):
    """fastnn computes in float32: a float64 feature above its range would become inf."""
    X, y = DATA["binary"]
    X = np.array(X, dtype=np.float64)
    X[3, 1] = 1e39
    with pytest.raises(ValueError, match="beyond float32's range.*1e\\+39"):
        MLPClassifier(max_iter=2).fit(sp.csr_matrix(X) if sparse else X, y)
    est = _fit(MLPClassifier(max_iter=2, random_state=0), np.clip(X, -10, 10), y)
    with pytest.raises(ValueError, match="beyond float32's range"):
        est.predict(sp.csr_matrix(X) if sparse else X)


def test_regression_targets_beyond_float32_range_raise_a_clear_error():
    X, y = DATA["regression"]
    with pytest.raises(ValueError, match="y has values beyond float32.s range.*e\\+40"):
        MLPRegressor(max_iter=2).fit(X, y * 1e40)


@pytest.mark.parametrize("scale", [1e15, 1e18])
def test_adam_overflow_raises_instead_of_silently_not_learning(scale):
    """Features of 1e15 give squared gradients beyond float32: Adam's second moment becomes
    inf and its updates 0, so the loss curve went flat with no word (scikit-learn, in
    float64, trains on). The fit now says why and what to do; 1e10 still trains."""
    X = np.random.RandomState(0).randn(60, 4)
    with pytest.raises(ValueError, match="Adam's squared gradient overflowed.*scale X and y"):
        _fit(MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0),
             X * scale, X[:, 0])
    curve = _fit(MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0),
                 X * 1e10, X[:, 0]).loss_curve_
    assert curve[-1] < 0.99 * curve[0]


# -- sample_weight ----------------------------------------------------------------------------


def _sample_weights(n: int) -> np.ndarray:
    """Positive weights of several scales, with some zeros."""
    w = np.random.RandomState(3).rand(n) * 3.0
    w[::7] = 0.0
    return w


SAMPLE_WEIGHT_CASES = [(kind, solver, False) for kind in (
    "binary", "multiclass", "multilabel", "regression", "multioutput", "poisson")
    for solver in ("adam", "sgd", "lbfgs")] + [
    ("binary", "adam", True), ("regression", "sgd", True), ("poisson", "adam", True)]


@pytest.mark.parametrize(("kind", "solver", "early_stopping"), SAMPLE_WEIGHT_CASES)
def test_sample_weight_training_matches_sklearn(kind, solver, early_stopping):
    """fit(X, y, sample_weight=w): scikit-learn's weighted loss (its batch objective, L2
    term over sum(w) included) and weighted validation scores, step for step."""
    X, y = DATA[kind]
    w = _sample_weights(len(X))
    params = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=1, solver=solver,
                  alpha=0.3, batch_size=40, early_stopping=early_stopping,
                  learning_rate_init=0.01 if kind in ("regression", "poisson") else 0.05)
    sk, ours = (_fit(_est(lib, kind, **params), X, y, sample_weight=w)
                for lib in ("sklearn", "fastnn"))
    if solver == "lbfgs":
        assert_allclose(ours.loss_, sk.loss_, rtol=1e-5)
    else:
        assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-5)
    if early_stopping:
        assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-5, atol=1e-6)
    for a, b in _pairs(sk, ours):
        assert_allclose(b, a, atol=2e-4)
    if kind in CLASSIFICATION:
        assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-4)
    else:
        assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_partial_fit_with_sample_weight_matches_sklearn(kind):
    X, y = DATA[kind]
    w = _sample_weights(len(X))
    fitted = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, kind, hidden_layer_sizes=(16,), random_state=1, batch_size=50)
        for _ in range(3):
            if kind in CLASSIFICATION:
                est.partial_fit(X, y, classes=np.unique(y), sample_weight=w)
            else:
                est.partial_fit(X, y, sample_weight=w)
        fitted.append(est)
    assert_allclose(fitted[1].loss_curve_, fitted[0].loss_curve_, rtol=1e-5)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_unit_sample_weights_train_as_none(solver):
    """Weights of 1 are no weights: the same fit, bit for bit; weights of 2 differ only
    in the L2 term (over their sum), so without it they train as none to rounding."""
    X, y = DATA["multiclass"]
    params = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=1, solver=solver)
    plain = _fit(MLPClassifier(**params), X, y)
    ones = _fit(MLPClassifier(**params), X, y, sample_weight=np.ones(len(X)))
    assert ones.loss_ == plain.loss_
    _assert_same_weights(plain, ones)
    plain = _fit(MLPClassifier(**params, alpha=0.0), X, y)
    twos = _fit(MLPClassifier(**params, alpha=0.0), X, y, sample_weight=np.full(len(X), 2.0))
    assert_allclose(twos.loss_, plain.loss_, rtol=1e-5)
    for a, b in _pairs(plain, twos):
        assert_allclose(b, a, atol=1e-5)


def test_a_batch_of_zero_weights_is_skipped():
    """The first batch weighs nothing (scikit-learn: ZeroDivisionError): training is the
    second half's alone, and the epoch's loss counts the skipped batch as 0."""
    X, y = DATA["multiclass"]
    half = len(X) // 2
    w = np.r_[np.zeros(half), np.ones(len(X) - half)]
    params = dict(hidden_layer_sizes=(16,), max_iter=4, random_state=1, shuffle=False,
                  batch_size=half)
    weighted = _fit(MLPClassifier(**params), X, y, sample_weight=w)
    second = _fit(MLPClassifier(**params), X[half:], y[half:])
    assert_allclose(np.array(weighted.loss_curve_) * 2, second.loss_curve_, rtol=1e-5)
    for a, b in _pairs(second, weighted):
        assert_allclose(b, a, atol=1e-6)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_sample_weights_and_fit_params_are_named(cls):
    X, y = DATA["binary"]
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(5,\), expected \(200,\)"):
        cls(max_iter=2).fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="at least one non-zero"):
        cls(max_iter=2).fit(X, y, sample_weight=np.zeros(len(X)))
    with pytest.raises(ValueError, match="Negative values"):
        cls(max_iter=2).fit(X, y, sample_weight=-np.ones(len(X)))
    with pytest.raises(TypeError, match=rf"{cls.__name__}.fit\(\) got an unexpected keyword "
                                        r"argument 'weights'"):
        cls(max_iter=2).fit(X, y, weights=np.ones(len(X)))
    est = cls(max_iter=2)
    with pytest.raises(TypeError, match="partial_fit.*'sample_weights'"):
        est.partial_fit(X, y, sample_weights=np.ones(len(X)))
    assert not hasattr(est, "classes_")  # a refused call leaves no trace


def test_sample_weight_through_pipeline_and_grid_search():
    X, y = DATA["multiclass"]
    w = _sample_weights(len(X))
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(16,), max_iter=5,
                                           random_state=1))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y, mlp__sample_weight=w)
        direct = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=1).fit(
            StandardScaler().fit_transform(X), y, sample_weight=w)
        search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-2]}, cv=2).fit(
            X, y, mlp__sample_weight=w)
    assert_allclose(pipe[-1].loss_curve_, direct.loss_curve_, rtol=1e-6)
    refit = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=1,
                          alpha=search.best_params_["mlp__alpha"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refit.fit(StandardScaler().fit_transform(X), y, sample_weight=w)
    assert_allclose(search.best_estimator_[-1].loss_curve_, refit.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sample_weight_on_wide_sparse_input_matches_the_dense_fit(solver, monkeypatch):
    """The sparse first layer's step and L-BFGS objective take the weights too."""
    from fastnn.sklearn import _sparse

    X, y = DATA["multiclass"]
    w = _sample_weights(len(X))
    params = dict(hidden_layer_sizes=(12,), max_iter=4, random_state=0, solver=solver)
    dense = _fit(MLPClassifier(**params), X, y, sample_weight=w)
    monkeypatch.setattr(_sparse, "DENSE_BUDGET", 0)
    wide = _fit(MLPClassifier(**params), sp.csr_matrix(X), y, sample_weight=w)
    assert_allclose(wide.loss_, dense.loss_, rtol=1e-5)
    for a, b in _pairs(dense, wide):
        assert_allclose(b, a, atol=1e-5)


def test_weighted_and_unweighted_partial_fit_calls_mix_like_sklearn():
    X, y = DATA["multiclass"]
    w = _sample_weights(len(X))
    fitted = []
    for lib in ("sklearn", "fastnn"):
        est = _est(lib, "multiclass", hidden_layer_sizes=(16,), random_state=1, batch_size=50)
        est.partial_fit(X, y, classes=np.unique(y))
        est.partial_fit(X, y, sample_weight=w)
        est.partial_fit(X, y)
        fitted.append(est)
    assert_allclose(fitted[1].loss_curve_, fitted[0].loss_curve_, rtol=1e-5)


def test_weighted_dropout_fits_do_not_depend_on_the_thread_count():
    X, y = DATA["multiclass"]
    w = _sample_weights(len(X))
    fits = [_fit(MLPClassifier(hidden_layer_sizes=(16,), max_iter=4, random_state=1,
                               dropout=0.3, n_threads=n), X, y, sample_weight=w)
            for n in (1, 2)]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    _assert_same_weights(*fits)


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_partial_fit_takes_sklearn_19s_arguments_in_its_order(name):
    """partial_fit(X, y, sample_weight=None, classes=None) as scikit-learn 1.9: a weight
    mask passed third is a weight (it was read as classes and training ignored it)."""
    ours, theirs = getattr(fsk, name), getattr(sknn, name)
    assert list(inspect.signature(ours.partial_fit).parameters) == \
        list(inspect.signature(theirs.partial_fit).parameters)
    X, y = DATA["binary"]
    mask = (np.arange(len(X)) % 3 > 0).astype(float)
    fitted = []
    for cls in (ours, theirs):
        est = cls(hidden_layer_sizes=(8,), random_state=0)
        if name == "MLPClassifier":
            est.partial_fit(X, y, classes=[0, 1])
        else:
            est.partial_fit(X, y)
        est.partial_fit(X, y, mask)
        fitted.append(est)
    assert_allclose(fitted[0].loss_curve_, fitted[1].loss_curve_, rtol=1e-5)


def test_multilabel_partial_fit_takes_the_classes_given():
    # classes= was ignored for multi-label targets (classes_ came from y's columns), so
    # labels outside it passed silently; scikit-learn keeps the classes given and refuses y
    # with other ones
    X, Y = DATA["multilabel"]
    for lib in ("sklearn", "fastnn"):
        with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
            _est(lib, "multilabel").partial_fit(X, Y, classes=[5, 6, 7])
        est = _est(lib, "multilabel").partial_fit(X, Y, classes=list(range(Y.shape[1] + 1)))
        assert_array_equal(est.classes_, np.arange(Y.shape[1] + 1))
        assert est.predict(X[:3]).shape == (3, Y.shape[1])


@pytest.mark.parametrize("cls_name", ["MLPClassifier", "MLPRegressor"])
def test_parameters_are_checked_by_scikit_learns_constraints(cls_name):
    # fastnn's own checks had their own messages, refused values scikit-learn takes
    # (alpha=True) and no _parameter_constraints for scikit-learn's check_param_validation
    from sklearn.utils.estimator_checks import check_param_validation

    X, y = DATA["binary"]
    for param, value in [("alpha", -1), ("solver", "newton"), ("batch_size", 0),
                         ("n_iter_no_change", 0), ("hidden_layer_sizes", (4, 0))]:
        messages = []
        for lib in (sknn, fsk):
            with pytest.raises(ValueError) as info:
                _fit(getattr(lib, cls_name)(**{param: value}, max_iter=2), X, y)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
    _fit(getattr(fsk, cls_name)(alpha=True, max_iter=True, hidden_layer_sizes=(4,)), X, y)
    check_param_validation(cls_name, getattr(fsk, cls_name)())


def test_lbfgs_convergence_warning_and_loss_attribute_are_scikit_learns():
    X, y = DATA["multiclass"]
    messages = []
    for lib in (sknn, fsk):
        with pytest.warns(ConvergenceWarning) as record:
            lib.MLPClassifier(solver="lbfgs", max_iter=2, random_state=0).fit(X, y)
        messages.append(str(record[0].message))
        assert lib.MLPClassifier().loss == "log_loss"
    assert messages[1] == messages[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("classes, weighted", [(2, False), (3, False), (3, True)])
def test_loss_curve_clips_probabilities_as_scikit_learn(dtype, classes, weighted):
    """scikit-learn's log-loss clips each probability to [eps, 1 - eps] (eps of the input's
    dtype), capping a sample's term at -log(eps): on unscaled inputs the first epochs'
    losses (and so the tol rule reading them) are the clipped ones, not the exact ones."""
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_classes=classes, random_state=0)
    X = (X * 40).astype(dtype)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    kw = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0, learning_rate_init=0.05)
    curves = []
    for cls in (sknn.MLPClassifier, fsk.MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            curves.append(cls(**kw).fit(X, y, sample_weight=sw).loss_curve_)
    assert max(curves[0]) > 5  # some terms capped
    # float32: scikit-learn rounds probabilities near 1 in float32 before the clip
    assert_allclose(curves[1], curves[0], rtol=2e-4 if dtype == np.float64 else 2e-3)


@pytest.mark.parametrize("first, change", [
    (dict(solver="sgd", learning_rate_init=0.1), dict(learning_rate="invscaling")),
    (dict(solver="sgd", learning_rate_init=0.1, learning_rate="invscaling"), dict(power_t=0.1)),
    (dict(learning_rate_init=0.01), dict(epsilon=1.0, beta_2=0.5)),
])
def test_partial_fit_keeps_the_settings_its_optimizer_was_built_with(first, change):
    """scikit-learn builds its optimizer at the first partial_fit and keeps learning_rate,
    power_t, epsilon and beta_2 from then on: set_params between calls changes nothing."""
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)
    X = X.astype(np.float32)
    curves = []
    for cls in (sknn.MLPClassifier, fsk.MLPClassifier):
        est = cls(hidden_layer_sizes=(5,), random_state=0, **first)
        est.partial_fit(X, y, classes=[0, 1, 2])
        est.partial_fit(X, y)
        est.set_params(**change)
        for _ in range(4):
            est.partial_fit(X, y)
        curves.append(est.loss_curve_)
    assert_allclose(curves[1], curves[0], rtol=1e-4)
