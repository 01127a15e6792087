"""``fastnn.sklearn.MLPClassifier``: scikit-learn's MLPClassifier on fastnn's kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import neural_network as sk_neural_network
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import Tags, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import BaseMLP, sample_weight_of, store_params
from ._params import check_params, parameter_constraints

_DOC_PARAMS = """
    Args:
        hidden_layer_sizes (int or sequence of int): the widths of the hidden layers.
            Default: ``(100,)``.
        activation (str): the hidden layers' activation, ``"identity"``, ``"logistic"``,
            ``"tanh"`` or ``"relu"``. Default: ``"relu"``.
        solver (str): ``"adam"``, ``"sgd"`` or ``"lbfgs"`` (SciPy's L-BFGS-B on the
            full-batch objective, for small data sets). Default: ``"adam"``.
        alpha (float): strength of the L2 penalty ``alpha / (2 n) * sum ||W||^2`` on the
            weights (not the biases), ``n`` the batch size. Default: ``1e-4``.
        batch_size (int or "auto"): minibatch size; ``"auto"`` is ``min(200, n_samples)``.
        learning_rate (str): the "sgd" schedule: ``"constant"``, ``"invscaling"``
            (``learning_rate_init / (t + 1) ** power_t`` after each epoch, ``t`` the samples
            seen) or ``"adaptive"`` (divided by 5 whenever ``n_iter_no_change`` epochs do
            not improve by ``tol``). Default: ``"constant"``.
        learning_rate_init (float): the initial step size. Default: ``1e-3``.
        power_t (float): the exponent of "invscaling". Default: ``0.5``.
        max_iter (int): the most epochs per ``fit``. Default: ``200``.
        shuffle (bool): shuffle the samples every epoch. Default: ``True``.
        random_state (None, int or RandomState): initial weights, shuffling, the
            validation split and dropout masks. Default: ``None``.
        tol (float): the least improvement of the loss (or validation score) that counts.
            Default: ``1e-4``.
        verbose (bool): print scikit-learn's per-epoch loss lines. Default: ``False``.
        warm_start (bool): ``fit`` continues from the fitted weights. Default: ``False``.
        momentum (float): "sgd" momentum in ``[0, 1]``. Default: ``0.9``.
        nesterovs_momentum (bool): Nesterov momentum for "sgd". Default: ``True``.
        early_stopping (bool): hold out ``validation_fraction`` of the data (stratified for
            binary targets, as scikit-learn), stop when its score stops improving and keep
            the best epoch's weights. Default: ``False``.
        validation_fraction (float): the held-out share with early stopping. Default: ``0.1``.
        beta_1 (float): Adam's first-moment decay. Default: ``0.9``.
        beta_2 (float): Adam's second-moment decay. Default: ``0.999``.
        epsilon (float): Adam's epsilon. Default: ``1e-8``.
        n_iter_no_change (int): epochs without a ``tol`` improvement before stopping.
            Default: ``10``.
        max_fun (int): the most loss evaluations of "lbfgs". Default: ``15000``.
        dropout (float): fastnn's own: the dropout probability after every hidden layer
            while training. Default: ``0.0``.
        n_threads (int or None): fastnn's own: the OpenMP threads of the kernels during
            ``fit`` and prediction, for the calling thread only (the process-wide
            :func:`fastnn.set_num_threads` count is unchanged, and estimators in
            concurrent threads run in parallel); ``None`` keeps
            :func:`fastnn.get_num_threads`. Default: ``None``.
"""

_DOC_DIFFERENCES = """
    Differences from scikit-learn's, all on purpose:
        - The arithmetic is float32 (scikit-learn's follows ``X``, usually float64), run
          by fastnn's fused training step; ``coefs_`` and ``intercepts_`` are float32 views
          of ``model_``'s weights.
        - The initial weights are scikit-learn's Glorot-uniform draws from
          ``random_state`` (the same numbers, rounded to float32), the batches are the
          same, and Adam's and SGD's updates are scikit-learn's (epsilon and momentum
          across learning-rate changes included), so the loss curves agree to float32
          rounding at first. With ``dropout > 0`` the masks are drawn from a generator
          seeded from ``random_state`` at the first fit, whose stream ``partial_fit`` and
          ``warm_start`` calls continue (and pickling keeps); fastnn's global generator
          is never touched.
        - The validation split of ``early_stopping`` is scikit-learn's (stratified for
          binary targets only, as scikit-learn 1.9 does), so the same ``random_state``
          holds out the same samples.
        - ``sample_weight`` is a keyword of ``fit(X, y, **fit_params)``, not a named
          parameter (``partial_fit`` names it, as scikit-learn's): scikit-learn's
          estimator checks run a check on every estimator whose ``fit`` names it that
          asks a fit with integer weights to equal one on repeated samples to 1e-7,
          which float32 training cannot give (1e-7 to 1e-4 apart). So meta-estimators
          that look for it in ``fit`` (``AdaBoost``, metadata routing) do not see it;
          ``Pipeline`` and ``GridSearchCV`` pass it on.
          Weighted batches train on the autograd loop, not the fused step. Negative
          weights raise a ValueError (scikit-learn takes them, and a negative sum flips
          its L2 term), and a batch whose weights are all 0 is skipped (scikit-learn
          divides by their sum).
"""


def _check_solver(est: Any) -> bool:
    if est.solver not in ("adam", "sgd"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                             f"{est.solver} is not stochastic.")
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = r"""Multi-layer perceptron classifier: scikit-learn's, trained by fastnn.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier` (same parameters,
    defaults, methods, fitted attributes and training rules) that fits several times
    faster. The output is a softmax for multi-class targets and a logistic unit per
    output for binary and multi-label targets; the loss is the log-loss plus the
    L2 penalty.
