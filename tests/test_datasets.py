"""fastnn.datasets: bundled digits, synthetic 2-D sets and the MNIST IDX reader/downloader."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import fastnn as fn
from fastnn.datasets import load_digits, make_moons, make_spirals, make_xor

# ---------------------------------------------------------------- load_digits

# SHA-256 of the returned arrays' bytes (X as little-endian float32, y as little-endian int64).
DIGITS_X_SHA256 = "a627aed550b0b29bf76a981bc1ecbab5ef775aac454c94154f20ec9f61a04c83"
DIGITS_Y_SHA256 = "a3c91c262eddcf7ba8f0e37507c30284493c9b20412ffe4af30d536401f7ba21"


def test_digits_shape_dtype_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and X.flags.c_contiguous
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # First image of sklearn's copy: a 0.
    assert y[0] == 0
    assert X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_checksum():
    X, y = load_digits()
    assert hashlib.sha256(X.astype("<f4").tobytes()).hexdigest() == DIGITS_X_SHA256
    assert hashlib.sha256(y.astype("<i8").tobytes()).hexdigest() == DIGITS_Y_SHA256


def test_digits_returns_fresh_arrays():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0


# ---------------------------------------------------------------- synthetic sets

MAKERS = [make_spirals, make_moons, make_xor]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 301])
def test_synthetic_shapes_dtypes(make, n):
    X, y = make(n_samples=n, seed=0)
    assert X.shape == (n, 2) and X.dtype == np.float32 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_seed_determinism(make):
    a = make(seed=5)
    b = make(seed=5)
    c = make(seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_manual_seed_drives_seed_none(make):
    fn.manual_seed(21)
    a = make()
    fn.manual_seed(21)
    b = make()
    fn.manual_seed(22)
    c = make()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_rows_shuffled(make):
    _, y = make(n_samples=200, seed=0)
    assert np.any(np.diff(y) < 0)  # not sorted by class
    assert len(set(y[:20].tolist())) > 1


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_noise_is_gaussian_offset(make):
    # With the same seed the noisy set is the clean set plus N(0, noise^2) per coordinate.
    X0, y0 = make(n_samples=4000, noise=0.0, seed=3)
    X1, y1 = make(n_samples=4000, noise=0.3, seed=3)
    np.testing.assert_array_equal(y0, y1)
    d = (X1 - X0).astype(np.float64)
    assert abs(d.mean()) < 0.02
    assert abs(d.std() - 0.3) < 0.02


@pytest.mark.parametrize(("n", "k"), [(300, 3), (301, 3), (302, 3), (10, 4), (7, 2), (2, 5)])
def test_spirals_clean_arms_and_balance(n, k):
    X, y = make_spirals(n_samples=n, n_classes=k, noise=0.0, seed=1)
    counts = np.bincount(y, minlength=k)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    X = X.astype(np.float64)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r > 0) and np.all(r <= 1 + 1e-6)
    # Angle on the arm: 2*pi*k/K + 4*r (mod 2*pi).
    theta = 2 * np.pi * y / k + 4.0 * r
    np.testing.assert_allclose(X[:, 0], r * np.cos(theta), atol=1e-6)
    np.testing.assert_allclose(X[:, 1], r * np.sin(theta), atol=1e-6)
    for c in range(k):  # radii (i + 1) / m_k, i = 0..m_k-1
        m = counts[c]
        np.testing.assert_allclose(np.sort(r[y == c]), np.arange(1, m + 1) / m, atol=1e-6)


@pytest.mark.parametrize("n", [2, 9, 200])
def test_moons_clean_half_circles(n):
    X, y = make_moons(n_samples=n, noise=0.0, seed=2)
    X = X.astype(np.float64)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    assert np.all(outer[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(inner[:, 1] <= 0.5 + 1e-6)
    # Evenly spaced angles over [0, pi], ends included (as scikit-learn's).
    t = np.sort(np.arctan2(outer[:, 1], outer[:, 0]) % (2 * np.pi))
    np.testing.assert_allclose(t, np.linspace(0, np.pi, n // 2), atol=1e-6)


@pytest.mark.parametrize("n", [1, 4, 5, 6, 7, 200, 203])
def test_xor_clean_corners_and_labels(n):
    X, y = make_xor(n_samples=n, noise=0.0, seed=4)
    assert set(np.abs(X).ravel().tolist()) == {1.0}
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))
    counts = np.bincount(y, minlength=2)
    assert abs(int(counts[0]) - int(counts[1])) <= 1
    corner_counts = [int(np.sum((np.sign(X[:, 0]) == sx) & (np.sign(X[:, 1]) == sy)))
                     for sx in (-1, 1) for sy in (-1, 1)]
    assert max(corner_counts) - min(corner_counts) <= 1


def test_xor_noisy_labels_follow_corners():
    X, y = make_xor(n_samples=400, noise=0.1, seed=0)
    # At noise 0.1 no point leaves its quadrant, so the sign rule holds everywhere.
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))


@pytest.mark.parametrize("make", MAKERS)
def test_synthetic_bad_arguments(make):
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}\(\): argument 'n_samples' must be >= 1, got 0"):
        make(n_samples=0)
    with pytest.raises(TypeError, match="'n_samples' must be an int, got float"):
        make(n_samples=10.0)
    with pytest.raises(ValueError, match=r"'noise' must be in \[0, inf\), got -0.1"):
        make(noise=-0.1)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="'noise' must be in"):
            make(noise=bad)
    with pytest.raises(TypeError, match="'noise' must be a number"):
        make(noise="0.1")
    with pytest.raises(ValueError, match="'seed' must be >= 0"):
        make(seed=-1)


def test_spirals_bad_n_classes():
    with pytest.raises(ValueError, match=r"make_spirals\(\): argument 'n_classes' must be >= 2"):
        make_spirals(n_classes=1)
    with pytest.raises(TypeError, match="'n_classes' must be an int"):
        make_spirals(n_classes=3.0)
