"""fastnn.optim: optimizers over fused C++ update kernels, and learning-rate schedulers.

Constructor signatures, defaults, update rules and ``state_dict`` layout follow
``torch.optim`` (PyTorch 2.13). Each step makes one kernel call per parameter
group, updating every parameter and its state in a single (vectorized,
multi-threaded) pass over memory.

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
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
