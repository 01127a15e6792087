"""fastnn.training: Keras-style ``fit``/``evaluate``/``predict``, ``History`` and recipes."""

from .history import History
from .loop import evaluate, fit, predict
from .recipes import mnist1d_recipe

__all__ = ["History", "evaluate", "fit", "mnist1d_recipe", "predict"]
