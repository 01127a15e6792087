"""Loads the compiled module ``fastnn._core`` with a passive OpenMP wait policy.

GNU libgomp's default lets idle worker threads spin for a while after each
parallel region. On a machine whose cores are shared with other work (CI
runners, laptops, small cloud VMs) the spinning steals the cores the working
threads need, and every fork-join region waits for a descheduled thread: the
default ``fastnn train`` ran 5x slower on a loaded 2-core machine with spinning
than with passive waiting (37 s against 7 s). libgomp reads the policy once,
when it is loaded, so it is set here for that moment only, and only when the
user has not chosen one (``OMP_WAIT_POLICY=active`` restores spinning).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def load_core() -> ModuleType:
    if "OMP_WAIT_POLICY" in os.environ:
        return importlib.import_module("fastnn._core")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        return importlib.import_module("fastnn._core")
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
