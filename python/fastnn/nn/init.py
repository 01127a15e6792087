"""``fastnn.nn.init``: in-place weight initialisation, as ``torch.nn.init``.

Every function fills a :class:`~fastnn.nn.Parameter` (its ``.data``) or a float32
array in place and returns it. Random draws come from ``generator`` or, by
default, the global generator that :func:`fastnn.manual_seed` seeds, so a seeded
program initialises bit-identical weights.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar, Union

import numpy as np

from .._random import rng_of
from ..autograd.tensor import Tensor as _Tensor

__all__ = [
    "calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_",
    "ones_", "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_",
    "zeros_",
]

Tensor = TypeVar("Tensor", bound=Union[_Tensor, np.ndarray])


def _array(tensor: _Tensor | np.ndarray, func: str) -> np.ndarray:
    a = tensor._data if isinstance(tensor, _Tensor) else tensor
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError(f"{func}: argument 'tensor' must be a Parameter or a float ndarray "
                        f"(or a float Tensor), got {type(tensor).__name__}")
    return a


def _fill(tensor: Tensor, values: np.ndarray | float, func: str) -> Tensor:
    _array(tensor, func)[...] = values
    if isinstance(tensor, _Tensor):
        tensor._bump()
    return tensor


def _fans(a: np.ndarray, func: str) -> tuple[int, int]:
    """(fan_in, fan_out) as PyTorch computes them: a weight is (out, in, *kernel)."""
    if a.ndim < 2:
        raise ValueError(f"{func}: fan in and fan out need at least 2 dimensions, "
                         f"got shape {a.shape}")
    receptive = int(np.prod(a.shape[2:])) if a.ndim > 2 else 1
    return a.shape[1] * receptive, a.shape[0] * receptive


# Gain 1 in PyTorch's table: the linear maps (convolutions included) and sigmoid.
_GAIN_ONE = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for a nonlinearity (PyTorch's table).

    ``linear``/``identity``/``sigmoid`` (and the ``conv*`` names): 1; ``tanh``: 5/3;
    ``relu``: :math:`\sqrt{2}`;
    ``leaky_relu``: :math:`\sqrt{2 / (1 + a^2)}` with ``a = param`` (default 0.01);
    ``selu``: 3/4.

    Args:
        nonlinearity (str): the name of the nonlinearity.
        param (float, optional): the negative slope of ``leaky_relu``.
    """
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Any = None) -> Tensor:
    r"""Fills ``tensor`` with draws from :math:`\mathcal{U}(a, b)`."""
    arr = _array(tensor, "uniform_()")
    gen = rng_of(generator, "nn.init")
    return _fill(tensor, gen.uniform(a, b, size=arr.shape), "uniform_()")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> Tensor:
    r"""Fills ``tensor`` with draws from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`."""
    arr = _array(tensor, "normal_()")
    gen = rng_of(generator, "nn.init")
    return _fill(tensor, gen.normal(mean, std, size=arr.shape), "normal_()")


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    r"""Fills ``tensor`` with draws from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`
    truncated to :math:`[a, b]` (absolute bounds, as PyTorch's).

    Exact rejection sampling (Robert 1995) on the standardized window
    :math:`[\alpha, \beta] = [(a - \text{mean}) / \text{std}, (b - \text{mean}) / \text{std}]`:
    normal draws where the window holds most of the mass, uniform ones with acceptance
    :math:`e^{(m^2 - z^2) / 2}` (:math:`m` the window's point nearest 0) where it is
    narrow, and shifted exponential ones for a window in the tail, so that windows far
    from the mean (``a`` 5 std above it, say) keep their distribution instead of piling
    onto a bound."""
    func = "trunc_normal_()"
    arr = _array(tensor, func)
    if not a < b:
        raise ValueError(f"{func}: the bounds must satisfy a < b, got a={a}, b={b}")
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ValueError(f"{func}: mean and std must be finite, got mean={mean}, std={std}")
    gen = rng_of(generator, "nn.init")
    if std == 0:
        out = np.full(arr.size, mean, dtype=np.float64)
    else:
        lo, hi = sorted(((a - mean) / std, (b - mean) / std))
        z = _truncated_standard_normal(gen, lo, hi, arr.size, func)
        out = mean + std * z
    return _fill(tensor, np.clip(out, a, b).reshape(arr.shape), func)


