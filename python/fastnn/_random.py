"""Global random state: weight init, dropout masks and data shuffling.

``fastnn.manual_seed(seed)`` resets one NumPy ``Generator`` that every random
choice in fastnn draws from, in program order. Dropout draws one 64-bit seed
per forward call and the C++ kernel derives each element's mask bit from
(seed, element index), so results never depend on the thread count.

Python threads: ``manual_seed`` called in a thread other than the main one seeds a
state of that thread's own, which it then draws from (PyTorch's state is process-wide):
two threads that each seed and train a model, dropout included, get what the same
code run one after the other gets, whatever the timing. A thread that never calls it
shares the main thread's state.

:class:`Generator` is ``torch.Generator``'s counterpart: a random state of its own,
for the ``generator=`` arguments (``random_split``, ``DataLoader``, ``randn``, ...).
``fastnn.default_generator`` stands for the global state.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_generator: np.random.Generator = np.random.default_rng()
_last_seed: int | None = None  # manual_seed's
# A thread's own state: .generator and .seed, set by manual_seed outside the main
# thread (or for a block by local_generator); absent, the thread draws from _generator.
_local = threading.local()


def _current() -> np.random.Generator:
    """The state this thread draws from: its own, else the global one."""
    g = getattr(_local, "generator", None)
    return _generator if g is None else g


def _current_seed() -> int | None:
    return _local.seed if getattr(_local, "generator", None) is not None else _last_seed


def _checked_seed(seed: Any, func: str) -> int:
    """``seed`` as torch.manual_seed takes it: an int in [-2**63, 2**64 - 1], negative
    ones taken modulo 2**64 (two's complement: -1 is 2**64 - 1)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{func}: argument 'seed' must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"{func}: argument 'seed' must be in [-2**63, 2**64 - 1], got {seed}")
    return seed % 2**64


def manual_seed(seed: int) -> Generator:
    """Seed weight initialisation, dropout masks and data shuffling.

    Args:
        seed (int): in :math:`[-2^{63}, 2^{64} - 1]`; a negative seed is taken
            modulo :math:`2^{64}`, as ``torch.manual_seed`` does. The same seed gives
            bit-identical results, whatever the thread count.

    Returns:
        Generator: :data:`default_generator`, as ``torch.manual_seed`` returns its own.

    Example::

        >>> import fastnn as fn
        >>> _ = fn.manual_seed(0)
    """
    global _generator, _last_seed
    seed = _checked_seed(seed, "manual_seed()")
    if threading.current_thread() is threading.main_thread():
        _last_seed, _generator = seed, np.random.default_rng(seed)
    else:  # this thread's own state (module docstring)
        _local.seed, _local.generator = seed, np.random.default_rng(seed)
    return default_generator_object


@contextmanager
def local_generator(generator: np.random.Generator) -> Iterator[None]:
    """For the block, this thread draws from ``generator`` (then from what it drew from
    before): a scope with a random stream of its own that leaves the caller's untouched."""
    saved = getattr(_local, "generator", None), getattr(_local, "seed", None)
    _local.generator, _local.seed = generator, None
    try:
        yield
    finally:
        _local.generator, _local.seed = saved


class Generator:
    """A random state of its own, as ``torch.Generator``: seed it, then pass it as
    ``generator=`` (``random_split``, ``DataLoader``, ``randn``/``rand``/``randint``/
    ``randperm``, ``nn.init`` functions) to draw from it instead of the global state.
    Its streams are NumPy's (PCG64), not PyTorch's.

    Args:
        device (str or fastnn.device, optional): ``"cpu"`` (the only device). Default: ``"cpu"``.

    Example::

        >>> g = fn.Generator().manual_seed(42)
        >>> train, test = fn.utils.data.random_split(dataset, [0.8, 0.2], generator=g)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Generator:
        # every Generator, also one made by copy or pickle, renews its lock after a fork
        self = super().__new__(cls)
        if cls is not _DefaultGenerator:
            _user_generators.add(self)
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickle protocols 0 and 1 make the object without __new__
        self.__dict__.update(state)
        _user_generators.add(self)

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"Generator(): fastnn runs on the CPU only, got device {device!r}")
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Resets the state from ``seed`` (as :func:`manual_seed` takes it) and returns
        this generator."""
        self._seed = _checked_seed(seed, "Generator.manual_seed()")
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseeds from fresh entropy and returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    @property
    def device(self) -> str:
        return "cpu"

    def __repr__(self) -> str:
        return f"<fastnn.Generator seed={self._seed}>"


class _DefaultGenerator(Generator):
    """The global state (``manual_seed``) seen as a :class:`Generator`."""

    def __init__(self) -> None:  # no state of its own
        pass

    @property
    def _rng(self) -> np.random.Generator:  # type: ignore[override]
        return _current()

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)

    def initial_seed(self) -> int:
        seed = _current_seed()
        if seed is None:
            raise RuntimeError("default_generator.initial_seed(): fastnn.manual_seed has not "
                               "been called (the global state starts from fresh entropy)")
        return seed

    def __repr__(self) -> str:
        return f"<fastnn.default_generator seed={_current_seed()}>"


