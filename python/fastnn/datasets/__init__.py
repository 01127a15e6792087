"""fastnn.datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST from IDX files, MNIST-1D,
synthetic 2-D sets.

Data only: nothing here imports ``fastnn.nn``. The MNIST-1D paper's model and
training recipe moved to :func:`fastnn.training.mnist1d_recipe`.
"""

from typing import Any

from .digits import load_digits
from .mnist import load_fashion_mnist, load_mnist
from .mnist1d import load_mnist1d
from .synthetic import make_moons, make_spirals, make_xor

__all__ = ["load_digits", "load_fashion_mnist", "load_mnist", "load_mnist1d", "make_moons",
           "make_spirals", "make_xor"]


def __getattr__(name: str) -> Any:
    if name == "mnist1d_recipe":  # its old home; the data no longer know models
        import warnings

        from ..training import mnist1d_recipe

        warnings.warn("fastnn.datasets.mnist1d_recipe moved to fastnn.training.mnist1d_recipe",
                      DeprecationWarning, stacklevel=2)
        return mnist1d_recipe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
