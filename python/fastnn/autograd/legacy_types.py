"""PyTorch's legacy typed constructors, which older scripts still use:
``torch.FloatTensor(X_train)``, ``torch.LongTensor(y)``, ``torch.FloatTensor(2, 3)``,
``isinstance(x, torch.FloatTensor)`` and ``x.type(torch.LongTensor)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor


class _LegacyType(type):
    """The metaclass: ``isinstance(t, FloatTensor)`` is "a Tensor of that dtype"."""

    dtype: Any

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'fastnn.{cls.__name__}'>"


def _construct(cls: _LegacyType, args: tuple) -> Tensor:
    from .creation import tensor, zeros
    name = f"{cls.__name__}()"
    if not args:
        return zeros(0, dtype=cls.dtype)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return zeros(*args, dtype=cls.dtype)  # a shape: PyTorch leaves it uninitialised
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, Tensor)):
        return tensor(args[0], dtype=cls.dtype)
    raise TypeError(f"{name}: expected a shape (ints) or data (a sequence, array or "
                    f"Tensor), got {', '.join(type(a).__name__ for a in args)}")


def _legacy(name: str, dtype: Any) -> _LegacyType:
    cls = _LegacyType(name, (), {"dtype": dtype, "__doc__": f"``{name}(data)`` or "
                                 f"``{name}(*shape)``: a Tensor of dtype {dtype}, as PyTorch's "
                                 "legacy constructor."})
    cls.__new__ = lambda c, *args: _construct(c, args)  # type: ignore[method-assign]
    return cls


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)

LEGACY_TYPES = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,
                CharTensor, ByteTensor, BoolTensor)


def type_name(dtype: Any) -> str:
    """``"fastnn.FloatTensor"`` for float32, ..., as ``Tensor.type()`` reports it."""
    for cls in LEGACY_TYPES:
        if cls.dtype == dtype:
            return f"fastnn.{cls.__name__}"
    return f"fastnn.{dtype}"


def type_dtype(spec: Any) -> Any:
    """The dtype that ``Tensor.type(spec)`` converts to: a legacy class, its name
    (``"torch.LongTensor"`` / ``"fastnn.LongTensor"``), or a dtype."""
    if isinstance(spec, _LegacyType):
        return spec.dtype
    if isinstance(spec, str):
        short = spec.rsplit(".", 1)[-1]
        for cls in LEGACY_TYPES:
            if cls.__name__ == short:
                return cls.dtype
    return spec
