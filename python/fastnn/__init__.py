"""fastnn: a small, fast neural-network library.

C++17/OpenMP kernels (GEMM, activations, losses, dropout, optimizer updates)
under a PyTorch-shaped API (``nn``, ``optim``, ``data``) and a Keras-style
``fit``. Arrays are NumPy arrays; the compute dtype is float32 (float64 input
is converted once at the boundary).

Example::

    >>> import fastnn as fn
    >>> X, y = fn.datasets.load_digits()
    >>> model = fn.nn.Sequential(fn.nn.Linear(64, 128), fn.nn.ReLU(), fn.nn.Linear(128, 10))
    >>> history = fn.fit(model, X / 16, y, loss=fn.nn.CrossEntropyLoss(),
    ...                  optimizer=fn.optim.Adam(model.parameters()), epochs=5,
    ...                  validation_split=0.1, metrics=["accuracy"])
"""

__version__ = "0.1.0"

from ._core_loader import load_core as _load_core

_load_core()  # first, so libgomp starts with fastnn's wait policy (see _core_loader)

from . import (  # noqa: E402
    autograd,
    callbacks,
    data,
    datasets,
    distributed,
    io,
    nn,
    onnx,
    optim,
    utils,
)
from ._random import Generator, manual_seed  # noqa: E402
from ._random import default_generator_object as default_generator  # noqa: E402
from ._runtime import default_num_threads as _default_num_threads  # noqa: E402
from ._runtime import get_num_threads, info, set_num_threads  # noqa: E402
from ._runtime import set_default_num_threads as _set_default_num_threads  # noqa: E402
from ._runtime import update_cpu_limit as _update_cpu_limit  # noqa: E402
from .autograd import (  # noqa: E402
    Size,
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    enable_grad,
    eye,
    from_numpy,
    full,
    full_like,
    inference_mode,
    is_grad_enabled,
    linspace,
    no_grad,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_grad_enabled,
    tensor,
    zeros,
    zeros_like,
)
from .functional import matmul  # noqa: E402
from .io import load, save  # noqa: E402
from .plot import plot_history  # noqa: E402
from .torch_api import *  # noqa: E402, F403  (fn.exp, fn.cat, fn.float32, fn.device, ...)
from .torch_api import __all__ as _torch_all  # noqa: E402
from .training import History, evaluate, fit, predict  # noqa: E402

# A cgroup CPU quota below the core count (a throttled container) lowers the default;
# no kernel runs more threads than there are CPUs (set_num_threads).
if (_n := _default_num_threads()) is not None and _n < get_num_threads():
    _set_default_num_threads(_n)
_update_cpu_limit()

__all__ = [
    "Generator", "History", "Size", "Tensor", "__version__", "arange", "as_tensor", "autograd",
    "callbacks", "data", "datasets", "default_generator", "distributed", "empty", "empty_like",
    "enable_grad", "evaluate", "eye", "fit", "from_numpy", "full", "full_like", "get_num_threads",
    "inference_mode", "info", "io", "is_grad_enabled", "linspace", "load", "manual_seed", "matmul",
    "nn", "no_grad", "normal", "ones", "ones_like", "onnx", "optim", "plot_history", "predict",
    "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "save", "set_grad_enabled",
    "set_num_threads", "tensor", "utils", "zeros", "zeros_like", *_torch_all,
]
