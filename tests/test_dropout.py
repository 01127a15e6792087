"""Dropout: the counter-based kernel (bit-exact against the NumPy re-implementation),
its statistics, thread independence, and nn.Dropout.

The kernel runs on this process's SIMD path (``_core.elementwise_arch()``);
test_vecmath.py reruns this file with FASTNN_ARCH forcing every other path, so the
mask is bit-exact against the same reference on every path."""

from __future__ import annotations

import numpy as np
import pytest

import fastnn as fn
import reference as ref
from conftest import ALL_THREADS
from fastnn import _core
from fastnn.nn import functional as F


def _forward(x, p, seed):
    y = np.full_like(x, np.nan)
    _core.dropout_forward(y, x, p, seed)
    return y


# vector width (8) +- 1 and 2x +- 1, primes, one block (4096) +- 1, past the OpenMP threshold
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 31, 4095, 4097, 40009])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_kernel_matches_reference_mask(num_threads, rng, n, p):
    x = rng.standard_normal(n).astype(np.float32)
    seed = 2**63 + 12345  # the full uint64 range is accepted
    keep = ref.dropout_keep(seed, n, p)
    y = _forward(x, p, seed)
    np.testing.assert_allclose(y, ref.dropout_forward(x, keep, p), rtol=1e-6)
    dy = rng.standard_normal(n).astype(np.float32)
    dx = np.full_like(dy, np.nan)
    _core.dropout_backward(dx, dy, p, seed)  # the same mask, regenerated from the seed
    np.testing.assert_allclose(dx, ref.dropout_forward(dy, keep, p), rtol=1e-6)


@pytest.mark.parametrize("p", [1e-30, 2.0**-24, 0.3, 1 - 2.0**-24])
def test_threshold_edges_match_reference(rng, p):
    """keep <=> uniform >= p for p at and between the 2^-24 steps of the uniform."""
    x = rng.standard_normal(20011).astype(np.float32)
    seed = 77
    keep = ref.dropout_keep(seed, x.size, p)
    y = _forward(x, p, seed)
    np.testing.assert_array_equal(y != 0, keep & (x != 0))


def test_p_is_compared_as_a_double():
    """p a quarter step above an element's uniform (k + 1/4) 2^-24, k 2^-24 in [0.5, 1):
    float32(p) rounds down to that uniform, which a float32 p kept; p itself drops it."""
    seed, n = 5, 4096
    u24 = ref.dropout_uniform24(seed, n)
    i = int(np.flatnonzero(u24 >= 2**23)[0])
    p = (int(u24[i]) + 0.25) * 2.0**-24
    assert np.float32(p) == u24[i] * 2.0**-24
    y = _forward(np.ones(n, np.float32), p, seed)
    assert y[i] == 0
    np.testing.assert_array_equal(y != 0, ref.dropout_keep(seed, n, p))


def test_in_place(rng):
    x = rng.standard_normal(40009).astype(np.float32)
    y = _forward(x, 0.4, 5)
    buf = x.copy()
    _core.dropout_forward(buf, buf, 0.4, 5)
    assert np.array_equal(buf, y)
    _core.dropout_backward(buf, buf, 0.4, 5)  # the mask is applied twice
    np.testing.assert_allclose(buf, ref.dropout_forward(y, y != 0, 0.4), rtol=1e-6)


def test_statistics(rng):
    n = 200_000
    x = np.ones(n, np.float32)
    for p in (0.1, 0.5, 0.8):
        y = _forward(x, p, 99)
        kept = y != 0
        tol = 5 * np.sqrt(p * (1 - p) / n)  # 5 standard deviations of the keep rate
        assert abs(kept.mean() - (1 - p)) < tol
        np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
        assert abs(y.mean() - 1.0) < tol / (1 - p)  # inverted scaling preserves the mean
    # different seeds give different, nearly independent masks
    a, b = _forward(x, 0.5, 1) != 0, _forward(x, 0.5, 2) != 0
    assert abs((a == b).mean() - 0.5) < 0.01
    # neighbouring elements are uncorrelated
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.01


def test_mask_bit_identical_across_threads(rng):
    x = rng.standard_normal(100_003).astype(np.float32)
    one = ref.at_threads(1, lambda: _forward(x, 0.3, 7))
    many = ref.at_threads(ALL_THREADS, lambda: _forward(x, 0.3, 7))
    assert np.array_equal(one, many)


def test_nan_propagates_like_torch():
    y = _forward(np.full(67, np.nan, np.float32), 0.5, 3)
    assert np.isnan(y).all()  # x * mask * scale, as PyTorch computes it
    y = _forward(np.full(67, np.inf, np.float32), 0.5, 3)
    keep = ref.dropout_keep(3, 67, 0.5)
    assert np.all(y[keep] == np.inf) and np.isnan(y[~keep]).all()  # inf * 0 = NaN


