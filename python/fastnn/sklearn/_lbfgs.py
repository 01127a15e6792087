"""scikit-learn's "lbfgs" solver on fastnn: SciPy's L-BFGS-B over the full-batch objective.

SciPy drives the optimisation in float64; each evaluation copies the parameter vector
into the network (float32), runs one forward and backward over all samples with
fastnn's kernels (autograd, so every output loss works), and hands back
scikit-learn's objective and gradient::

    L = loss(y, out) + alpha / (2 n) * sum_l ||W_l||^2,   dL/dW = g / k + alpha W / n

where ``g`` is the gradient of fastnn's mean-reduced loss and ``k`` its scale against
scikit-learn's (``_network.Objective``). Stopping follows scikit-learn: ``maxiter =
max_iter``, ``maxfun = max_fun``, ``gtol = tol``, and scikit-learn's own
``ConvergenceWarning`` (its helper, its text) when L-BFGS-B stops for any other reason
than convergence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from ..autograd import from_numpy
from ._network import Objective, dense, linears, squared_sum, weight_views, weighted_loss
from ._sparse import SparseFirstLayer, fits_dense


class _FullBatch:
    """``(x) -> (L, dL/dx)`` for SciPy, ``x`` the weights then the biases, flattened."""

    def __init__(self, est: Any, X: Any, Y: np.ndarray, sw: np.ndarray | None,
                 obj: Objective) -> None:
        self.model, self.obj, self.alpha, self.sw = est.model_, obj, float(est.alpha), sw
        # a CSR X too large to densify runs through a sparse first layer (_sparse)
        self.sparse = None if fits_dense(X, X.shape[0]) else SparseFirstLayer(self.model)
        self.X = X if self.sparse else from_numpy(dense(X))
        self.Y = from_numpy(Y)
        self.Y_np = Y
        self.n = X.shape[0] if sw is None else float(sw.sum())  # the L2 term's divisor
        layers = linears(self.model)
        self.weights = [m.weight for m in layers]
        self.flat_weights = weight_views(self.model)
        self.params = self.weights + [m.bias for m in layers]
        self.sizes = np.cumsum([0] + [p._data.size for p in self.params])

    def pack(self) -> np.ndarray:
        return np.concatenate([p._data.ravel() for p in self.params]).astype(np.float64)

    def unpack(self, x: np.ndarray) -> None:
        for p, lo, hi in zip(self.params, self.sizes[:-1], self.sizes[1:]):
            p._data[...] = x[lo:hi].reshape(p._data.shape)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.unpack(x)
        self.model.zero_grad()
        loss_fn = self.obj.loss_fn if self.sw is None else \
            (lambda z, t: weighted_loss(self.obj, z, t, self.sw))
        if self.sparse:
            loss = self.sparse.loss_backward(self.X, loss_fn, self.Y)
        else:
            loss = loss_fn(self.model(self.X), self.Y)
            loss.backward()
        squares = squared_sum(self.flat_weights)
        value = self.obj.report(float(loss.item()), self.Y_np, self.sw) + \
            0.5 * self.alpha * squares / self.n
        grad = np.empty(self.sizes[-1], dtype=np.float64)
        for i, (p, lo, hi) in enumerate(zip(self.params, self.sizes[:-1], self.sizes[1:])):
            g = p._grad._data.ravel() / self.obj.grad_scale
            if i < len(self.weights):
                g = g + (self.alpha / self.n) * p._data.ravel()
            grad[lo:hi] = g
        return value, grad


def fit_lbfgs(est: Any, X: Any, Y: np.ndarray, sw: np.ndarray | None, obj: Objective) -> None:
    """Fits ``est.model_`` on float32 ``X`` (an array or a CSR matrix) and targets ``Y`` with
    sample weights ``sw`` (or None: the weighted objective of ``_network.weighted_loss``,
    its L2 term over ``sum(sw)``); sets ``n_iter_`` and ``loss_``."""
    f = _FullBatch(est, X, Y, sw, obj)
    est.model_.train()
    result = scipy.optimize.minimize(
        f, f.pack(), method="L-BFGS-B", jac=True,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol})
    # scikit-learn's ConvergenceWarning (its text) and iteration count
    est.n_iter_ = int(_check_optimize_result("lbfgs", result, est.max_iter))
    f.unpack(result.x)
    est.loss_ = np.float64(result.fun)
    if est.verbose:
        print(f"L-BFGS-B: {est.n_iter_} iterations, loss = {est.loss_:.8f} "
              f"({_message(result)})")


def _message(result: Any) -> str:
    m = result.message
    return m.decode() if isinstance(m, bytes) else str(m)