""" + _DOC_PARAMS + """
    Attributes:
        classes_ (ndarray or list of ndarray): the class labels.
        loss_ (float): the last epoch's mean training loss (with the L2 term).
        best_loss_ (float or None): the least ``loss_`` seen (``None`` with early stopping).
        loss_curve_ (list of float): ``loss_`` after each epoch.
        validation_scores_ (list of float or None): the validation accuracy after each
            epoch, with early stopping.
        best_validation_score_ (float or None): the best of them.
        n_iter_ (int): epochs run by the last ``fit``.
        t_ (int): training samples seen, over all fits.
        coefs_ (list of ndarray): ``coefs_[i]`` of shape ``(fan_in, fan_out)``.
        intercepts_ (list of ndarray): ``intercepts_[i]`` of shape ``(fan_out,)``.
        n_features_in_ (int), feature_names_in_ (ndarray): seen at ``fit``.
        n_layers_ (int): layers including input and output.
        n_outputs_ (int): output units.
        out_activation_ (str): ``"softmax"`` or ``"logistic"``.
        model_ (nn.Sequential): the trained network (without the output activation).
""" + _DOC_DIFFERENCES + """
    Example::

        >>> from fastnn.sklearn import MLPClassifier
        >>> clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).sum(axis=1)
        array([1., 1.])
    """

    _parameter_constraints = parameter_constraints(sk_neural_network.MLPClassifier)
    loss = "log_loss"  # scikit-learn's attribute (not a parameter): the loss it minimises

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001,
                 batch_size: int | str = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200,
                 shuffle: bool = True, random_state: Any = None, tol: float = 1e-4,
                 verbose: bool | int = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, max_fun: int = 15000,
                 dropout: float = 0.0, n_threads: int | None = None) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, **fit_params: Any) -> MLPClassifier:
        """Fits the network to ``X`` of shape ``(n_samples, n_features)`` (dense or scipy
        sparse, or a DataFrame) and labels ``y`` of shape ``(n_samples,)`` (any hashable
        labels) or a ``(n_samples, n_labels)`` indicator matrix (multi-label).

        Args:
            **fit_params: ``sample_weight`` (array-like of shape ``(n_samples,)``,
                optional), each sample's weight in the loss, as scikit-learn's: a batch's
                loss is the weighted mean of its samples' plus ``alpha / (2 sum(w))
                ||W||^2``, and the validation score of ``early_stopping`` is weighted.

        Returns:
            MLPClassifier: ``self``.
        """
        sample_weight = sample_weight_of(self, fit_params)
        return self._fit(X, y, False, sample_weight)

    @available_if(_check_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None,
                    classes: Any = None) -> MLPClassifier:
        """One epoch over ``X`` and ``y``, continuing from the current weights and optimizer.

        The arguments are scikit-learn 1.9's, in its order (``classes`` comes after
        ``sample_weight``: pass it by name).

        Args:
            sample_weight (array-like of shape ``(n_samples,)``, optional): each sample's
                weight in the loss, as in :meth:`fit`.
            classes (array-like): every class of the whole problem; needed on the first
                call, optional later (then it must not change).
        """
        check_params(self)  # before classes_ is set: a refused call leaves no trace
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel")
                                      else classes)
            # scikit-learn's: the classes given, also for multi-label y (whose columns must
            # then be among them: checked with the other calls' labels in _validate_input)
            self.classes_ = unique_labels(classes)
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")
        return self._fit(X, y, True, sample_weight)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    def _out_activation(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self.out_activation_ == "softmax":
            return y.argmax(axis=1).astype(np.int64)
        return y.astype(np.float32)

    def _validation_split(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None,
                          rng: np.random.RandomState):
        # scikit-learn's split: stratified where its binarized y has one column (binary
        # targets; a class of one sample then raises there as here), else not (its
        # multiclass y has a column per class), so the same random_state holds out the
        # same samples
        stratify = y.astype(np.int64) if y.shape[1] == 1 else None
        arrays = (X, y) if sw is None else (X, y, sw)
        X_train, X_val, y_train, y_val, *weights = train_test_split(
            *arrays, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
        sw_train, sw_val = weights or (None, None)
        return (X_train, X_val, y_train, self._label_binarizer.inverse_transform(y_val),
                sw_train, sw_val)

    def _score_validation(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> float:
        pred = self._predict_labels(self._forward(X, check_input=False))
        return float(accuracy_score(y, pred, sample_weight=sw))

    def _predict_labels(self, out: np.ndarray) -> np.ndarray:
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted labels, shape ``(n_samples,)`` (``(n_samples, n_labels)`` indicators
        for multi-label)."""
        check_is_fitted(self)
        return self._predict_labels(self._forward(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)`` in ``classes_`` order (rows
        sum to 1 except for multi-label, where each column is one label's probability)."""
        check_is_fitted(self)
        out = self._forward(X)
        if self.n_outputs_ == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
