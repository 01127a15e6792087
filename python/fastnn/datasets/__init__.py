"""fastnn.datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST from IDX files,
synthetic 2-D sets."""

from .digits import load_digits
from .mnist import load_fashion_mnist, load_mnist
from .synthetic import make_moons, make_spirals, make_xor

__all__ = ["load_digits", "load_fashion_mnist", "load_mnist", "make_moons", "make_spirals",
           "make_xor"]
