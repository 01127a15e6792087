"""Global random state: weight init, dropout masks and data shuffling.

``fastnn.manual_seed(seed)`` resets one NumPy ``Generator`` that every random
choice in fastnn draws from, in program order. Dropout draws one 64-bit seed
per forward call and the C++ kernel derives each element's mask bit from
(seed, element index), so results never depend on the thread count.
"""

from __future__ import annotations

import numpy as np

_generator: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed weight initialisation, dropout masks and data shuffling.

    Args:
        seed (int): a non-negative integer. The same seed gives bit-identical
            results, whatever the thread count.

    Example::

        >>> import fastnn as fn
        >>> fn.manual_seed(0)
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed(): argument 'seed' must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed(): argument 'seed' must be >= 0, got {seed}")
    _generator = np.random.default_rng(int(seed))


def default_generator() -> np.random.Generator:
    """The global generator seeded by :func:`manual_seed`."""
    return _generator


def next_seed() -> int:
    """Draws a fresh 64-bit seed from the global generator (for kernel RNGs)."""
    return int(_generator.integers(0, 2**63 - 1, dtype=np.int64))


def generator_for(seed: int | None) -> np.random.Generator:
    """A generator of its own for ``seed``, or the global one when ``seed`` is None."""
    return _generator if seed is None else np.random.default_rng(seed)
