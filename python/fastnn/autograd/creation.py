"""Creation functions: ``tensor``, ``as_tensor``, ``from_numpy``, ``zeros``, ``randn``, ...

Each takes ``dtype=`` and ``requires_grad=`` as in PyTorch (``device=`` is accepted
for ``"cpu"``). Random values come from fastnn's global generator, so
:func:`fastnn.manual_seed` makes them reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._random import rng_of
from . import dtypes
from .errors import InputError
from .tensor import Tensor, _is_cpu, _wrap, as_int


def _finish(data: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    if device is not None and not _is_cpu(device):
        raise RuntimeError(f"fastnn runs on the CPU only; device {device!r} is not available")
    t = _wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size: tuple[Any, ...], func: str, size_kw: Any = None) -> tuple[int, ...]:
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``
    (``size_kw``)."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{func}(): got the size both as positional arguments and as "
                            "'size'")
        size = (size_kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(as_int(s, func, "size", "a tuple of ints") for s in size)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{func}(): Trying to create tensor with negative dimension: {shape}")
    return shape


def _float_dtype(dtype: Any, func: str) -> np.dtype:
    return dtypes.float32 if dtype is None else dtypes.as_dtype(dtype, func)


def _random_float_dtype(dtype: Any, func: str) -> np.dtype:
    """``dtype`` for random floats (float32 by default); an integer or bool dtype raises,
    as PyTorch's (the samples were truncated to integers: mostly 0)."""
    dt = _float_dtype(dtype, func)
    if np.dtype(dt).kind != "f":
        raise NotImplementedError(f"{func}: dtype {np.dtype(dt).name} is not supported: "
                                  "random floats need a floating dtype (float32, float64)")
    return dt


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new Tensor holding a copy of ``data`` (float32 for floating data, int64 for integers)."""
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)):
        data = _tensors_as_scalars(data, "tensor()")
    return _finish(dtypes.convert(data, dtype, "tensor()", copy=True), requires_grad, device)


def _tensors_as_scalars(data: list | tuple, func: str) -> Any:
    """``data`` with every Tensor nested in its lists and tuples replaced by its one value
    (PyTorch reads such a Tensor as a Python scalar: ``tensor([t])`` has shape ``(1,)``
    for a one-element ``t`` of any shape); ``data`` itself when it holds no Tensor.

    Raises:
        ValueError: a nested Tensor has more than one element (PyTorch's message).
    """
    if not any(issubclass(t, (Tensor, list, tuple)) for t in set(map(type, data))):
        return data  # numbers only (a C-speed scan): nothing to replace
    out = None
    for i, d in enumerate(data):
        if isinstance(d, Tensor):
            if d._data.size != 1:
                raise ValueError(f"{func}: only one element tensors can be converted to Python "
                                 f"scalars (got a Tensor of shape {tuple(d._data.shape)} inside "
                                 "a list; use fn.stack or fn.cat to join Tensors)")
            v = d._data.reshape(()).item()
        elif isinstance(d, (list, tuple)):
            v = _tensors_as_scalars(d, func)
        else:
            continue
        if out is None:
            out = list(data)
        out[i] = v
    return data if out is None else out


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing memory when it already has the right dtype."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, (list, tuple)):
        data = _tensors_as_scalars(data, "as_tensor()")
    return _finish(dtypes.convert(data, dtype, "as_tensor()", copy=False), False, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory (and its dtype, as in PyTorch)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray (got {type(array).__name__})")
    if array.dtype.kind not in "fiub" or array.dtype.itemsize > 8:  # float128 too
        raise TypeError(f"from_numpy(): can't convert np.ndarray of type {array.dtype}. The "
                        "only supported types are: float64, float32, float16, int64, int32, "
                        "int16, int8, uint64, uint32, uint16, uint8, and bool.")
    if not array.dtype.isnative:  # as torch: the kernels read native floats
        raise ValueError("from_numpy(): given numpy array has byte order different from the "
                         f"native byte order ({array.dtype.str}); convert it first with "
                         "array.astype(array.dtype.newbyteorder('='))")
    return _wrap(array if type(array) is np.ndarray else np.ndarray.view(array, np.ndarray))


def _into(result: Tensor, out: Any, name: str) -> Tensor:
    """PyTorch's ``out=`` of a creation function: ``result`` written into ``out``."""
    if out is None:
        return result
    from ..torch_api import _write_out
    return _write_out(result, out, name)


def _dtype_of_out(dtype: Any, out: Any) -> Any:
    """Without ``dtype``, a creation function with ``out=`` makes ``out``'s dtype; another
    ``dtype`` than ``out``'s is an error (torch)."""
    if not isinstance(out, Tensor):
        return dtype
    if dtype is not None and dtypes.as_dtype(dtype, "out=") != out.dtype:
        raise RuntimeError(f"dtype {dtypes.as_dtype(dtype, 'out=')} does not match dtype of "
                           f"out parameter ({out.dtype})")
    return out.dtype


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Any = None) -> Tensor:
    """A Tensor of zeros of shape ``sizes`` (ints, or one sequence), float32 unless ``dtype``
    says otherwise; ``out=`` receives it (resized as PyTorch, and returned)."""
    dtype = _dtype_of_out(dtype, out)
    return _into(_finish(np.zeros(_size(sizes, "zeros", size), _float_dtype(dtype, "zeros()")),
                         requires_grad, device), out, "zeros")


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None) -> Tensor:
    """A Tensor of ones of shape ``sizes``, as :func:`zeros`."""
    dtype = _dtype_of_out(dtype, out)
    return _into(_finish(np.ones(_size(sizes, "ones", size), _float_dtype(dtype, "ones()")),
                         requires_grad, device), out, "ones")


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A Tensor of shape ``sizes`` whose values are not to be relied on (zeros here)."""
    return _finish(np.zeros(_size(sizes, "empty", size), _float_dtype(dtype, "empty()")),
                   requires_grad, device)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None) -> Tensor:
    """A Tensor of shape ``size`` filled with ``fill_value``; its dtype is the value's
    (bool, int64 or float32) unless ``dtype`` (or ``out``) says otherwise."""
    dtype = _dtype_of_out(dtype, out)
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind
        dtype = dtypes.bool_ if kind == "b" else dtypes.int64 if kind in "iu" else dtypes.float32
    return _into(_finish(np.full(_size((size,), "full"), fill_value,
                                 dtypes.as_dtype(dtype, "full()")), requires_grad, device),
                 out, "full")


def _like(x: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
    if dtype is None:
        dtype = x.dtype if isinstance(x, Tensor) else dtypes.float32
    return shape, dtypes.as_dtype(dtype, "*_like()")


def zeros_like(x: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape, and dtype unless ``dtype`` says otherwise."""
    shape, dt = _like(x, dtype)
    return _finish(np.zeros(shape, dt), requires_grad, device)


