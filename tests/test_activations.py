"""Activations and softmax: the _core kernels and the nn modules against the reference.

The kernels run on this process's SIMD path (``_core.elementwise_arch()``);
test_vecmath.py reruns this file with FASTNN_ARCH forcing every other path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastnn as fn
import reference as ref
from conftest import ALL_THREADS
from fastnn import _core

A = _core.Activation
KINDS = {"identity": A.identity, "relu": A.relu, "leaky_relu": A.leaky_relu,
         "sigmoid": A.sigmoid, "tanh": A.tanh, "gelu": A.gelu, "gelu_tanh": A.gelu_tanh,
         "silu": A.silu, "elu": A.elu, "softplus": A.softplus}
READS_X = ("relu", "leaky_relu", "gelu", "gelu_tanh", "silu", "elu", "softplus")
# 0, 1, vector width (8) +- 1 and 2x +- 1, primes, one block (4096) +- 1, and past the
# OpenMP threshold (1 << 15).
SIZES = [0, 1, 7, 8, 9, 15, 16, 17, 31, 4095, 4097, 40009]


def _params(name):
    return ref.PARAMS.get(name, (0.0, 0.0))


def _forward(name, x):
    y = np.full_like(x, np.nan)
    p1, p2 = _params(name)
    _core.activation_forward(KINDS[name], p1, y, x, p2)
    return y


def _backward(name, dy, x, y):
    dx = np.full_like(x, np.nan)
    p1, p2 = _params(name)
    _core.activation_backward(KINDS[name], p1, dx, dy, x, y, p2)
    return dx


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("n", SIZES)
def test_kernel_matches_reference(num_threads, rng, name, n):
    x = (3 * rng.standard_normal(n)).astype(np.float32)
    dy = rng.standard_normal(n).astype(np.float32)
    y = _forward(name, x)
    np.testing.assert_allclose(y, ref.activation_forward(name, x), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(_backward(name, dy, x, y), ref.activation_backward(name, dy, x),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", KINDS)
def test_kernel_finite_differences(rng, name):
    # keep away from the kinks of relu / leaky_relu at 0
    x = rng.uniform(0.1, 2.0, 16) * rng.choice([-1.0, 1.0], 16)
    dy = rng.standard_normal(16)

    def loss(v):
        return float((_forward(name, v.astype(np.float32)).astype(np.float64) * dy).sum())

    x32 = x.astype(np.float32)
    dx = _backward(name, dy.astype(np.float32), x32, _forward(name, x32))
    np.testing.assert_allclose(dx, ref.numerical_grad(loss, x32, 1e-3), rtol=1e-2, atol=1e-2)
    # the float64 reference derivative itself
    fd = ref.numerical_grad(lambda v: float((ref.activation_forward(name, v) * dy).sum()), x, 1e-6)
    np.testing.assert_allclose(ref.activation_backward(name, dy, x), fd, rtol=1e-6, atol=1e-7)


def test_relu_gradient_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 1.0], np.float32)
    np.testing.assert_array_equal(_backward("relu", np.ones(3, np.float32), x, None), [0, 0, 1])
    np.testing.assert_array_equal(_backward("leaky_relu", np.ones(3, np.float32), x, None),
                                  np.float32([0.1, 0.1, 1]))


def test_sigmoid_tanh_stable_for_large_inputs():
    x = np.array([-1e4, -100.0, -88.8, 0.0, 88.8, 100.0, 1e4], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("sigmoid", "tanh", "gelu", "gelu_tanh"):
            y = _forward(name, x)
            assert np.isfinite(y).all(), name
            np.testing.assert_allclose(y, ref.activation_forward(name, x), rtol=1e-6, atol=1e-30)
            assert np.isfinite(_backward(name, np.ones_like(x), x, y)).all(), name
    s = _forward("sigmoid", x)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5


def test_elementwise_bit_identical_across_threads(rng):
    x = rng.standard_normal(70001).astype(np.float32)
    dy = rng.standard_normal(70001).astype(np.float32)

    def run(name):
        y = _forward(name, x)
        return y, _backward(name, dy, x, y)

    for name in KINDS:
        one = ref.at_threads(1, lambda n=name: run(n))
        many = ref.at_threads(ALL_THREADS, lambda n=name: run(n))
        assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1]), name


@pytest.mark.parametrize("name", KINDS)
def test_short_rows_match_long_arrays(rng, name):
    """A GEMM epilogue calls the kernels on rows of 16: every element gets the result
    it gets inside a long (vectorized, threaded) array."""
    x = (3 * rng.standard_normal(40009)).astype(np.float32)
    dy = rng.standard_normal(40009).astype(np.float32)
    y = _forward(name, x)
    dx = _backward(name, dy, x, y)
    for start in (0, 3, 16, 40009 - 16):
        sl = slice(start, start + 16)
        assert np.array_equal(_forward(name, x[sl].copy()), y[sl]), start
        assert np.array_equal(_backward(name, dy[sl].copy(), x[sl].copy(), y[sl].copy()),
                              dx[sl]), start


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("n", [1, 9, 40009])
def test_in_place(num_threads, rng, name, n):
    """y may be x in forward; dx may be dy (or the cached x / y) in backward."""
    x = (3 * rng.standard_normal(n)).astype(np.float32)
    dy = rng.standard_normal(n).astype(np.float32)
    y = _forward(name, x)
    dx = _backward(name, dy, x, y)
    p1, p2 = _params(name)
    buf = x.copy()
    _core.activation_forward(KINDS[name], p1, buf, buf, p2)
    assert np.array_equal(buf, y)
    buf = dy.copy()
    _core.activation_backward(KINDS[name], p1, buf, buf, x, y, p2)
    assert np.array_equal(buf, dx)
    xs, ys = x.copy(), y.copy()
    out = xs if name in READS_X else ys
    _core.activation_backward(KINDS[name], p1, out, dy, xs, ys, p2)
    assert np.array_equal(out, dx)


# Forward and backward (dy = 1) at x = NaN, +inf, -inf, as PyTorch computes them.
SPECIAL_X = np.float32([np.nan, np.inf, -np.inf])
SPECIAL = {
    "identity": ([np.nan, np.inf, -np.inf], [1, 1, 1]),
    "relu": ([np.nan, np.inf, 0], [1, 1, 0]),
    "leaky_relu": ([np.nan, np.inf, -np.inf], [ref.LEAKY_SLOPE, 1, ref.LEAKY_SLOPE]),
    "sigmoid": ([np.nan, 1, 0], [np.nan, 0, 0]),
    "tanh": ([np.nan, 1, -1], [np.nan, 0, 0]),
    "gelu": ([np.nan, np.inf, np.nan], [np.nan, np.nan, np.nan]),
    "gelu_tanh": ([np.nan, np.inf, np.nan], [np.nan, np.nan, np.nan]),
    "silu": ([np.nan, np.inf, np.nan], [np.nan, np.nan, np.nan]),
    "elu": ([np.nan, np.inf, -ref.ELU_ALPHA], [1, 1, 0]),
    "softplus": ([np.nan, np.inf, 0], [np.nan, 1, 0]),
}


@pytest.mark.parametrize("name", KINDS)
def test_nan_and_inf(name):
    # the specials at every lane of a vector and in a remainder
    x = np.tile(SPECIAL_X, 7)
    fwd, bwd = (np.tile(np.float32(v), 7) for v in SPECIAL[name])
    y = _forward(name, x)
    np.testing.assert_array_equal(y, fwd)
    np.testing.assert_array_equal(_backward(name, np.ones_like(x), x, y), bwd)


@pytest.mark.parametrize("name", KINDS)
def test_matches_reference_at_extremes(name):
    """Huge, tiny and subnormal inputs and the saturation regions, mixed with normal ones."""
    x = np.float32([1e30, -1e30, 3e38, -3e38, 1e-40, -1e-40, 1e-20, -1e-20, 0.0, -0.0,
                    9.5, -9.5, 20.0, -20.0, 88.0, -88.0, 104.0, -104.0, 0.5])
    with np.errstate(all="ignore"):
        expect = ref.activation_forward(name, x)
    np.testing.assert_allclose(_forward(name, x), expect, rtol=2e-6, atol=1e-30)


def test_kernel_bad_arguments():
    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"activation_forward\(\): argument 'x' must have 1 dim"):
        _core.activation_forward(A.relu, 0.0, np.zeros((2, 2), np.float32), x.reshape(2, 2))
    with pytest.raises(ValueError, match=r"argument 'y' must have shape \(4,\), got \(3,\)"):
        _core.activation_forward(A.relu, 0.0, np.zeros(3, np.float32), x)
    with pytest.raises(ValueError, match=r"argument 'y' is required for Activation.sigmoid"):
        _core.activation_backward(A.sigmoid, 0.0, np.zeros(4, np.float32), x, x, None)
    with pytest.raises(ValueError, match=r"argument 'x' is required for Activation.relu"):
        _core.activation_backward(A.relu, 0.0, np.zeros(4, np.float32), x, None, x)
    buf = np.zeros(5, np.float32)  # in place is fine, a partial overlap is not
    with pytest.raises(ValueError, match=r"'dx' and 'dy' must not share memory"):
        _core.activation_backward(A.relu, 0.0, buf[1:], buf[:4], np.zeros(4, np.float32), None)
    with pytest.raises(ValueError, match=r"'y' and 'x' must not share memory"):
        _core.activation_forward(A.relu, 0.0, buf[1:], buf[:4])
    with pytest.raises(ValueError, match=r"'dx' and 'x' must not share memory"):
        _core.activation_backward(A.relu, 0.0, buf[1:], x, buf[:4], None)


# -- softmax ----------------------------------------------------------------------

SOFTMAX_SHAPES = [(0, 5), (3, 0), (1, 1), (7, 13), (5, 8), (5, 9), (3, 17), (128, 10),
                  (2, 4099), (700, 53)]


# softmax and log-softmax: (kernel forward, kernel backward, float64 forward, float64
# backward from the float64 output)
ROW_KERNELS = {
    "softmax": (_core.softmax_forward, _core.softmax_backward, ref.softmax,
                ref.softmax_backward),
    "log_softmax": (_core.log_softmax_forward, _core.log_softmax_backward, ref.log_softmax,
                    ref.log_softmax_backward),
}


@pytest.mark.parametrize("kind", ROW_KERNELS)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
def test_row_kernels_match_reference(num_threads, rng, shape, kind):
    forward, backward, ref_forward, ref_backward = ROW_KERNELS[kind]
    x = (5 * rng.standard_normal(shape)).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    y = np.full_like(x, np.nan)
    forward(y, x)
    np.testing.assert_allclose(y, ref_forward(x), rtol=1e-5, atol=2e-6)
    if shape[1] and kind == "softmax":
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    dx = np.full_like(x, np.nan)
    backward(dx, dy, y)
    # log-softmax's dx sums a row of dy: its error grows with the row's length
    atol = 1e-6 if kind == "softmax" else 2e-5 * max(1, shape[1]) ** 0.5
    np.testing.assert_allclose(dx, ref_backward(dy, ref_forward(x)), rtol=1e-4, atol=atol)


def test_softmax_stable_for_large_logits():
    x = np.array([[1000.0, 999.0, -1000.0], [-1e30, -1e30, -1e30]], np.float32)
    y = np.empty_like(x)
    _core.softmax_forward(y, x)
    np.testing.assert_allclose(y, ref.softmax(x), rtol=1e-6, atol=1e-30)


def test_log_softmax_extremes():
    """Large logits keep their small differences; a row of -inf is NaN (torch too); NaN
    stays in its row."""
    big = np.float32([[1000.0, 999.0, -1000.0], [-np.inf, -np.inf, -np.inf], [0, np.nan, 1]])
    y = np.empty_like(big)
    _core.log_softmax_forward(y, big)
    np.testing.assert_allclose(y[0], ref.log_softmax(big[:1])[0], rtol=1e-6)
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all()


def test_softmax_nan_stays_in_its_row():
    x = np.float32([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    y = np.empty_like(x)
    _core.softmax_forward(y, x)
    assert np.isnan(y[0]).all()
    np.testing.assert_allclose(y[1], ref.softmax(x[1:])[0], rtol=1e-6)


@pytest.mark.parametrize("kind", ROW_KERNELS)
def test_row_kernels_finite_differences(rng, kind):
    forward, backward, ref_forward, ref_backward = ROW_KERNELS[kind]
    x = rng.standard_normal((3, 5))
    dy = rng.standard_normal((3, 5))

    def loss(v):
        y = np.empty((3, 5), np.float32)
        forward(y, v.astype(np.float32))
        return float((y.astype(np.float64) * dy).sum())

    x32 = x.astype(np.float32)
    y = np.empty_like(x32)
    forward(y, x32)
    dx = np.empty_like(x32)
    backward(dx, dy.astype(np.float32), y)
    np.testing.assert_allclose(dx, ref.numerical_grad(loss, x32, 1e-3), rtol=1e-2, atol=1e-3)
    fd = ref.numerical_grad(lambda v: float((ref_forward(v) * dy).sum()), x, 1e-6)
    np.testing.assert_allclose(ref_backward(dy, ref_forward(x)), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ROW_KERNELS)
def test_row_kernels_bit_identical_across_threads(rng, kind):
    forward, backward = ROW_KERNELS[kind][:2]
    x = rng.standard_normal((900, 77)).astype(np.float32)

    def run():
        y, dx = np.empty_like(x), np.empty_like(x)
        forward(y, x)
        backward(dx, x, y)
        return y, dx

    one, many = ref.at_threads(1, run), ref.at_threads(ALL_THREADS, run)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])


def test_softplus_cannot_be_fused_into_a_product():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="softplus takes two parameters"):
        _core.linear_forward(np.empty((2, 2), np.float32), a, np.ones((2, 3), np.float32), None,
                             A.softplus, 1.0)


# -- modules ---------------------------------------------------------------------

MODULES = {
    "relu": lambda: fn.nn.ReLU(), "leaky_relu": lambda: fn.nn.LeakyReLU(ref.LEAKY_SLOPE),
    "sigmoid": lambda: fn.nn.Sigmoid(), "tanh": lambda: fn.nn.Tanh(),
    "identity": lambda: fn.nn.Identity(), "gelu": lambda: fn.nn.GELU(),
    "gelu_tanh": lambda: fn.nn.GELU(approximate="tanh"),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_forward_backward(rng, name):
    m = MODULES[name]()
    x = rng.standard_normal((4, 3, 5))[:, ::2]  # float64, non-contiguous
    y = m(x)
    assert y.dtype == np.float32 and y.shape == x.shape and y.flags.c_contiguous
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(y, ref.activation_forward(name, x32), rtol=2e-6, atol=1e-6)
    dy = rng.standard_normal(x.shape)
    np.testing.assert_allclose(m.backward(dy), ref.activation_backward(name, dy, x32),
                               rtol=1e-5, atol=1e-6)
    assert m(np.zeros((0, 7))).shape == (0, 7)
    assert m(np.arange(3)).dtype == np.float32  # int input converted


@pytest.mark.parametrize("dim", [0, 1, -1, 2, -3])
def test_softmax_module_any_dim(rng, dim):
    x = rng.standard_normal((3, 4, 5))
    m = fn.nn.Softmax(dim=dim)
    y = m(x)
    assert y.flags.c_contiguous
    np.testing.assert_allclose(y, ref.softmax(x.astype(np.float32), axis=dim), rtol=1e-5,
                               atol=1e-7)
    dy = rng.standard_normal(x.shape)
    np.testing.assert_allclose(m.backward(dy), ref.softmax_backward(dy, ref.softmax(x, dim), dim),
                               rtol=1e-4, atol=1e-6)


def test_module_bad_arguments():
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        fn.nn.Softmax(dim=2)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"approximate' must be 'none' or 'tanh'"):
        fn.nn.GELU(approximate="fast")
    with pytest.raises(TypeError, match=r"negative_slope' must be a number"):
        fn.nn.LeakyReLU("0.1")
    with pytest.raises(TypeError, match=r"Softmax\(\): argument 'dim' must be an int"):
        fn.nn.Softmax(dim=None)
    for m in [fn.nn.ReLU(), fn.nn.Softmax(), fn.nn.Identity(), fn.nn.GELU()]:
        with pytest.raises(RuntimeError, match="called before a forward"):
            m.backward(np.zeros(3))
        with pytest.raises(TypeError, match="real numeric dtype"):
            m(np.array([True, False]))
        m(np.zeros((2, 3)))
        with pytest.raises(ValueError, match=r"'grad_out' must have the shape"):
            m.backward(np.zeros((3, 2)))


def test_reprs():
    assert repr(fn.nn.ReLU()) == "ReLU()"
    assert repr(fn.nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(fn.nn.Softmax()) == "Softmax(dim=-1)"
    assert repr(fn.nn.GELU("tanh")) == "GELU(approximate='tanh')"


def test_modules_match_torch(rng):
    torch = pytest.importorskip("torch")
    pairs = [
        (fn.nn.ReLU(), torch.nn.ReLU()), (fn.nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (fn.nn.Sigmoid(), torch.nn.Sigmoid()), (fn.nn.Tanh(), torch.nn.Tanh()),
        (fn.nn.GELU(), torch.nn.GELU()), (fn.nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (fn.nn.Identity(), torch.nn.Identity()), (fn.nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
        (fn.nn.Softmax(), torch.nn.Softmax(dim=-1)),
    ]
    x = (4 * rng.standard_normal((6, 9))).astype(np.float32)
    dy = rng.standard_normal((6, 9)).astype(np.float32)
    for ours, theirs in pairs:
        tx = torch.tensor(x, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(ours(x), ty.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=repr(ours))
        np.testing.assert_allclose(ours.backward(dy), tx.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=repr(ours))


def _log_softmax64(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("dim", [0, 1, -1, 2, -3])
def test_log_softmax_module_matches_float64_and_finite_differences(rng, dim):
    x = 3 * rng.standard_normal((3, 4, 5))
    m = fn.nn.LogSoftmax(dim=dim)
    y = m(x)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_allclose(y, _log_softmax64(x.astype(np.float32).astype(np.float64), dim),
                               rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(x.shape)
    dx = m.backward(dy)
    fd = ref.numerical_grad(lambda v: float((_log_softmax64(v, dim) * dy).sum()), x, 1e-6)
    np.testing.assert_allclose(dx, fd, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m(fn.tensor(x)).numpy(), y, rtol=1e-6, atol=1e-6)  # Tensor path


def test_log_softmax_is_stable_and_matches_torch(rng):
    x = np.array([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]], np.float32)
    y = fn.nn.LogSoftmax(dim=1)(x)
    assert np.isfinite(y).all() and y[0, 0] == 0.0
    np.testing.assert_allclose(y[1], -np.log(3.0), rtol=1e-6)
    with pytest.raises(TypeError, match=r"LogSoftmax\(\): argument 'dim' must be an int"):
        fn.nn.LogSoftmax(dim=None)
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((6, 7)).astype(np.float32)
    g = rng.standard_normal((6, 7)).astype(np.float32)
    m, t = fn.nn.LogSoftmax(dim=1), torch.tensor(x, requires_grad=True)
    ty = torch.nn.LogSoftmax(dim=1)(t)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(m(x), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(m.backward(g), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert repr(m) == repr(torch.nn.LogSoftmax(dim=1))


def _silu64(x):
    return x / (1 + np.exp(-x))


def _elu64(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softplus64(x, beta, threshold):
    z = beta * x
    return np.where(z > threshold, x, np.log1p(np.exp(np.minimum(z, threshold))) / beta)


@pytest.mark.parametrize("make, ref64", [
    (lambda: fn.nn.SiLU(), _silu64),
    (lambda: fn.nn.ELU(), lambda x: _elu64(x, 1.0)),
    (lambda: fn.nn.ELU(alpha=0.3), lambda x: _elu64(x, 0.3)),
    (lambda: fn.nn.Softplus(), lambda x: _softplus64(x, 1.0, 20.0)),
    (lambda: fn.nn.Softplus(beta=2.0, threshold=5.0), lambda x: _softplus64(x, 2.0, 5.0)),
], ids=["silu", "elu", "elu_alpha", "softplus", "softplus_beta"])
def test_numpy_activations_match_float64_and_finite_differences(rng, make, ref64):
    m = make()
    x = 4 * rng.standard_normal((3, 7))
    x[0, :4] = [0.0, 30.0, -30.0, 100.0]  # the thresholds and saturations
    y = m(x)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(y, ref64(x32), rtol=2e-6, atol=1e-7)
    dy = rng.standard_normal(x.shape)
    dx = m.backward(dy)
    fd = ref.numerical_grad(lambda v: float((ref64(v) * dy).sum()), x32, 1e-6)
    smooth = x != 0  # ELU has a kink at 0 for alpha != 1 (torch's derivative there: alpha)
    np.testing.assert_allclose(dx[smooth], fd[smooth], rtol=1e-4, atol=1e-5)
    t = fn.tensor(x32, requires_grad=True)  # the Tensor path: same values and gradients
    m(t).backward(fn.tensor(dy))
    np.testing.assert_allclose(t.grad.numpy(), dx, rtol=1e-5, atol=1e-6)
    torch = pytest.importorskip("torch")
    tm = {"SiLU": lambda: torch.nn.SiLU(), "ELU": lambda: torch.nn.ELU(alpha=m.alpha),
          "Softplus": lambda: torch.nn.Softplus(beta=m.beta, threshold=m.threshold)}[
              type(m).__name__]()
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    tm(tx).backward(torch.tensor(dy.astype(np.float32)))
    np.testing.assert_allclose(y, tm(torch.tensor(x.astype(np.float32))).numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_elu_gradient_survives_an_in_place_change_of_its_output():
    """The derivative reads only the input: a residual ``y += skip`` after the forward does
    not change it (the saved-output form gave 3.37 instead of 0.37)."""
    x = fn.tensor([-1.0, -0.5, 2.0], requires_grad=True)
    y = fn.nn.ELU()(x)
    y += fn.tensor([3.0, 3.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.exp(-1.0), np.exp(-0.5), 1.0], rtol=1e-6)


def test_numpy_activations_edge_inputs():
    silu = fn.nn.SiLU()
    out = silu(np.float32(2.0))
    assert type(out) is np.ndarray and out.shape == ()  # 0-d in, 0-d array out
    with pytest.raises(RuntimeError, match="expected a floating point Tensor"):
        fn.nn.ELU()(fn.tensor([1, 2]))
    x = fn.tensor([-2.0, 0.5], dtype=fn.float64, requires_grad=True)  # float64 stays float64
    y = fn.nn.Softplus()(x)
    assert y.dtype == fn.float64
    y.sum().backward()
    assert x.grad.dtype == fn.float64
    with pytest.raises(ValueError, match="must not be 0"):
        fn.nn.Softplus(beta=0.0)


@pytest.mark.parametrize("make", [
    fn.nn.Sigmoid, fn.nn.Tanh, fn.nn.Softmax, fn.nn.LogSoftmax, lambda: fn.nn.Softmax(dim=0),
    lambda: fn.nn.LogSoftmax(dim=0), fn.nn.ReLU, fn.nn.GELU])
def test_changing_the_output_in_place_before_backward_keeps_the_gradient(rng, make):
    """Sigmoid, Tanh, Softmax and LogSoftmax differentiate from their output, which they
    returned and kept: ``p = model(x); p -= y; model.backward(2 * p)`` (a residual
    computed in place) gave a wrong gradient for the whole model, silently."""
    x = rng.standard_normal((5, 7)).astype(np.float32)
    g = rng.standard_normal((5, 7)).astype(np.float32)
    clean = make()
    clean(x)
    expected = clean.backward(g)
    layer = make()
    y = layer(x)
    y -= 3.0  # the caller's own array now
    y *= 0.0
    np.testing.assert_array_equal(layer.backward(g), expected)
    assert (y == 0).all()


@pytest.mark.parametrize("name, out", [("sigmoid", np.full(3, 0.25)), ("tanh", np.ones(3))])
def test_output_changed_in_place_written_out(name, out):
    """sigmoid'(0) = 1/4 and tanh'(0) = 1 whatever the caller does to the returned array
    (the review's repro returned [0, 0, 0])."""
    layer = fn.nn.Sigmoid() if name == "sigmoid" else fn.nn.Tanh()
    y = layer(np.zeros(3, np.float32))
    y *= 0
    np.testing.assert_array_equal(layer.backward(np.ones(3, np.float32)), out.astype(np.float32))


def test_relu_keeps_negative_zero_and_nan_as_torch():
    """ReLU(-0.0) gave +0.0 (torch.relu keeps -0.0) on every path, the float64 Tensor
    path included (the GEMM's fused epilogue uses the same comparison)."""
    x = np.array([-0.0, 0.0, -1.0, 2.0, np.nan] * 7, np.float32)
    for y in (fn.nn.ReLU()(x), fn.nn.functional.relu(fn.tensor(x)).numpy(),
              fn.tensor(x).relu().numpy(),
              fn.nn.functional.relu(fn.tensor(x, dtype=fn.float64)).numpy()):
        np.testing.assert_array_equal(np.signbit(y[:5]), [True, False, False, False, False])
        np.testing.assert_array_equal(y[:4], [0.0, 0.0, 0.0, 2.0])
        assert np.isnan(y[4])
    layer = fn.nn.ReLU()
    layer(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x))[:4], [0, 0, 0, 1])


