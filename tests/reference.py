"""Float64 NumPy references of every fastnn layer kernel, and test helpers.

Each function mirrors one kernel in ``cpp/src/kernels`` in float64 (inputs are
promoted), so a test compares the float32 kernel to the exact-ish answer. The
formulas are PyTorch's. Also here: the dropout mask generator re-implemented in
NumPy (bit-exact), central finite differences, and a thread-count switcher.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

import fastnn as fn

# -- linear -------------------------------------------------------------------


def linear_forward(x, W, b=None):
    y = np.asarray(x, np.float64) @ np.asarray(W, np.float64).T
    return y if b is None else y + np.asarray(b, np.float64)


def linear_backward(dy, x, W):
    """(dx, dW, db) of y = x W^T + b."""
    dy, x, W = (np.asarray(a, np.float64) for a in (dy, x, W))
    return dy @ W, dy.T @ x, dy.sum(axis=0)


# -- activations: name -> (f(x), f'(x)) -----------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _phi(x):
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _gelu_tanh_grad(x):
    s = math.sqrt(2.0 / math.pi)
    t = np.tanh(s * (x + 0.044715 * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * s * (1.0 + 3 * 0.044715 * x**2)


def _silu_grad(x):
    s = _sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def _softplus(x):
    z = SOFTPLUS_BETA * x
    soft = (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))) / SOFTPLUS_BETA
    return np.where(z > SOFTPLUS_THRESHOLD, x, soft)


LEAKY_SLOPE = 0.1
ELU_ALPHA = 0.7
# beta x is exact in float32 for beta = 2, so the threshold test agrees with float64's
SOFTPLUS_BETA, SOFTPLUS_THRESHOLD = 2.0, 10.0
# The kernels' (param, param2) per activation (activation_forward / activation_backward).
PARAMS = {"leaky_relu": (LEAKY_SLOPE, 0.0), "elu": (ELU_ALPHA, 0.0),
          "softplus": (SOFTPLUS_BETA, SOFTPLUS_THRESHOLD)}

ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "identity": (lambda x: x, np.ones_like),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64)),
    "leaky_relu": (lambda x: np.where(x > 0, x, LEAKY_SLOPE * x),
                   lambda x: np.where(x > 0, 1.0, LEAKY_SLOPE)),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "gelu": (lambda x: x * _phi(x),
             lambda x: _phi(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh_grad),
    "silu": (lambda x: x * _sigmoid(x), _silu_grad),
    "elu": (lambda x: np.where(x > 0, x, ELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
            lambda x: np.where(x > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(x, 0.0)))),
    "softplus": (_softplus,
                 lambda x: np.where(SOFTPLUS_BETA * x > SOFTPLUS_THRESHOLD, 1.0,
                                    _sigmoid(SOFTPLUS_BETA * x))),
}


def activation_forward(name, x):
    return ACTIVATIONS[name][0](np.asarray(x, np.float64))


def activation_backward(name, dy, x):
    return np.asarray(dy, np.float64) * ACTIVATIONS[name][1](np.asarray(x, np.float64))


def softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(dy, y, axis=-1):
    dy, y = np.asarray(dy, np.float64), np.asarray(y, np.float64)
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_backward(dy, y, axis=-1):
    dy, y = np.asarray(dy, np.float64), np.asarray(y, np.float64)
    return dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)


# -- losses: (value, dL/dpred) ------------------------------------------------------


def _reduce(terms, count, reduction):
    return terms.sum() / (count if reduction == "mean" else 1.0)


def mse(p, t, reduction="mean"):
    p, t = np.asarray(p, np.float64), np.asarray(t, np.float64)
    div = p.size if reduction == "mean" else 1.0
    return _reduce((p - t) ** 2, p.size, reduction), 2.0 * (p - t) / div


def bce(p, t, reduction="mean"):
    p, t = np.asarray(p, np.float64), np.asarray(t, np.float64)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_1mp = np.maximum(np.log1p(-p), -100.0)
    div = p.size if reduction == "mean" else 1.0
    grad = (p - t) / np.maximum(p * (1.0 - p), 1e-12) / div
    return _reduce(-(t * log_p + (1.0 - t) * log_1mp), p.size, reduction), grad


def bce_with_logits(z, t, reduction="mean"):
    z, t = np.asarray(z, np.float64), np.asarray(t, np.float64)
    div = z.size if reduction == "mean" else 1.0
    terms = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
    return _reduce(terms, z.size, reduction), (_sigmoid(z) - t) / div


def cross_entropy(z, y, label_smoothing=0.0, reduction="mean"):
    z = np.asarray(z, np.float64)
    y = np.asarray(y, np.int64)
    n, c = z.shape
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    nll = -log_p[np.arange(n), y]
    smooth = -log_p.mean(axis=1)
    e = label_smoothing
    terms = (1.0 - e) * nll + e * smooth
    q = np.full((n, c), e / c)
    q[np.arange(n), y] += 1.0 - e
    div = n if reduction == "mean" else 1.0
    return _reduce(terms, n, reduction), (np.exp(log_p) - q) / div


LOSSES = {"mse": mse, "bce": bce, "bce_with_logits": bce_with_logits}

# -- dropout --------------------------------------------------------------------

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z):
    z = np.asarray(z, np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_uniform24(seed: int, n: int) -> np.ndarray:
    """The 24-bit integers u behind dropout's uniforms u 2^-24 (util/rng.h, bit-exact)."""
    with np.errstate(over="ignore"):
        key = _mix64(np.uint64(seed) + _GOLDEN)
        i = np.arange(1, n + 1, dtype=np.uint64)
        return (_mix64(key + i * _GOLDEN) >> np.uint64(40)).astype(np.int64)


def dropout_keep(seed: int, n: int, p: float) -> np.ndarray:
    """The keep mask of dropout_forward(seed) for n elements (util/rng.h, bit-exact)."""
    u = dropout_uniform24(seed, n).astype(np.float64) * 2.0**-24  # exact
    return u >= p  # p a double, as the kernel's


def dropout_forward(x, keep, p):
    """Inverted dropout in float64: E[y] = x."""
    return np.asarray(x, np.float64) * keep / (1.0 - p)


# -- helpers ----------------------------------------------------------------------


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of the scalar f at x, one element at a time (float64)."""
    x = np.array(x, np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = f(x)
        flat[i] = old - eps
        lo = f(x)
        flat[i] = old
        gflat[i] = (hi - lo) / (2.0 * eps)
    return g


def at_threads(n: int, f: Callable[[], object]) -> object:
    """Runs f() with fastnn at n threads and restores the previous count."""
    before = fn.get_num_threads()
    fn.set_num_threads(n)
    try:
        return f()
    finally:
        fn.set_num_threads(before)
