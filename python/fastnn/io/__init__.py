"""fastnn.io: save and load models (and optimizer state) as ``.safetensors`` files.

``save`` writes one file atomically, holding the weights under PyTorch's key
names, the architecture as JSON and, optionally, the optimizer state and user
metadata; ``load`` rebuilds the model or loads the weights into a given one
(a ``Module`` subclass is never rebuilt from the file: pass ``model=``);
``load_state_dict`` reads the weights only and ``load_metadata`` the JSON part only.
``save`` also stores plain objects (a ``state_dict``, a checkpoint dict), which ``load``
returns, as PyTorch's ``torch.save`` / ``torch.load`` do, without pickling.
The format is read and written with NumPy alone (``safetensors_format``): no extra package.
"""

from .atomic import atomic_write
from .checkpoint import (
    FORMAT_VERSION,
    FileFormatError,
    load,
    load_metadata,
    load_state_dict,
    save,
)

__all__ = ["FORMAT_VERSION", "FileFormatError", "atomic_write", "load", "load_metadata",
           "load_state_dict", "save"]