default_generator_object = _DefaultGenerator()


def rng_of(generator: Any, func: str) -> np.random.Generator:
    """The NumPy generator to draw from for a ``generator=`` argument: the global one for
    ``None``, a :class:`Generator`'s, a ``numpy.random.Generator`` as is, or one seeded
    with an int."""
    if generator is None:
        return _current()
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(_checked_seed(generator, func))
    raise TypeError(f"{func}: argument 'generator' must be a fastnn.Generator, a "
                    f"numpy.random.Generator, an int seed or None, got {type(generator).__name__}")


def default_generator() -> np.random.Generator:
    """The generator seeded by :func:`manual_seed` (this thread's, see the module docstring)."""
    return _current()


def next_seed() -> int:
    """Draws a fresh seed in ``[0, 2**63)`` from :func:`default_generator` (for kernel
    RNGs): one raw 64-bit draw of its bit generator, shifted (0.3 us; ``integers()`` took
    1.9, a quarter of a ``Dropout`` call on a small array)."""
    return int(_current().bit_generator.random_raw()) >> 1


def generator_for(seed: int | None) -> np.random.Generator:
    """A generator of its own for ``seed``, or :func:`default_generator` when ``seed`` is None."""
    return _current() if seed is None else np.random.default_rng(seed)


# Every Generator() made, for _after_fork (weak: a Generator lives as long as its users).
_user_generators: weakref.WeakSet[Generator] = weakref.WeakSet()


def _with_new_lock(g: np.random.Generator) -> np.random.Generator:
    """A generator in ``g``'s state with a lock of its own."""
    bits = type(g.bit_generator)()
    bits.state = g.bit_generator.state
    return np.random.Generator(bits)


def _after_fork() -> None:
    """Runs in a forked child: every generator gets a new lock, its state kept.

    NumPy holds a generator's lock, with the GIL released, through a large draw (a
    weight init, a shuffle, ``randn``). A process forked while another thread was inside
    one inherits the lock held by a thread the child does not have, and the child's first
    draw from that generator waited forever.
    """
    global _generator
    _generator = _with_new_lock(_generator)
    own = getattr(_local, "generator", None)  # the forking thread's, the child's only thread
    if own is not None:
        _local.generator = _with_new_lock(own)
    renewed: dict[int, np.random.Generator] = {}  # copies sharing a state keep sharing it
    for g in list(_user_generators):
        rng = g.__dict__.get("_rng")  # absent where __init__ raised
        if rng is not None:
            if id(rng) not in renewed:
                renewed[id(rng)] = _with_new_lock(rng)
            g._rng = renewed[id(rng)]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
