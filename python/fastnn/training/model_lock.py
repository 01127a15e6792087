"""One lock per model, shared by ``fit``, ``evaluate`` and ``predict``.

``fit`` holds it for each training step and ``evaluate`` / ``predict`` (and ``fit``'s
validation pass) for a whole pass. What those change on the model is shared by every
thread using it: a pass switches the modules to eval mode and back, and a step's forward
leaves the values its backward reads (a Linear's input on the NumPy path). Without the
lock, two threads' ``predict`` saved and restored each other's eval flags (dropout in a
prediction, the model left in eval mode), and a ``predict`` during another thread's
``fit`` overwrote a Linear's saved input. With it, such calls take turns: a ``predict``
while another thread trains runs between two steps. A hand-written loop takes no lock.

A forked child starts with a fresh registry: a lock another thread of the parent held
at the fork would otherwise stay held in the child forever.
"""

from __future__ import annotations

import os
import threading
import weakref

from ..nn import Module

_locks: weakref.WeakKeyDictionary[Module, threading.RLock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def model_lock(model: Module) -> threading.RLock:
    """``model``'s lock (module docstring), made on first use."""
    with _guard:
        lock = _locks.get(model)
        if lock is None:
            lock = _locks[model] = threading.RLock()
        return lock


def _reset_after_fork() -> None:
    global _locks, _guard
    _locks = weakref.WeakKeyDictionary()
    _guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
