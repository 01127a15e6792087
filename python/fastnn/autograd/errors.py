"""Shape errors of Tensor ops: PyTorch raises ``RuntimeError``, fastnn's NumPy-array API
``ValueError`` (API.md); :class:`ShapeError` and :class:`InputError` are both, so code
written for either catches them."""

from __future__ import annotations


class InputError(RuntimeError, ValueError):
    """Input a Tensor op cannot take (e.g. probabilities outside [0, 1] for BCE): PyTorch
    raises ``RuntimeError``, fastnn's NumPy-array API ``ValueError``; this is both."""


class ShapeError(InputError):
    """Operand shapes that do not fit an op; the message names the shapes."""


class DtypeError(RuntimeError, TypeError):
    """An operand dtype an op does not take (an integer or bool input to a Linear layer):
    PyTorch raises ``RuntimeError``, fastnn's array API ``TypeError``; this is both."""


class ModeError(TypeError, ValueError):
    """``Module.train(mode)`` with a ``mode`` that is not a bool: PyTorch raises
    ``ValueError``, Python's convention for a wrong type is ``TypeError``; this is both."""


def broadcast_error(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> ShapeError:
    """PyTorch's message for operands that do not broadcast, with both shapes.

    The dimension reported is the last one (counted in the broadcast result) where
    the sizes differ and neither is 1, as PyTorch's ``infer_size`` finds it.
    """
    n = max(len(a_shape), len(b_shape))
    a = (1,) * (n - len(a_shape)) + tuple(a_shape)
    b = (1,) * (n - len(b_shape)) + tuple(b_shape)
    bad = [i for i in range(n) if a[i] != b[i] and a[i] != 1 and b[i] != 1]
    where = f"at non-singleton dimension {bad[-1]} " if bad else ""
    return ShapeError(
        f"The size of tensor a ({a[bad[-1]] if bad else '?'}) must match the size of tensor b "
        f"({b[bad[-1]] if bad else '?'}) {where}(shapes {tuple(a_shape)} and {tuple(b_shape)})")