def test_gelu_tanh_derivative_saturates_instead_of_overflowing():
    """GELU(tanh)'s backward at x = 2e19 was 1 on the scalar path and NaN on the SIMD ones
    (v * v overflowed into inf * 0), and NaN on every path from 1e20 on, where it is 1
    (0 for large negative x); NaN, and +-inf as in PyTorch (test_nan_and_inf), give NaN."""
    x = np.array([2e19, -2e19, 1e30, -1e30, 3.4e38, -3.4e38, np.inf, -np.inf, np.nan] * 5,
                 np.float32)
    layer = fn.nn.GELU(approximate="tanh")
    layer(x)
    g = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(g[:6], [1, 0, 1, 0, 1, 0])
    assert np.isnan(g[6:9]).all()
    near = np.array([-19.9, -5.0, 0.5, 5.0, 19.9], np.float32)  # unclamped: unchanged
    layer(near)
    xd = near.astype(np.float64)
    u = np.sqrt(2 / np.pi) * (xd + 0.044715 * xd**3)
    du = np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * xd**2)
    expected = 0.5 * (1 + np.tanh(u)) + 0.5 * xd * (1 - np.tanh(u) ** 2) * du
    np.testing.assert_allclose(layer.backward(np.ones_like(near)), expected, rtol=1e-5,
                               atol=1e-9)


def test_elu_keeps_signed_zero_and_parameters_must_fit_float32():
    """ELU passes +-0 through (torch: x itself unless x < 0, for any alpha); the kernels'
    parameters are float32, so one that overflows it raises as torch does, and softplus's
    kernel needs its threshold."""
    import fastnn.nn.functional as F
    x = np.float32([-0.0, 0.0])
    for alpha in (1.0, -1.0, 0.7):
        y = _forward_with(A.elu, alpha, x)
        assert np.array_equal(np.signbit(y), [True, False]) and not y.any(), alpha
        assert np.array_equal(np.signbit(fn.nn.ELU(alpha)(x)), [True, False])
    with pytest.raises(RuntimeError, match="without overflow"):
        F.softplus(fn.tensor([1.0]), beta=1e40)
    with pytest.raises(RuntimeError, match="without overflow"):
        fn.nn.ELU(alpha=-1e39)(np.ones(2))
    with pytest.raises(ValueError, match="softplus needs argument 'param2'"):
        _core.activation_forward(A.softplus, 1.0, np.empty(2, np.float32), np.ones(2, np.float32))


def _forward_with(act, param, x, param2=0.0):
    y = np.full_like(x, np.nan)
    _core.activation_forward(act, param, y, x, param2)
    return y
