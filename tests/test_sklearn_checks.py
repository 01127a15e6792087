"""scikit-learn's own estimator checks on fastnn.sklearn's estimators, all of them, no
expected failures (skipped as a whole when scikit-learn is missing)."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn.sklearn import MLPClassifier, MLPRegressor

# max_iter=100 is short on purpose (as in scikit-learn's own suite): the warning is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# The defaults with max_iter=100, as scikit-learn's own suite configures its MLPs, and the
# other training paths: SGD with a schedule, dropout with two layers, L-BFGS. (early_stopping=True
# cannot pass checks such as partial_fit or fitting a single sample, in scikit-learn's
# MLPs either: tests/test_sklearn.py covers it.)
CONFIGS = [dict(max_iter=100),
           dict(solver="sgd", learning_rate="adaptive", activation="tanh", max_iter=100),
           dict(dropout=0.1, hidden_layer_sizes=(32, 16), max_iter=100),
           dict(solver="lbfgs", max_iter=100)]
ESTIMATORS = [cls(random_state=0, **config)
              for config in CONFIGS for cls in (MLPClassifier, MLPRegressor)]
# loss="poisson" refuses negative targets and says so in its tags (positive_only), so the
# checks draw non-negative ones; L-BFGS, as the default solver's check_regressors_train
# fails at max_iter=100 in scikit-learn's MLPRegressor(loss="poisson") too
ESTIMATORS.append(MLPRegressor(loss="poisson", solver="lbfgs", max_iter=100, random_state=0))


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
