"""``fastnn.nn.functional``: PyTorch's functional layer API on Tensors, all differentiable.

Each function records on the graph when an input requires grad and runs on
fastnn's kernels: ``linear`` on the GEMM with the bias fused, the activations,
``softmax`` and the one-pass softmax cross-entropy on their C++ kernels,
``dropout`` on the counter-based mask kernel. Losses return 0-d Tensors (or a
per-element Tensor with ``reduction="none"``).

Example::

    >>> import fastnn.nn.functional as F
    >>> h = F.relu(F.linear(x, w1, b1))
    >>> loss = F.cross_entropy(F.linear(h, w2, b2), y)
    >>> loss.backward()
"""

from __future__ import annotations

from ..autograd.ops_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..autograd.ops_nn import (
    dropout,
    elu,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from ..autograd.ops_shape import flatten
from ..autograd.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "elu",
    "flatten", "gelu", "huber_loss", "l1_loss", "leaky_relu", "linear", "log_softmax",
    "logsigmoid", "mse_loss", "nll_loss", "normalize", "one_hot", "relu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softplus", "tanh",
]


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    r""":math:`\log \sigma(x) = -\operatorname{softplus}(-x)`, computed without overflow
    for large :math:`|x|` (differentiable)."""
    return -softplus(-input)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    r""":math:`x / \max(\lVert x \rVert_p, \epsilon)` along ``dim`` (differentiable), as
    PyTorch's."""
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows for integer class indices (no gradient)."""
    import numpy as np

    from ..autograd.errors import InputError
    from ..autograd.tensor import _wrap
    labels = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if labels.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor.")
    if labels.size and labels.min() < 0:  # NumPy's indexing would wrap it silently
        raise InputError("one_hot(): Class values must be non-negative.")
    if num_classes < 0 and not labels.size:
        raise InputError("one_hot(): Can not infer total number of classes from empty tensor.")
    n = int(labels.max()) + 1 if num_classes < 0 else num_classes
    if labels.size and labels.max() >= n:
        raise InputError("one_hot(): Class values must be smaller than num_classes.")
    return _wrap(np.eye(n, dtype=np.int64)[labels])