def ones_like(x: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape, and dtype unless ``dtype`` says otherwise."""
    shape, dt = _like(x, dtype)
    return _finish(np.ones(shape, dt), requires_grad, device)


def full_like(x: Any, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``x``'s shape, and dtype unless ``dtype`` says otherwise."""
    shape, dt = _like(x, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad, device)


def empty_like(x: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A Tensor of ``x``'s shape whose values are not to be relied on (zeros here)."""
    return zeros_like(x, dtype, device, requires_grad)


def randn(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Standard normal samples from ``generator`` (a :class:`fastnn.Generator`), by
    default fastnn's global state."""
    dt = _random_float_dtype(dtype, "randn()")
    values = rng_of(generator, "randn()").standard_normal(_size(sizes, "randn", size)).astype(dt)
    return _finish(values, requires_grad, device)


def rand(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform samples in [0, 1) from ``generator``, by default fastnn's global state."""
    dt = _random_float_dtype(dtype, "rand()")
    values = rng_of(generator, "rand()").random(_size(sizes, "rand", size)).astype(dt)
    return _finish(values, requires_grad, device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples of mean ``mean`` and standard deviation ``std``, as PyTorch's
    ``torch.normal``: numbers with ``size`` (``normal(0, 0.01, (n, 2))``), or Tensors
    (element-wise, their broadcast shape) without it."""
    func = "normal()"
    if size is None and not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
        raise TypeError(f"{func}: give size with numbers for mean and std, or Tensors")
    m = np.asarray(mean._data if isinstance(mean, Tensor) else mean, np.float64)
    s = np.asarray(std._data if isinstance(std, Tensor) else std, np.float64)
    if (s < 0).any() or not np.isfinite(s).all():
        raise RuntimeError(f"normal expects all elements of std >= 0.0, got {s.min()}")
    shape = np.broadcast_shapes(m.shape, s.shape) if size is None else _size((size,), "normal")
    if dtype is None:  # a float64 Tensor mean or std gives float64 samples, as PyTorch's
        wide = [t for t in (mean, std) if isinstance(t, Tensor) and t._data.dtype == np.float64]
        dtype = dtypes.float64 if wide else None
    dt = _random_float_dtype(dtype, func)
    z = rng_of(generator, func).standard_normal(shape)
    return _finish((m + s * z).astype(dt), requires_grad, device)


def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples in ``x``'s shape (fastnn's global generator)."""
    shape, dt = _like(x, dtype)
    return randn(shape, dtype=dt, requires_grad=requires_grad)


def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) in ``x``'s shape (fastnn's global generator)."""
    shape, dt = _like(x, dtype)
    return rand(shape, dtype=dt, requires_grad=requires_grad)


def randint(*args: Any, dtype: Any = None, device: Any = None, generator: Any = None,
            requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    low = kwargs.pop("low", None)
    high = kwargs.pop("high", None)
    size = kwargs.pop("size", None)
    rest = list(args)
    if size is None and rest and isinstance(rest[-1], (tuple, list)):
        size = rest.pop()
    if len(rest) == 2:
        low, high = rest
    elif len(rest) == 1:
        if high is None:
            high = rest[0]
        else:
            low = rest[0]
    if low is None:
        low = 0
    if high is None or size is None:
        raise TypeError("randint(): expected randint(high, size) or randint(low, high, size)")
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype, "randint()")
    low, high = as_int(low, "randint", "low"), as_int(high, "randint", "high")
    if low >= high:  # PyTorch's RuntimeError (NumPy's ValueError says "low >= high")
        raise InputError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                         f">= to={high}")
    values = rng_of(generator, "randint()").integers(low, high, _size((size,), "randint"))
    return _finish(values.astype(dt), requires_grad, device)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` drawn from ``generator`` (default: the global
    state)."""
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype, "randperm()")
    values = rng_of(generator, "randperm()").permutation(as_int(n, "randperm", "n"))
    return _finish(values.astype(dt), requires_grad, device)


def arange(start: Any = None, end: Any = None, step: Any = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (default 0) up to ``end`` (excluded) by ``step``:
    ``arange(5)``, ``arange(1, 5)``, ``arange(end=5)``, ``arange(0, 1, 0.25)``."""
    if start is None and end is None:
        raise TypeError("arange(): missing the end value")
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    if dtype is None:
        floating = any(isinstance(v, float) or (isinstance(v, Tensor) and v.is_floating_point())
                       for v in (start, end, step))
        dtype = dtypes.float32 if floating else dtypes.int64
    start, end, step = (float(v) if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    values = np.arange(start, end, step)
    return _finish(values.astype(dtypes.as_dtype(dtype, "arange()")), requires_grad, device)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    steps = as_int(steps, "linspace", "steps")
    if steps < 0:
        raise InputError(f"linspace(): number of steps must be non-negative, got {steps}")
    values = np.linspace(float(start), float(end), steps)
    return _finish(values.astype(_float_dtype(dtype, "linspace()")), requires_grad, device)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``), float32 by default."""
    n = as_int(n, "eye", "n")
    m = n if m is None else as_int(m, "eye", "m")
    if n < 0 or m < 0:
        raise InputError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype, "eye()")), requires_grad, device)


