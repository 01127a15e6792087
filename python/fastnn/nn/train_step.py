"""``TrainStep``: a whole training step of a built-in layer stack in one C++ call."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _core
from .._random import next_seed
from .._validation import NamedInput, as_float32
from ..autograd.ops_nn import _FLOAT32_MAX
from ._trace import TracedStep, eager_step
from .activation import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    _Elementwise,
    _ParamElementwise,
)
from .container import Sequential
from .dropout import Dropout
from .linear import Linear
from .loss import _REDUCTIONS, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, _class_labels
from .module import Module

_LOSS_KINDS = {
    CrossEntropyLoss: _core.LossKind.cross_entropy,
    MSELoss: _core.LossKind.mse,
    BCEWithLogitsLoss: _core.LossKind.bce_with_logits,
}
_TRACED_LOSSES = (CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, BCELoss)
_ELEMENTWISE = (ReLU, LeakyReLU, Sigmoid, Tanh, GELU)
_NO_ACT = _core.Activation.identity
# activations with parameters whose kernel takes one (Softplus's threshold is a second)
_ONE_PARAM = {SiLU: _core.Activation.silu, ELU: _core.Activation.elu}


def _kernel_settings(m: Module) -> tuple[Any, float] | None:
    """The activation kernel and parameter a plan runs for layer ``m``, or None where the
    plan cannot run it (another layer, or a subclass with its own forward)."""
    kind = type(m)
    if kind in _ELEMENTWISE and kind.forward is _Elementwise.forward:
        return m._act, m._param
    if kind in _ONE_PARAM and kind.forward is _ParamElementwise.forward:
        params = m._params()
        if params and not abs(params[0]) <= _FLOAT32_MAX:
            return None  # beyond float32: the eager step raises as torch does
        return _ONE_PARAM[kind], float(params[0]) if params else 0.0
    return None


def _leaves(model: Module, path: str) -> list[tuple[str, Module]]:
    """The layers of a (nested) Sequential in order, with their dotted names."""
    if not isinstance(model, Sequential) or type(model).forward is not Sequential.forward \
            or type(model).backward is not Sequential.backward:
        return [(path, model)]
    out = []
    for name, child in model._modules.items():  # every position, a shared layer each time
        out += _leaves(child, f"{path}.{name}" if path else name)
    return out


def _module_state(model: Module) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """Every submodule's train/eval flag and settings version (bumped by any public
    attribute assignment: ``m.scale = 0.5``, ``drop.p = 0.1``), and the identity of every
    parameter: what a traced program depends on besides the input shapes (one pass, no
    generators)."""
    flags: list[Any] = []
    params: list[int] = []
    stack = [model]
    while stack:
        m = stack.pop()
        d = m.__dict__
        flags.append(d["training"])
        flags.append(d.get("_version", 0))
        params.extend(map(id, m._parameters.values()))
        stack.extend(c for c in m._modules.values() if c is not None)  # None: an empty slot
    return tuple(flags), tuple(params)


class _Unsupported(TypeError):
    """What the one-call C++ plan does not run (a traced step may)."""


def _weighted(loss_fn: Module) -> bool:
    """Whether the loss rescales its terms (class weights, BCE weight / pos_weight): the
    fused kernels and the replay do not, so such a step runs through autograd."""
    return (getattr(loss_fn, "weight", None) is not None
            or getattr(loss_fn, "pos_weight", None) is not None)


def _check_scalar_loss(loss_fn: Module) -> None:
    if loss_fn.reduction == "none":
        raise _unsupported("a loss with reduction='none' is not supported (a training step "
                           "needs one number to minimise: use 'mean' or 'sum')")


def _unsupported(what: str) -> TypeError:
    return _Unsupported(
        f"TrainStep(): {what}; TrainStep runs any Module written with fastnn's modules and "
        "Tensor ops (a Sequential of Linear, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, "
        "ELU, Softmax(dim=-1), Dropout and Identity in one C++ call; anything else traced) with "
        "CrossEntropyLoss, MSELoss, BCELoss or BCEWithLogitsLoss and a fastnn optimizer; use "
        "the layer-by-layer loop for anything else"
    )


_F32, _I64 = np.dtype(np.float32), np.dtype(np.int64)


def _kernel_ready(a: Any, dtype: np.dtype) -> Any:
    """A numeric ndarray ``a`` as a C-contiguous array of ``dtype`` (``_F32`` or ``_I64``),
    converted here rather than in the C++ step: NumPy releases the GIL through a large
    cast, and a daemon thread that the exiting interpreter ends there must not be inside
    the binding's frames (cpp/bindings/gil.h). Anything else (bool, uint64 labels, lists)
    goes to the step's own checks as it is."""
    if type(a) is not np.ndarray or (a.dtype is dtype and a.flags.c_contiguous):
        return a  # the usual batch: nothing to do (a quarter of a microsecond)
    kinds = "fiu" if dtype is _F32 else "iu"
    if a.dtype.kind in kinds and a.dtype != np.uint64:
        return np.ascontiguousarray(a, dtype=dtype)
    return a


