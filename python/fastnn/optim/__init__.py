"""fastnn.optim: optimizers over fused C++ update kernels, and learning-rate schedulers.

Constructor signatures, defaults, update rules and ``state_dict`` layout follow
``torch.optim`` (PyTorch 2.13). SGD, Adam, AdamW, RMSprop and Adagrad make one
kernel call per parameter group and step, updating every parameter and its state
in a single (vectorized, multi-threaded) pass over memory; Adadelta, Adamax, NAdam
and RAdam are written in NumPy (same rules, slower steps). Each takes exactly its
PyTorch namesake's arguments (names, order, positional or keyword-only, defaults),
PyTorch's switches between implementations included: ``foreach`` and ``fused`` where
PyTorch has them (accepted, changing nothing: there is one implementation), and
``capturable`` and ``differentiable`` (``False`` only: no CUDA graphs, no autograd
through the update).

Example::

    >>> opt = fn.optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = fn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    >>> for epoch in range(50):
    ...     for x, y in loader:
    ...         opt.zero_grad()
    ...         loss = loss_fn(model(x), y)
    ...         model.backward(loss_fn.backward())
    ...         opt.step()
    ...     sched.step()
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam, RAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "lr_scheduler"]