def _truncated_standard_normal(gen: np.random.Generator, lo: float, hi: float, n: int,
                               func: str) -> np.ndarray:
    """``n`` draws of N(0, 1) conditioned on ``[lo, hi]`` (see :func:`trunc_normal_`).
    Every branch accepts at least about 4% of its proposals (the uniform one where the
    window holds little mass: e^-1 on its far edge), so the rounds are few."""
    if lo == hi:  # a window narrower than float64 resolves
        return np.full(n, lo)
    if hi <= 0:  # the left tail: the mirror image of the right one
        return -_truncated_standard_normal(gen, -hi, -lo, n, func)
    out = np.empty(n)
    pending = np.arange(n)
    for _ in range(10_000):
        if not pending.size:
            return out
        k = pending.size
        if lo <= 0 and hi - lo >= 2.5:  # most of the mass inside: plain normal draws
            z = gen.standard_normal(k)
            ok = (z >= lo) & (z <= hi)
        elif lo <= 0 or (hi - lo) * (hi + lo) <= 2.0:  # a narrow window: uniform draws
            z = gen.uniform(lo, hi, k)
            m = 0.0 if lo <= 0 else lo
            ok = gen.random(k) <= np.exp((m - z) * (m + z) / 2)
        else:  # the right tail: lo + exponential draws at Robert's optimal rate
            rate = (lo + math.hypot(lo, 2.0)) / 2
            z = lo + gen.exponential(1 / rate, k)
            ok = (z <= hi) & (gen.random(k) <= np.exp(-((z - rate) ** 2) / 2))
        out[pending[ok]] = z[ok]
        pending = pending[~ok]
    raise RuntimeError(f"{func}: the sampling of the window [{lo}, {hi}] (in standard "
                       "deviations) did not converge")


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    r"""Fills ``tensor`` with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013):
    the Q of a QR decomposition of Gaussian draws, signs fixed by R's diagonal, over the
    shape ``(shape[0], prod(shape[1:]))`` as in PyTorch. Needs at least 2 dimensions."""
    func = "orthogonal_()"
    arr = _array(tensor, func)
    if arr.ndim < 2:
        raise ValueError(f"{func}: only tensors with 2 or more dimensions are supported, got "
                         f"shape {arr.shape}")
    rows, cols = arr.shape[0], arr.size // max(arr.shape[0], 1)
    gen = rng_of(generator, "nn.init")
    flat = gen.normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(arr.shape), func)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills ``tensor`` with ``val``."""
    try:
        if isinstance(val, (str, bytes)):
            raise TypeError
        value = float(val)
    except (TypeError, ValueError):
        raise TypeError(f"constant_(): argument 'val' must be a number, got "
                        f"{type(val).__name__}") from None
    return _fill(tensor, value, "constant_()")


def eye_(tensor: Tensor) -> Tensor:
    """Fills the 2-D ``tensor`` with the identity matrix (ones on the diagonal, zeros
    elsewhere; a non-square one gets ``min(rows, cols)`` ones), as ``torch.nn.init.eye_``:
    a Linear layer then passes its first inputs through unchanged."""
    a = _array(tensor, "eye_()")
    if a.ndim != 2:
        raise ValueError(f"eye_(): argument 'tensor' must be 2-D, got shape {a.shape}")
    return _fill(tensor, np.eye(*a.shape, dtype=a.dtype), "eye_()")


def zeros_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` with 0."""
    return _fill(tensor, 0.0, "zeros_()")


def ones_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` with 1."""
    return _fill(tensor, 1.0, "ones_()")


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Any = None) -> Tensor:
    r"""Glorot uniform: :math:`\mathcal{U}(-b, b)` with
    :math:`b = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`.

    Glorot & Bengio, "Understanding the difficulty of training deep feedforward
    neural networks" (AISTATS 2010).
    """
    fan_in, fan_out = _fans(_array(tensor, "xavier_uniform_()"), "xavier_uniform_()")
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Any = None) -> Tensor:
    r"""Glorot normal: :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.
    """
    fan_in, fan_out = _fans(_array(tensor, "xavier_normal_()"), "xavier_normal_()")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)), generator)


def _kaiming_std(tensor: _Tensor | np.ndarray, a: float, mode: str, nonlinearity: str,
                 func: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{func}: argument 'mode' must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(_array(tensor, func), func)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(max(fan, 1))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> Tensor:
    r"""He uniform: :math:`\mathcal{U}(-b, b)`, :math:`b = \text{gain}\sqrt{3 / \text{fan\_mode}}`.

    He et al., "Delving deep into rectifiers" (ICCV 2015). With ``a=sqrt(5)``
    (``nn.Linear``'s default) the bound is :math:`1/\sqrt{\text{fan\_in}}`.

    Args:
        tensor (Parameter or ndarray): at least 2-D, ``(fan_out, fan_in, ...)``.
        a (float): the negative slope of the following leaky ReLU. Default: 0.
        mode (str): ``"fan_in"`` (default) preserves the forward variance,
            ``"fan_out"`` the backward one.
        nonlinearity (str): see :func:`calculate_gain`. Default: ``"leaky_relu"``.
        generator (fastnn.Generator or numpy.random.Generator, optional): default: the
            global state.
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_()")
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> Tensor:
    r"""He normal: :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = \text{gain} / \sqrt{\text{fan\_mode}}`.

    Arguments as :func:`kaiming_uniform_`.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_()")
    return normal_(tensor, 0.0, std, generator)
