"""fastnn: a small, fast neural-network library (skeleton; grows as modules land)."""

from . import _core, nn
from ._random import manual_seed

__version__ = "0.1.0"
__all__ = ["manual_seed", "nn", "_core"]
