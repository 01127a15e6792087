"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is per thread, as in PyTorch: a ``no_grad`` block in one thread does not
turn recording off in another.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradState(threading.local):
    enabled = True
    trace: Any = None  # a TraceLog while nn.TrainStep traces a forward, else None


class TraceLog:
    """What a traced forward did that its graph does not show.

    ``escapes`` names each time a Tensor's value left the graph for Python
    (``bool()``, ``item()``, ``numpy()``, ...): control flow or values that may
    depend on the data, which a replay would not follow. ``dropouts`` lists the
    dropout seeds in the order the forward drew them.
    """

    def __init__(self) -> None:
        self.escapes: list[str] = []
        self.dropouts: list[int] = []


def note_escape(what: str) -> None:
    """Records that a Tensor's value reached Python while a forward is traced."""
    log = _state.trace
    if log is not None:
        log.escapes.append(what)


_state = _GradState()


def is_grad_enabled() -> bool:
    """``True`` when operations on Tensors that require grad are recorded for ``backward``."""
    return _state.enabled


class set_grad_enabled:
    """Turns graph recording on or off: a function call, a context manager and a decorator.

    Args:
        mode (bool): ``True`` records, ``False`` does not.

    Example::

        >>> with fn.set_grad_enabled(False):
        ...     y = x * 2          # y.requires_grad is False
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev

    def __call__(self, func: _F) -> _F:
        _state.enabled = self.prev  # as a decorator, the call above must not leak
        return _decorate(func, self.mode)


def _run_in_mode(mode: bool, call: Any, *args: Any, **kwargs: Any) -> Any:
    prev = _state.enabled
    _state.enabled = mode
    try:
        return call(*args, **kwargs)
    finally:
        _state.enabled = prev


def _decorate(func: _F, mode: bool) -> _F:
    """``func`` run with recording set to ``mode``; for a generator function, every resume
    of the generator runs in ``mode`` (and the caller's code between them does not), as in
    PyTorch."""
    if not inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _run_in_mode(mode, func, *args, **kwargs)
        return wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)  # runs nothing until the first send
        try:
            item = _run_in_mode(mode, gen.send, None)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    _run_in_mode(mode, gen.close)
                    raise
                except BaseException as err:  # thrown in: the generator handles it
                    item = _run_in_mode(mode, gen.throw, err)
                else:
                    item = _run_in_mode(mode, gen.send, sent)
        except StopIteration as stop:
            return stop.value
    return generator  # type: ignore[return-value]


class _GradModeContext:
    """Base of ``no_grad`` and ``enable_grad``: a context manager that is also a decorator."""

    _mode = True

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        if func is not None:  # ``@fn.no_grad`` without parentheses, as PyTorch allows
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments (or a function to "
                                "decorate)")
            return self(func)
        return self

    def __init__(self, func: Any = None) -> None:
        pass

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self._prev

    def __call__(self, func: _F) -> _F:
        return _decorate(func, self._mode)


class no_grad(_GradModeContext):
    """Context manager and decorator under which nothing is recorded for ``backward``.

    Results computed inside have ``requires_grad=False``; use it for evaluation
    and for manual parameter updates.

    Example::

        >>> with fn.no_grad():
        ...     w -= lr * w.grad
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns recording back on inside ``no_grad``."""

    _mode = True


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode``: here the same as :class:`no_grad` (``mode=False``:
    recording stays as it is). A context manager and a decorator, with or without
    parentheses.

    Example::

        >>> with fn.inference_mode():
        ...     logits = model(x)
    """

    _mode = False

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # ``@fn.inference_mode`` without parentheses
            return no_grad()(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self._off = not mode

    def __enter__(self) -> None:
        self._prev = _state.enabled
        if not self._off:
            _state.enabled = False

    def __call__(self, func: _F) -> _F:
        if self._off:
            return func
        return super().__call__(func)

