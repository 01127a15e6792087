"""fastnn.nn: layers, containers, losses and weight initialisation."""

from . import init
from .activation import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .dropout import Dropout
from .linear import Dense, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module
from .parameter import Parameter
from .train_step import TrainStep

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dense", "Dropout", "GELU", "Identity",
    "LeakyReLU", "Linear", "MSELoss", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Tanh", "TrainStep", "init",
]
