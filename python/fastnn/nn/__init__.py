"""fastnn.nn: layers, containers and losses (grows as the kernels land)."""

from .container import Sequential
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Sequential"]
