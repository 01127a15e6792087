"""fastnn.utils: ``fastnn.utils.data`` (PyTorch's ``Dataset``/``DataLoader`` over Tensors)."""

from . import data

__all__ = ["data"]
