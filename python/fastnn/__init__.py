"""fastnn: a small, fast neural-network library (skeleton; grows as modules land)."""

__version__ = "0.1.0"

from . import _core, data, datasets, nn, optim  # noqa: E402
from ._random import manual_seed  # noqa: E402
from ._runtime import get_num_threads, info, set_num_threads  # noqa: E402

__all__ = [
    "__version__", "data", "datasets", "get_num_threads", "info", "manual_seed", "nn", "optim",
    "set_num_threads",
]
