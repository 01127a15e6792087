"""fastnn.datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST from IDX files, MNIST-1D,
synthetic 2-D sets.

Data only: nothing here imports ``fastnn.nn``. The MNIST-1D paper's model and
training recipe are :func:`fastnn.training.mnist1d_recipe`.
"""

from .digits import load_digits
from .mnist import load_fashion_mnist, load_mnist
from .mnist1d import load_mnist1d
from .synthetic import make_moons, make_spirals, make_xor

__all__ = ["load_digits", "load_fashion_mnist", "load_mnist", "load_mnist1d", "make_moons",
           "make_spirals", "make_xor"]

