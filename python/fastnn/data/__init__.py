"""fastnn.data: mini-batch iteration and train/test splitting over NumPy arrays."""

from .loader import DataLoader
from .split import train_test_split

__all__ = ["DataLoader", "train_test_split"]