class TrainStep:
    r"""One training step (forward, loss, backward, optimizer update) in a single C++ call.

    ``loss = step(x, y)`` does exactly what the layer-by-layer PyTorch-style loop does::

        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()

    with bit-identical parameters, gradients, optimizer state and loss, but with the
    GIL released for the whole step and no per-layer Python overhead. Activations
    and gradients live in workspaces owned by the step, allocated for the largest
    batch seen (a smaller last batch reuses them), so a steady state allocates
    nothing. Everything that can change between steps is read on every call:
    ``optimizer.param_groups`` (so learning-rate schedulers and callbacks work) and
    its state (``load_state_dict`` works), each layer's current ``weight``, ``bias``
    and their ``.grad``, ``model.train()`` / ``model.eval()``, each Dropout's ``p``
    and the loss's ``reduction`` and ``label_smoothing``. Each active Dropout draws
    its seed from the global generator in layer order, as its forward would, so
    :func:`fastnn.manual_seed` gives the same masks on both paths.

    A layer added or replaced, or a kernel setting changed (LeakyReLU's
    ``negative_slope``, GELU's ``approximate``), takes effect at the next call: the
    plan is built again (or, for layers it does not run, the step is traced). The
    step does not update what the modules cache for a layer-by-layer ``backward``
    (run a forward first to use that path again).

    Args:
        model (Module): any Module written with fastnn's modules and Tensor ops. A
            :class:`Sequential` (nested ones are flattened) of :class:`Linear`,
            :class:`ReLU`, :class:`LeakyReLU`, :class:`Sigmoid`, :class:`Tanh`,
            :class:`GELU`, :class:`SiLU`, :class:`ELU`, :class:`Softmax` (``dim=-1``),
            :class:`Dropout` and :class:`Identity`, with at least one ``Linear``, runs as
            one C++ call; any
            other model is traced on its first batch and replayed (or, where tracing
            cannot follow it, run eagerly, with a warning).
        loss_fn (Module): :class:`CrossEntropyLoss`, :class:`MSELoss`,
            :class:`BCELoss` or :class:`BCEWithLogitsLoss`, reduced (``"mean"`` or
            ``"sum"``).
        optimizer (Optimizer): any fastnn optimizer (:class:`fastnn.optim.SGD`,
            ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` update inside the C++
            call); it may hold any parameters (those of the model it does not hold
            still accumulate gradients, as with ``optimizer.zero_grad()``).

    Raises:
        TypeError: naming the loss (e.g. :class:`L1Loss`, :class:`NLLLoss`, or
            ``reduction="none"``) or the object that is not supported.

    Shape:
        - x: :math:`(N, H_{in})`, :math:`N \ge 1`.
        - y: :math:`(N,)` integer class indices for cross-entropy, else
          :math:`(N, H_{out})` like the model's output.
        - Returns: the loss as a Python float.

    Attributes:
        output (np.ndarray): a copy of the last step's model output, :math:`(N, H_{out})`.

    Example::

        >>> model = fn.nn.Sequential(fn.nn.Linear(64, 64), fn.nn.ReLU(), fn.nn.Linear(64, 10))
        >>> loss_fn = fn.nn.CrossEntropyLoss()
        >>> step = fn.nn.TrainStep(model, loss_fn, fn.optim.Adam(model.parameters()))
        >>> for xb, yb in fn.data.DataLoader(X, y, batch_size=32, shuffle=True):
        ...     loss = step(xb, yb)
    """

    def __init__(self, model: Module, loss_fn: Module, optimizer: Any) -> None:
        from ..optim import Optimizer  # fastnn.optim imports fastnn.nn

        if not isinstance(model, Module):
            raise TypeError(f"TrainStep(): the model must be an nn.Module, got "
                            f"{type(model).__name__}")
        if type(loss_fn) not in _TRACED_LOSSES:
            raise _unsupported(f"loss {type(loss_fn).__name__} is not supported")
        _check_scalar_loss(loss_fn)
        if not isinstance(optimizer, Optimizer):
            raise _unsupported(f"optimizer {type(optimizer).__name__} is not supported")
        optimizer._check_holds_any(model.parameters(), "TrainStep()")
        for name, m in model.named_modules():
            if type(m).backward is not Module.backward and \
                    not type(m).__module__.startswith("fastnn."):
                raise _unsupported(f"layer {name or '(model)'} ({type(m).__name__}) defines its "
                                   "own backward (the NumPy path), which a step cannot trace")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        # names the batches' argument in the model's shape errors (fit names its X)
        self.input_name = NamedInput("TrainStep", "x")
        self._labels = type(loss_fn) is CrossEntropyLoss
        self._plan = None
        self._eager_output: Any = None  # the output of a batch the plan ran eagerly
        self._traced: TracedStep | None = None
        self._eager_reason: str | None = None
        self._choose_path()

    def _choose_path(self) -> None:
        """The one-call C++ plan for a Sequential of the layers it runs, else a traced
        program; run again when the layers or their kernel settings change (a model whose
        new layers do not fit raises here and leaves the step as it was)."""
        from ..optim import Optimizer

        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        leaves = _leaves(model, "")
        plan = None
        fused_optimizer = type(optimizer)._kind is not None and \
            type(optimizer).step is Optimizer.step
        if isinstance(model, Sequential) and type(loss_fn) in _LOSS_KINDS and fused_optimizer \
                and not _weighted(loss_fn):  # class / element weights: traced instead
            try:
                specs = self._specs(leaves)
            except _Unsupported:
                specs = None
            if specs is not None:
                plan = _core.TrainPlan(specs, _LOSS_KINDS[type(loss_fn)], type(optimizer)._kind)
        self._top = tuple(m for _, m in leaves)
        # what the plan copied from the activations (LeakyReLU's slope, GELU's form)
        self._settings = [(m, _kernel_settings(m)) for _, m in leaves
                          if _kernel_settings(m) is not None]
        self._dropouts = [m for _, m in leaves if isinstance(m, Dropout)]
        self._plan = plan
        if plan is None:  # a program traced anew for these layers
            self._traced = TracedStep(model, loss_fn, optimizer)
            self._eager_reason = None

    def _layers_changed(self) -> bool:
        """Whether a Sequential's layers, or a kernel setting the plan copied, changed
        since :meth:`_choose_path` read them."""
        layers = [m for _, m in _leaves(self.model, "")]
        return (len(layers) != len(self._top)  # by identity: a layer's __eq__ may be anything
                or any(m is not old for m, old in zip(layers, self._top))
                or any(_kernel_settings(m) != settings for m, settings in self._settings))

    @staticmethod
    def _specs(leaves: list[tuple[str, Module]]) -> list[tuple]:
        """One ``(kind, in, out, bias, activation, param, module)`` tuple per computing layer."""
        first = next((m for _, m in leaves if type(m) is Linear), None)
        if first is None:
            raise _unsupported("the model has no Linear layer")
        width = first.in_features
        specs = []
        for name, m in leaves:
            kind = type(m)
            if kind is Linear:
                if m.in_features != width:
                    raise ValueError(f"TrainStep(): layer {name} (Linear) takes {m.in_features} "
                                     f"features, the layer before gives {width}")
                specs.append((_core.LayerKind.linear, width, m.out_features, m.bias is not None,
                              _NO_ACT, 0.0, m))
                width = m.out_features
            elif _kernel_settings(m) is not None:
                act, param = _kernel_settings(m)
                specs.append((_core.LayerKind.activation, width, width, False, act, param, None))
            elif kind is Softmax and m.dim in (-1, 1):
                specs.append((_core.LayerKind.softmax, width, width, False, _NO_ACT, 0.0, None))
            elif kind is Dropout:
                specs.append((_core.LayerKind.dropout, width, width, False, _NO_ACT, 0.0, None))
            elif kind is not Identity:
                what = "Softmax with dim other than -1" if kind is Softmax else kind.__name__
                raise _unsupported(f"layer {name} ({what}) is not supported")
        return specs

    def _prepare(self) -> list[tuple[dict[str, Any], list[tuple]]]:
        opt = self.optimizer
        opt._recheck()
        return [(group, opt._group_tensors(group)) for group in opt.param_groups]

    def __call__(self, x: Any, y: Any) -> float:
        """One training step on the batch ``x`` (N, in_features) and targets ``y``: forward, loss,
        backward and optimizer update; returns the loss as a float."""
        _check_scalar_loss(self.loss_fn)  # the reduction may change after the build
        if isinstance(self.model, Sequential) and self._layers_changed():
            # a layer added or replaced, or a setting the plan copied (LeakyReLU's slope)
            # changed: a new plan, or the traced program where the plan cannot run them
            self._choose_path()
        if self._plan is None:
            return self._traced_call(x, y)
        if self._labels:
            y = np.asarray(y)
            if y.dtype.kind not in "iu":
                y = _class_labels(y, "TrainStep")
            # the fused kernels have no ignore and no class weights (a weight set after the
            # step was built): such a batch runs eagerly
            if np.any(y == self.loss_fn.ignore_index) or self.loss_fn.weight is not None:
                return self._eager_call(x, y.astype(np.int64, copy=False))
        elif _weighted(self.loss_fn):  # BCE weights set after the build: eager too
            return self._eager_call(x, as_float32(y, "TrainStep", "y"))
        self._eager_output = None
        x, y = _kernel_ready(x, _F32), _kernel_ready(y, _I64 if self._labels else _F32)
        loss = self.loss_fn
        drops = [(d.p, next_seed()) if d.training and d.p != 0.0 else None
                 for d in self._dropouts]
        smoothing = loss.label_smoothing if self._labels else 0.0
        return self._plan.step(x, y, drops, _REDUCTIONS[loss.reduction], smoothing, self._prepare)

    def _eager_call(self, x: Any, y: np.ndarray) -> float:
        """One eager autograd step on the plan's model (a batch the plan cannot run: targets
        equal to the loss's ``ignore_index``, or loss weights); the optimizer state is the
        plan's."""
        x = np.ascontiguousarray(as_float32(x, "TrainStep", "x"))
        value, self._eager_output = eager_step(self.model, self.loss_fn, self.optimizer, x, y,
                                               self.input_name)
        return value

    def _traced_call(self, x: Any, y: Any) -> float:
        x = as_float32(x, "TrainStep", "x")
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        if self._labels:
            y = np.asarray(y)
            y = (y.astype(np.int64, copy=False) if y.dtype.kind in "iu"
                 else _class_labels(y, "TrainStep"))
        else:
            y = as_float32(y, "TrainStep", "y")
        traced = self._traced
        if _weighted(self.loss_fn) and self._eager_reason is None:
            self._warn_eager("the loss has weights, which a replay does not apply")
        if self._eager_reason is not None or (
                self._labels and np.any(y == self.loss_fn.ignore_index)):
            value, traced.output = eager_step(self.model, self.loss_fn, self.optimizer, x, y,
                                              self.input_name)
            return value
        key = (x.shape, y.shape) + _module_state(self.model)
        if key == traced.key:
            return traced.replay(x, y)
        value, reason = traced.trace(x, y, key, self.input_name,
                                     lambda why: self._warn_eager(why, stacklevel=6))
        if reason is None and traced.key is not None:
            # a forward that assigns a public attribute (self.features = h) bumped a module's
            # version while tracing: key the program on the state it left, or every call
            # would retrace (the replay does not run that assignment)
            traced.key = (x.shape, y.shape) + _module_state(self.model)
        return value

    def _warn_eager(self, reason: str, stacklevel: int = 4) -> None:
        """From now on every step runs the eager loop; says so once (``stacklevel``: the
        caller of ``TrainStep.__call__``)."""
        self._eager_reason = reason
        warnings.warn(f"TrainStep: this model's forward cannot be traced ({reason}); every "
                      "step runs the eager autograd loop instead (same results, slower)",
                      RuntimeWarning, stacklevel=stacklevel)

    @property
    def one_call(self) -> bool:
        """Whether each step is one C++ call built from the layers (a Sequential of built-in
        layers), rather than a traced program."""
        return self._plan is not None

    @property
    def traced(self) -> bool:
        """Whether steps replay a traced program (``False``: the C++ plan or the eager loop)."""
        return self._plan is None and self._traced is not None and self._eager_reason is None

    @property
    def output(self) -> np.ndarray:
        if self._plan is None:
            out = self._traced.last_output()
            if out is None:
                raise RuntimeError("TrainStep.output: no step has run yet")
            return np.array(out, copy=True)
        if self._eager_output is not None:
            return np.array(self._eager_output, copy=True)
        return self._plan.output()

    def __repr__(self) -> str:
        return (f"TrainStep(model={type(self.model).__name__}, loss_fn={self.loss_fn!r}, "
                f"optimizer={type(self.optimizer).__name__})")
