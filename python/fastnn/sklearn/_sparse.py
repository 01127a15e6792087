"""Wide scipy sparse input without densifying it: the first layer as a sparse product.

A CSR block of ``n`` rows and ``d`` features densifies to ``4 n d`` bytes: a batch of
200 rows of a 2**20-feature ``HashingVectorizer`` output is 800 MiB. Where a block
would exceed :data:`DENSE_BUDGET`, the first ``Linear`` runs as scipy's sparse
product instead, as in scikit-learn (cost and memory follow the non-zeros)::

    h = X @ W^T + b                          (N, H), dense
    dL/dW = (dL/dh)^T @ X,   dL/db = sum_rows dL/dh

and the rest of the network (activation, dropout, later layers, loss) runs on
fastnn's autograd from ``h``. Narrower data is densified a block at a time and runs on
the fused kernels, bit-identical to dense input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import nn
from ..autograd import Tensor, from_numpy

# The largest float32 block of a sparse X densified at once, in bytes.
DENSE_BUDGET = 64 << 20


def fits_dense(X: Any, n_rows: int) -> bool:
    """Whether ``n_rows`` rows of ``X`` are dense already or densify within the budget."""
    return not sp.issparse(X) or 4 * n_rows * X.shape[1] <= DENSE_BUDGET


class SparseFirstLayer:
    """``model`` (an ``nn.Sequential`` starting with a ``Linear``) on CSR float32 input."""

    def __init__(self, model: nn.Sequential) -> None:
        modules = list(model)
        self.first: nn.Linear = modules[0]
        self.rest = nn.Sequential(*modules[1:])

    def hidden(self, X: sp.csr_matrix) -> np.ndarray:
        """``X @ W^T + b``, float32 ``(N, H)``."""
        h = np.asarray(X @ self.first.weight._data.T, dtype=np.float32)
        h += self.first.bias._data
        return h

    def loss_backward(self, X: sp.csr_matrix, loss_fn: nn.Module, target: Tensor) -> Tensor:
        """``loss_fn(model(X), target)``, back-propagated: the rest of the network through
        autograd from ``h`` (a leaf that records its gradient), then the first layer's
        gradients added into its parameters' own buffers (as autograd accumulates)."""
        h = from_numpy(self.hidden(X)).requires_grad_()
        loss = loss_fn(self.rest(h), target)
        loss.backward()
        g = np.asarray(h.grad)
        self.first.weight._accumulate(np.asarray(X.T @ g).T)
        self.first.bias._accumulate(g.sum(axis=0))
        return loss

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        """The network's output on ``X`` (eval mode is the caller's)."""
        return np.asarray(self.rest(from_numpy(self.hidden(X))))
