"""fastnn.datasets: the bundled 8x8 digits and synthetic 2-D sets for the lessons."""

from .digits import load_digits
from .synthetic import make_moons, make_spirals, make_xor

__all__ = ["load_digits", "make_moons", "make_spirals", "make_xor"]