def test_kernel_bad_arguments():
    x = np.zeros(4, np.float32)
    for p in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"dropout_forward.*'p' must be in \[0, 1\)"):
            _core.dropout_forward(np.empty(4, np.float32), x, p, 0)
    with pytest.raises(ValueError, match=r"argument 'y' must have shape \(4,\)"):
        _core.dropout_forward(np.empty(5, np.float32), x, 0.5, 0)
    buf = np.zeros(5, np.float32)  # in place is fine, a partial overlap is not
    with pytest.raises(ValueError, match=r"'dx' and 'dy' must not share memory"):
        _core.dropout_backward(buf[1:], buf[:4], 0.5, 0)
    with pytest.raises(TypeError):
        _core.dropout_forward(np.empty(4, np.float32), x, 0.5, -1)  # seeds are uint64


# -- nn.Dropout --------------------------------------------------------------------


def test_module_train_eval_and_backward(rng):
    fn.manual_seed(3)
    drop = fn.nn.Dropout(p=0.25)
    x = rng.standard_normal((64, 33))
    y = drop(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    kept = y != 0
    np.testing.assert_allclose(y[kept], x.astype(np.float32)[kept] / 0.75, rtol=1e-6)
    dy = rng.standard_normal(x.shape)
    dx = drop.backward(dy)
    assert np.array_equal(dx != 0, kept)  # gradient flows only through kept units
    np.testing.assert_allclose(dx[kept], dy.astype(np.float32)[kept] / 0.75, rtol=1e-6)
    # a fresh mask per forward
    assert not np.array_equal(drop(x) != 0, kept)
    # eval mode and p == 0: identity, gradient unchanged
    x32 = x.astype(np.float32)
    for m in (drop.eval(), fn.nn.Dropout(0.0)):
        assert np.array_equal(m(x32), x32)
        assert np.array_equal(m.backward(dy), dy.astype(np.float32))
    assert drop.train().training


def test_module_reproducible_with_manual_seed(rng):
    x = rng.standard_normal((10, 10))
    outs = []
    for threads in (1, ALL_THREADS):
        fn.manual_seed(11)
        outs.append(ref.at_threads(threads, lambda: fn.nn.Dropout(0.5)(x)))
    assert np.array_equal(outs[0], outs[1])


def test_module_bad_arguments():
    for p in (1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=r"Dropout\(\): argument 'p' must be in \[0, 1\)"):
            fn.nn.Dropout(p)
    with pytest.raises(TypeError, match=r"argument 'p' must be a number"):
        fn.nn.Dropout("0.5")
    drop = fn.nn.Dropout()
    with pytest.raises(RuntimeError, match=r"Dropout.backward\(\) called before a forward"):
        drop.backward(np.zeros(3))
    with pytest.raises(TypeError, match=r"real numeric dtype"):
        drop(np.array(["a"]))
    drop(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"'grad_out' must have the shape"):
        drop.backward(np.zeros(6))
    assert repr(fn.nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"  # as torch


def test_threshold_at_the_uniform_step_drops_the_element():
    """An element whose 24-bit uniform u sits just below p (u < p 2^24 < u + 1) is dropped:
    the random-data sweep above hits that edge with probability 2^-24 per element, so a
    threshold rounded the wrong way passed it (test audit, mutation M5)."""
    n, seed = 64, 77
    u = ref.dropout_uniform24(seed, n)
    j = int(np.argmin(np.where(u > 0, u, 2**24)))  # small nonzero u: (2u+1)/2^25 exact in f32
    p = np.float32((u[j] + 0.5) / 2**24)
    y = _forward(np.ones(n, np.float32), float(p), seed)
    assert y[j] == 0.0
    np.testing.assert_array_equal(y != 0, ref.dropout_keep(seed, n, p))


@pytest.mark.parametrize("p", [0.9999, 0.999, 1 - 1e-9, 0.1, 0.5])
def test_the_scale_is_torchs_for_p_near_one(p):
    """p is a double as torch's, the scale 1 / float32(1 - p): with p in float32 it was
    1 / (1 - float32(p)), 9998.34 instead of 10000 at p = 0.9999 (1.7e-4 off), and p
    within float32's rounding of 1 was refused."""
    drop = fn.nn.Dropout(p)
    x = np.ones(1 << 16, np.float32)
    kept = drop(x)
    scale = np.float32(1) / np.float32(1.0 - p)
    assert np.all((kept == 0) | (kept == scale))
    assert np.array_equal(drop.backward(x), kept)
    t = fn.tensor(x, requires_grad=True)
    y = F.dropout(t, p)
    yv = y.detach().numpy()
    assert np.all((yv == 0) | (yv == scale))
    torch = pytest.importorskip("torch")
    ty = torch.nn.functional.dropout(torch.ones(1 << 16), p)
    assert set(ty[ty != 0].tolist()) <= {float(scale)}


def test_backward_uses_the_forwards_p():
    # backward rebuilt the mask from the current p: after d.p = 0.1 the gradient flowed
    # through dropped units, scaled by 1 / 0.9
    fn.manual_seed(0)
    d = fn.nn.Dropout(0.5)
    y = d(np.ones(64, np.float32))
    d.p = 0.1
    np.testing.assert_array_equal(d.backward(np.ones(64, np.float32)), y)
