"""``Tensor``: an n-d array that records the operations applied to it, for ``backward()``.

A Tensor wraps one NumPy array (``_data``: float32 values, int64 or bool labels,
indices and masks). With ``requires_grad=True``, every differentiable op on it
(``fastnn.autograd.ops_*``, bound as methods at import) records a
:class:`~fastnn.autograd.graph.Node` on its result, and ``backward()`` walks them
in reverse. The class uses ``__slots__`` and the ops create no per-op dicts, so
the Python cost of one op stays near that of the NumPy call under it.

Storage versions: views (``view``, ``reshape``, ``transpose``, basic indexing,
``detach``, ``.data``) share their base's version counter; in-place writes bump it,
and a node that saved a value refuses to run if the counter moved since.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from . import dtypes
from .device import CPU, device
from .grad_mode import _state, note_escape
from .graph import GradSink, Node, run_backward
from .numpy_names import both_given
from .printing import tensor_body, with_suffixes

_new = object.__new__


class Tensor:
    r"""A CPU n-d array with PyTorch's autograd semantics.

    Create Tensors with :func:`fastnn.tensor`, :func:`fastnn.zeros`, ... or
    ``Tensor(data)`` (float32, like ``torch.Tensor``). Floating data is float32
    (float64 input is converted once, unless ``dtype=fastnn.float64`` is asked
    for); integer data is int64 and booleans stay bool.

    Attributes:
        grad (Tensor or None): the gradient accumulated by ``backward()`` into a
            leaf that requires grad; ``None`` until a backward reaches it.
        grad_fn: the node that produced this Tensor (``None`` for a leaf).
        requires_grad (bool): whether operations on it are recorded.

    Example::

        >>> x = fn.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x ** 2).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_rg", "grad_fn", "_grad", "_vc", "_retain", "__weakref__")
    __array_priority__ = 1000  # NumPy defers binary operators to the Tensor (see _methods)

    def __init__(self, *args: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = dtypes.convert(args[0], dtype or dtypes.float32, "Tensor()", copy=True)
        elif all(isinstance(a, (int, np.integer)) for a in args):
            data = np.zeros(tuple(as_int(a, "Tensor", "size", "a tuple of ints") for a in args),
                            dtype or dtypes.float32)  # Tensor(True) is no shape (1,)
        else:
            raise TypeError("Tensor(): expected data or integer sizes")
        self._data = data
        self._rg = False
        self.grad_fn = None
        self._grad = None
        self._vc = None
        self._retain = False
        if requires_grad:
            self.requires_grad_(True)

    # -- basic attributes ----------------------------------------------------
    @property
    def shape(self) -> Size:
        return _as_size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self) -> device:
        """``fn.device("cpu")``: prints as ``cpu``, equals ``"cpu"``, has ``.type``."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    # NumPy idioms that code written for ``Parameter.data`` / ``.grad`` as ndarrays uses
    # (API.md, Modules), where PyTorch has no attribute of the same name.
    @property
    def flags(self) -> Any:
        """The NumPy flags of the underlying array (contiguity, writeability)."""
        return self._data.flags

    @property
    def nbytes(self) -> int:
        """Bytes of the values, as ``numpy.ndarray.nbytes``."""
        return self._data.nbytes

    @property
    def itemsize(self) -> int:
        """Bytes per element, as ``numpy.ndarray.itemsize`` (PyTorch: ``element_size()``)."""
        return self._data.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        """Byte steps per dimension, as ``numpy.ndarray.strides``."""
        return self._data.strides

    def astype(self, dtype: Any, copy: bool = True) -> np.ndarray:
        """The values as a NumPy array of ``dtype``, as ``numpy.ndarray.astype`` (outside
        the graph; use :meth:`to` for a Tensor)."""
        note_escape("Tensor.astype()")
        return self._data.astype(dtype, copy=copy)

    def dim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> _Size:
        """``x.size()`` is the shape and ``x.size(d)`` its length along ``d``, as in PyTorch;
        ``x.size`` used as a number is the element count, as for a NumPy array."""
        return _Size(self._data.size, self._data.shape)

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- autograd state --------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets ``requires_grad`` in place (leaves only; float dtypes only). Returns self."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"got {self._data.dtype}")
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad = _checked_grad(self, value)

    def retain_grad(self) -> None:
        """Makes this non-leaf keep its ``.grad`` after ``backward()``."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retain = True

    @property
    def retains_grad(self) -> bool:
        return self._retain

    def _accumulate(self, g: np.ndarray) -> None:
        """Adds ``g`` into ``.grad`` (a new Tensor the first time)."""
        cur = self._grad
        if cur is None:
            self._grad = _wrap(np.array(g, dtype=self._data.dtype, order="C", copy=True))
        else:
            cur._data += g

    def _grad_sink(self) -> np.ndarray:
        """The array that kernels accumulate this leaf's gradient into (zeros if unset)."""
        g = self._grad
        if g is None:
            g = self._grad = _wrap(np.zeros_like(self._data))
        return g._data

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        r"""Computes the gradient of this Tensor with respect to the graph's leaves.

        Gradients accumulate into the ``.grad`` of every leaf that requires grad.
        Without ``retain_graph=True`` the graph is freed afterwards.

        Args:
            gradient (Tensor or array_like, optional): :math:`\partial L / \partial
                \text{self}`, of this Tensor's shape. Required unless this Tensor
                has one element (then 1 is used).
            retain_graph (bool, optional): keep the graph for another backward.
                Default: ``False``.
            create_graph (bool): higher-order gradients are not supported; must be
                ``False``.
            inputs (Tensor or sequence of Tensors, optional): accumulate into these
                Tensors' ``.grad`` only (leaves or not); every other ``.grad`` is left
                alone. Default: ``None``, every leaf.

        Raises:
            RuntimeError: this Tensor does not require grad, ``gradient`` is missing
                for a non-scalar, the graph was already freed, or a saved value was
                changed in place.
        """
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): higher-order gradients "
                                      "are not supported by fastnn")
        if not self._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(this Tensor has shape {tuple(self.shape)}); pass "
                                   "gradient= with that shape")
            g = np.ones(self._data.shape, self._data.dtype)
        else:
            g = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient)
            if g.dtype.kind not in "fiub":
                raise TypeError(f"backward(): argument 'gradient' must be numeric, got dtype "
                                f"{g.dtype}")
            if g.shape != self._data.shape:
                raise RuntimeError(f"backward(): Mismatch in shape: grad_output[0] has a shape "
                                   f"of {tuple(g.shape)} and output[0] has a shape of "
                                   f"{tuple(self.shape)}")
            g = g.astype(self._data.dtype, copy=False)
        if inputs is None:
            run_backward(self, g, bool(retain_graph))
            return
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not targets or not all(isinstance(t, Tensor) for t in targets):
            raise RuntimeError("backward(): argument 'inputs' must be a Tensor or a non-empty "
                               "sequence of Tensors")
        sink = GradSink(targets)
        run_backward(self, g, bool(retain_graph), sink)
        for t in targets:
            if sink.get(t) is not None:
                t._accumulate(sink.get(t))

    def detach(self) -> Tensor:
        """A Tensor sharing this one's storage, outside the graph (``requires_grad=False``)."""
        out = _wrap(self._data)
        out._vc = _share_vc(self)
        return out

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self) -> Tensor:
        """This Tensor's values, detached from the graph (shares storage). Unlike
        ``detach()``, and as in PyTorch, changes through it are not tracked: an in-place
        update of ``w.data`` between a forward and its backward goes unchecked."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else dtypes.convert(
            value, self._data.dtype, "Tensor.data", copy=False)

    # -- conversion ------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory (``detach()`` first if it requires grad
        while grad mode is on; under ``no_grad()`` it is allowed, as in PyTorch)."""
        if self._rg and not force and _state.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        note_escape("Tensor.numpy()")
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        note_escape("a NumPy conversion of a Tensor")
        a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def copy(self) -> np.ndarray:
        """A NumPy copy of the values (for code written against NumPy arrays)."""
        return self._data.copy()

    def tobytes(self, order: str = "C") -> bytes:
        """The raw bytes of the values, as ``numpy.ndarray.tobytes``."""
        note_escape("Tensor.tobytes()")
        return self._data.tobytes(order)

    def item(self) -> Any:
        note_escape("Tensor.item()")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(-1)[0].item()

    def tolist(self) -> Any:
        note_escape("Tensor.tolist()")
        return self._data.tolist()

    def __bool__(self) -> bool:
        note_escape("bool() of a Tensor (Python control flow on a value)")
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is "
                               "ambiguous")
        return bool(self._data.reshape(-1)[0])

    def _scalar(self) -> Any:
        if self._data.size != 1:  # PyTorch's type and words for float(t) / int(t)
            raise ValueError("only one element tensors can be converted to Python scalars "
                             f"(this one has {self._data.size})")
        return self.item()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        note_escape("a Tensor used as a Python index")
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        """A 0-d Tensor formats as its value (``f"{loss}"``, ``f"{loss:.4f}"``), as in
        PyTorch; another one-element Tensor does with a format spec."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec and self._data.size == 1:
            return format(self._data.reshape(-1)[0].item(), spec)
        return format(repr(self), spec)

    def __contains__(self, element: Any) -> bool:
        """``element in x``: whether any element of ``x`` equals it, as in PyTorch (Python's
        default iterates over rows, ambiguous for a 2-D ``x``)."""
        value = element._data if isinstance(element, Tensor) else element
        if not isinstance(value, (int, float, bool, np.number, np.bool_, np.ndarray)):
            raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element).__name__}.")
        return bool(np.any(self._data == value))

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self) -> str:
        body = tensor_body(self._data)
        extras = []
        if self._data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_) or (
                self._data.size == 0 and self._data.dtype != dtypes.float32):
            extras.append(f"dtype=fastnn.{self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._rg:
            extras.append("requires_grad=True")
        return with_suffixes("tensor(" + body, extras)

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._data.copy(), self._rg))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        out = type(self).__new__(type(self))
        _init_copy(out, self)
        memo[id(self)] = out
        return out

    # -- dtype and device ------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to("cpu")`` or ``to(device, dtype)``: a converted Tensor (or self)."""
        dtype = kwargs.pop("dtype", None)
        for a in (*args, kwargs.pop("device", None)):
            if a is not None and not _is_cpu(a):
                if _is_device(a):
                    raise RuntimeError(f"to(): fastnn runs on the CPU only, got device {a!r}")
                dtype = a
        if kwargs:
            unknown = ", ".join(k for k in kwargs if k not in ("non_blocking", "copy"))
            if unknown:
                raise TypeError(f"to(): unexpected keyword argument(s) {unknown}")
        if dtype is None:
            return self
        if isinstance(dtype, Tensor):
            dtype = dtype.dtype
        dtype = dtypes.as_dtype(dtype, "to()")
        if dtype == self._data.dtype:
            return self
        from .ops_math import cast
        return cast(self, dtype)

    def type(self, dtype: Any = None) -> Any:
        """Without ``dtype`` the type's name (``"fastnn.FloatTensor"``); with a dtype, a
        legacy type (``fn.LongTensor``) or its name, the converted Tensor."""
        from .legacy_types import type_dtype, type_name
        if dtype is None:
            return type_name(self._data.dtype)
        return self.to(type_dtype(dtype))

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        """Self when its values are C-contiguous, else a contiguous copy (on the graph)."""
        if self._data.flags.c_contiguous:
            return self
        from .ops_math import clone
        return clone(self)

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    # -- in-place writes -------------------------------------------------------
    def _bump(self) -> None:
        if self._vc is not None:
            self._vc[0] += 1

    def _check_inplace(self) -> None:
        if self._rg and self.grad_fn is None and _state.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Sets every element to ``value`` (a number or a 0-d Tensor) in place; on the graph
        as an assignment: no gradient reaches what produced the old values, a Tensor
        ``value`` takes the sum of the gradient."""
        self._check_inplace()
        tensor = isinstance(value, Tensor)
        if tensor and value._data.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got "
                               f"tensor with {value._data.ndim} dimensions.")
        if _state.enabled and (self._rg or (tensor and value._rg)):
            from .ops_shape import copy_into
            return copy_into(self, value)  # recorded as an assignment
        if not self._data.flags.writeable:
            from .ops_shape import _check_writeable
            _check_writeable(self)
        self._data.fill(value.item() if tensor else value)
        self._bump()
        return self

    def fill(self, value: Any) -> None:
        """Sets every element to ``value`` in place and returns ``None``, as
        ``numpy.ndarray.fill`` (for code that zeroes ``Parameter.grad`` as an ndarray;
        PyTorch's spelling is :meth:`fill_`)."""
        self.fill_(value)

    def copy_(self, src: Any) -> Tensor:
        """Copies ``src`` (broadcast to this shape) into this Tensor, in place."""
        from .ops_shape import copy_into
        return copy_into(self, src)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from .._random import default_generator
        self._check_inplace()
        self._data[...] = default_generator().uniform(a, b, self._data.shape)
        self._bump()
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from .._random import default_generator
        self._check_inplace()
        self._data[...] = default_generator().normal(mean, std, self._data.shape)
        self._bump()
        return self


class _Size(int):
    """The element count that, called, answers PyTorch's ``size()`` / ``size(dim)``."""

    def __new__(cls, count: int, shape: tuple[int, ...]) -> _Size:
        obj = super().__new__(cls, count)
        obj.shape = shape
        return obj

    def __reduce__(self) -> tuple:  # pickled and deep-copied as the plain element count
        return (int, (int(self),))

    def __call__(self, dim: Any = None, *, axis: Any = None) -> Any:
        if axis is not None:  # NumPy's name, which PyTorch also takes
            if dim is not None:
                raise both_given("size")
            dim = axis
        if dim is None:
            return _as_size(self.shape)
        return self.shape[_check_dim(dim, len(self.shape), "size")]


class Size(tuple):
    """A Tensor's shape (``x.shape``, ``x.size()``), as ``torch.Size``: a tuple of ints
    that prints as ``fastnn.Size([2, 3])``. It equals and hashes as the plain tuple, and
    NumPy takes it as a shape; slicing, ``+`` and ``*`` give a Size, as in torch."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        return super().__new__(cls, [as_int(n, "Size", "sizes", "an iterable of ints")
                                     for n in sizes])

    def __repr__(self) -> str:
        return f"fastnn.Size({list(self)})"

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return _as_size(item) if isinstance(key, slice) else item

    def __add__(self, other: Any) -> Any:
        out = tuple.__add__(self, other)
        return _as_size(out) if out is not NotImplemented else out

    def __radd__(self, other: Any) -> Any:  # (1,) + size: called before tuple's __add__
        return _as_size(other + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, n: Any) -> Any:
        out = tuple.__mul__(self, n)
        return _as_size(out) if out is not NotImplemented else out

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements of a Tensor of this shape."""
        return math.prod(self)


# ``shape`` (ints already, e.g. a NumPy shape) as a Size, without ``Size()``'s checks and
# without a Python call: ``Tensor.shape`` is read often
_as_size = functools.partial(tuple.__new__, Size)


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(data)
    t._rg = requires_grad
    return t


def _init_copy(out: Tensor, src: Tensor) -> None:
    out._data = src._data.copy()
    out._rg = src._rg
    out.grad_fn = None
    out._grad = None if src._grad is None else _wrap(src._grad._data.copy())
    out._vc = None
    out._retain = False


def _wrap(data: np.ndarray) -> Tensor:
    """A leaf Tensor around ``data`` (no copy, no checks): the fast constructor for ops."""
    t = _new(Tensor)
    t._data = data
    t._rg = False
    t.grad_fn = None
    t._grad = None
    t._vc = None
    t._retain = False
    return t


def _result(data: Any, vjp: Callable[..., tuple] | None, inputs: tuple, saved: tuple = (),
            stamps: tuple = ()) -> Tensor:
    """The output Tensor of an op, with a recorded node when ``vjp`` is given."""
    t = _new(Tensor)
    t._data = data if type(data) is np.ndarray else np.asarray(data)
    t._grad = None
    t._vc = None
    t._retain = False
    if vjp is None:
        t._rg = False
        t.grad_fn = None
    else:
        t._rg = True
        t.grad_fn = Node(vjp, inputs, saved, stamps)
    return t


def named(t: Tensor, name: str | None) -> Tensor:
    """``t`` with its node (if any) printed under PyTorch's ``name`` (``"ReluBackward0"``):
    for ops whose backward function is shared, or named otherwise than PyTorch's."""
    if name is not None and t.grad_fn is not None:
        t.grad_fn.label = name
    return t


def _share_vc(t: Tensor) -> list[int]:
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return vc


def stamp(t: Tensor) -> tuple[list[int], int]:
    """The (counter, version) of ``t``'s storage now, for a node that saves its value."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return (vc, vc[0])


def _checked_grad(t: Tensor, value: Any) -> Tensor | None:
    if value is None:
        return None
    g = value if isinstance(value, Tensor) and not isinstance(value, np.ndarray) else _wrap(
        dtypes.convert(value, t._data.dtype, "Tensor.grad", copy=False))  # (a TensorArray too)
    if g.shape != t.shape:
        raise RuntimeError(f"assigned grad has data of a different size: expected shape "
                           f"{tuple(t.shape)}, got {tuple(g.shape)}")
    if g.dtype != t.dtype:
        raise RuntimeError(f"assigned grad has data of a different type: expected "
                           f"{t.dtype}, got {g.dtype}")
    return g


_DEVICE_TYPES = frozenset(("cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia",
                           "vulkan", "privateuseone", "lazy"))


def _is_device(a: Any) -> bool:
    """Whether ``a`` names a device (``"cuda"``, ``"cuda:1"``, a ``device`` object)."""
    if isinstance(a, str):
        return a.split(":")[0] in _DEVICE_TYPES
    return isinstance(getattr(a, "type", None), str) and not isinstance(a, type)


def _is_cpu(a: Any) -> bool:
    return (isinstance(a, str) and a.split(":")[0] == "cpu") or getattr(a, "type", None) == "cpu"


def as_int(value: Any, func: str, arg: str, expected: str = "int") -> int:
    """``value`` (a size, a dim or a count) as a Python int: an int, a NumPy integer or a
    one-element integer Tensor, as torch accepts.

    Raises:
        TypeError: a float, a str, a bool or anything else, as in torch (``int()`` used to
            truncate 2.9 to 2, read "3" as 3 and True as 1, silently).
    """
    if type(value) is int:  # the common case, first: ops check their dims with this
        return value
    if not isinstance(value, (bool, np.bool_)):
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, Tensor) and value._data.dtype.kind in "iu":
            return value.__index__()  # one element only, as torch
    kind = f"Tensor of dtype {value.dtype}" if isinstance(value, Tensor) else \
        type(value).__name__
    raise TypeError(f"{func}(): argument '{arg}' must be {expected}, not {kind}")


def _check_dim(dim: Any, ndim: int, func: str, arg: str = "dim") -> int:
    d = dim if type(dim) is int else as_int(dim, func, arg)
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{func}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d % n


def check_dims(dims: Any, ndim: int, func: str) -> tuple[int, ...]:
    """``dims`` (one dim or a tuple or list of them) as non-negative dims, in order.

    Raises:
        IndexError: a dim out of range.
        RuntimeError: a dim named twice (``(0, 0)`` or ``(0, -2)`` of a 2-d Tensor), as
            torch (NumPy summed over it once, silently).
    """
    if not isinstance(dims, (tuple, list)):
        return (_check_dim(dims, ndim, func),)
    out = tuple([_check_dim(d, ndim, func) for d in dims])
    if len(set(out)) != len(out):
        twice = next(d for i, d in enumerate(out) if d in out[:i])
        raise RuntimeError(f"{func}(): dim {twice} appears multiple times in the list of dims")
    return out

