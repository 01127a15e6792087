"""fastnn.training: Keras-style ``fit``/``evaluate``/``predict`` and ``History``."""

from .history import History
from .loop import evaluate, fit, predict

__all__ = ["History", "evaluate", "fit", "predict"]
