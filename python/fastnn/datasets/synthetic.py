"""Synthetic 2-D classification sets for the perceptron and small-MLP lessons.

Each set builds the clean shape in float64, adds Gaussian noise of standard
deviation ``noise`` to both coordinates, shuffles the rows (so that any slice
mixes the classes) and returns ``(X float32 (n, 2), y int64 (n,))``. Random
draws come from ``seed``'s own generator, or from fastnn's global generator
(:func:`fastnn.manual_seed`) when ``seed`` is None.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _random
from .._validation import check_int, check_number

# Angle swept by each spiral arm from the centre to radius 1 (radians), as in CS231n.
SPIRAL_TURN = 4.0


def _generator(func: str, n_samples: int, noise: float, seed: int | None) -> np.random.Generator:
    """Validates the arguments every set shares and returns the generator to draw from."""
    check_int(n_samples, func, "n_samples", low=1)
    check_number(noise, func, "noise", low=0.0, high=math.inf, high_open=True)
    if seed is not None:
        check_int(seed, func, "seed", low=0)
    return _random.generator_for(seed)


def _balanced_counts(n: int, k: int) -> np.ndarray:
    """n split into k counts differing by at most one, the larger ones first."""
    return n // k + (np.arange(k) < n % k)


def _finish(points: np.ndarray, labels: np.ndarray, noise: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Adds N(0, noise^2) to every coordinate, shuffles the rows, casts to float32/int64."""
    points = points + noise * rng.standard_normal(points.shape)
    order = rng.permutation(points.shape[0])
    return (np.ascontiguousarray(points[order], dtype=np.float32),
            np.ascontiguousarray(labels[order], dtype=np.int64))


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (the CS231n toy set).

    Class :math:`k` of :math:`K` has :math:`m_k` points (the counts differ by at
    most one) on an arm leaving the centre at angle :math:`2\pi k / K` and
    turning by 4 radians on its way out to radius 1:

    .. math::
        r_i = \frac{i + 1}{m_k}, \quad \theta_i = \frac{2\pi k}{K} + 4 r_i, \quad
        x_i = (r_i \cos\theta_i,\ r_i \sin\theta_i) + \varepsilon_i, \quad
        \varepsilon_i \sim \mathcal{N}(0, \text{noise}^2 I),

    for :math:`i = 0, \dots, m_k - 1`. Rows are returned in random order.

    Args:
        n_samples (int): total number of points, >= 1. Default: 300.
        n_classes (int): number of arms (classes), >= 2. Default: 3.
        noise (float): standard deviation of the Gaussian noise added to each
            coordinate, >= 0 (0 puts every point on its arm). Default: 0.2.
        seed (int, optional): seeds a generator of its own; None (default)
            draws from fastnn's global generator.

    Returns:
        tuple: ``(X, y)``.

    Shape:
        - X: :math:`(n\_samples, 2)` float32.
        - y: :math:`(n\_samples,)` int64, labels :math:`0, \dots, K - 1`.

    Examples::

        >>> from fastnn.datasets import make_spirals
        >>> X, y = make_spirals(300, n_classes=3, seed=0)
        >>> X.shape, y.shape, [int((y == k).sum()) for k in range(3)]
        ((300, 2), (300,), [100, 100, 100])
    """
    func = "make_spirals()"
    rng = _generator(func, n_samples, noise, seed)
    n_classes = check_int(n_classes, func, "n_classes", low=2)
    counts = _balanced_counts(n_samples, n_classes)
    labels = np.repeat(np.arange(n_classes), counts)
    # Position of each point along its arm: (i + 1) / m_k, in (0, 1].
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    r = (np.arange(n_samples) - starts + 1) / counts[labels]
    theta = 2.0 * np.pi * labels / n_classes + SPIRAL_TURN * r
    points = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return _finish(points, labels, noise, rng)


def make_moons(n_samples: int = 200, noise: float = 0.1,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles (like scikit-learn's ``make_moons``).

    Class 0 has :math:`\lfloor n/2 \rfloor` points on the upper unit half circle,
    class 1 the other :math:`\lceil n/2 \rceil` on a lower half circle shifted
    to centre :math:`(1, 0.5)`, both at evenly spaced angles :math:`t \in [0, \pi]`:

    .. math::
        x^{(0)} = (\cos t,\ \sin t), \qquad x^{(1)} = (1 - \cos t,\ 0.5 - \sin t),

    plus :math:`\mathcal{N}(0, \text{noise}^2)` on each coordinate. Rows are
    returned in random order.

    Args:
        n_samples (int): total number of points, >= 1. Default: 200.
        noise (float): standard deviation of the Gaussian noise added to each
            coordinate, >= 0 (0 gives the exact half circles). Default: 0.1.
        seed (int, optional): seeds a generator of its own; None (default)
            draws from fastnn's global generator.

    Returns:
        tuple: ``(X, y)``.

    Shape:
        - X: :math:`(n\_samples, 2)` float32.
        - y: :math:`(n\_samples,)` int64, labels 0 and 1.

    Examples::

        >>> from fastnn.datasets import make_moons
        >>> X, y = make_moons(200, noise=0.1, seed=0)
        >>> X.shape, int(y.sum())
        ((200, 2), 100)
    """
    rng = _generator("make_moons()", n_samples, noise, seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    points = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
    ])
    labels = np.repeat(np.arange(2), [n_outer, n_inner])
    return _finish(points, labels, noise, rng)


def make_xor(n_samples: int = 200, noise: float = 0.1,
             seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Four clusters at the corners :math:`(\pm 1, \pm 1)`, labelled by the XOR of the signs.

    The points are spread over the corners as evenly as possible (the counts
    differ by at most one, and so do the two classes'). The label is that of
    the corner a point was drawn around, 1 when its two signs differ:

    .. math::
        y = [\operatorname{sign}(c_1) \ne \operatorname{sign}(c_2)], \qquad
        x = c + \varepsilon, \quad c \in \{-1, 1\}^2, \quad
        \varepsilon \sim \mathcal{N}(0, \text{noise}^2 I).

    Rows are returned in random order. Not linearly separable: a perceptron
    fails on it, an MLP with one hidden layer does not.

    Args:
        n_samples (int): total number of points, >= 1. Default: 200.
        noise (float): standard deviation of the Gaussian noise added to each
            coordinate, >= 0 (0 puts every point on its corner). Default: 0.1.
        seed (int, optional): seeds a generator of its own; None (default)
            draws from fastnn's global generator.

    Returns:
        tuple: ``(X, y)``.

    Shape:
        - X: :math:`(n\_samples, 2)` float32.
        - y: :math:`(n\_samples,)` int64, labels 0 and 1.

    Examples::

        >>> from fastnn.datasets import make_xor
        >>> X, y = make_xor(200, seed=0)
        >>> X.shape, int(y.sum())
        ((200, 2), 100)
    """
    rng = _generator("make_xor()", n_samples, noise, seed)
    # Corners in an order whose labels alternate 0, 1, 0, 1: any prefix is balanced.
    corners = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    corner = np.repeat(np.arange(4), _balanced_counts(n_samples, 4))
    points = corners[corner]
    labels = (points[:, 0] * points[:, 1] < 0).astype(np.int64)
    return _finish(points, labels, noise, rng)
