"""Loads the compiled module ``fastnn._core`` with fastnn's OpenMP wait policy.

Worker threads of GNU libgomp wait for the next parallel region, or at a barrier,
by spinning for ``GOMP_SPINCOUNT`` iterations of a pause loop and then sleeping in
the kernel. fastnn loads libgomp with ``OMP_WAIT_POLICY=PASSIVE`` and a short spin,
``GOMP_SPINCOUNT=2000`` (about 50 us on a Zen 4, about 100 us on recent Xeons):

- libgomp's default spin (300000, several milliseconds) steals the cores that the
  working threads need on a machine shared with other work: the default ``fastnn
  train`` ran 5x slower on a loaded 2-core machine (37 s against 7 s);
- sleeping at once (spin 0) makes each parallel region wake a sleeping thread, which
  on a virtual machine costs 50 to 250 us: on 0.1 to 0.5 ms products 2 threads gained
  only 20-35% over one (0.65-0.73x NumPy), and products under 0.05 ms ran 2-3.4x
  slower at 2 threads than at 1;
- the short spin keeps the threads awake across the few microseconds between the
  products of a training step. 2-core Zen 4, 2 threads, quiet: the MLP-layer
  products 14-48% faster than with spin 0 (1.07-1.26x NumPy); with one competing
  process, 12-21% slower than with spin 0 (still ahead of NumPy there).
- with more threads than CPUs (oversubscribed) libgomp's passive policy does not spin.

libgomp reads these once, when it is loaded, so they are set for that moment only,
and only when the user has not chosen a policy: ``OMP_WAIT_POLICY`` set leaves both
alone (``active`` spins, ``passive`` with no ``GOMP_SPINCOUNT`` sleeps at once), and
a ``GOMP_SPINCOUNT`` of the user's own is kept. Other libraries' OpenMP runtimes
(torch and scikit-learn bundle their own libgomp) are not affected.

Where the libgomp fastnn uses was already loaded by another library (a build against
the system's ``libgomp.so.1`` imported after a torch that uses it too), it read its
environment then and fastnn's choice comes too late: ``fn.info()["omp_wait"]`` says so
(``source: "preloaded"``, with the values of the environment), and docs/performance.md
(Zen 4) says to import fastnn first or set the two variables before Python starts.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from types import ModuleType

SPIN_COUNT = "2000"

# What libgomp was loaded with (fn.info()["omp_wait"]): the two variables' values, None
# where unset (libgomp's own default), and "source": "fastnn" where fastnn chose at least
# one of them, "env" where the user's environment chose both, "preloaded" where another
# library had loaded the runtime first (the environment's values, read then).
wait_policy: dict[str, str | None] = {}


# GNU libgomp (a wheel's copy: libgomp-1a2b3c4d.so.1), LLVM libomp, Intel libiomp5
_OPENMP_RUNTIME = re.compile(r"^lib(gomp|omp|iomp5)[-.]")


def _mapped_openmp_runtimes() -> set[str] | None:
    """Paths of the OpenMP runtimes mapped into this process (Linux), None where that
    cannot be read."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None
    return {p for p in paths if _OPENMP_RUNTIME.match(os.path.basename(p))}


def load_core() -> ModuleType:
    user = {"policy": os.environ.get("OMP_WAIT_POLICY"),
            "spin_count": os.environ.get("GOMP_SPINCOUNT")}
    loaded_before = _mapped_openmp_runtimes()
    chosen = {}
    if "OMP_WAIT_POLICY" not in os.environ:
        chosen["OMP_WAIT_POLICY"] = "PASSIVE"
        if "GOMP_SPINCOUNT" not in os.environ:
            chosen["GOMP_SPINCOUNT"] = SPIN_COUNT
    os.environ.update(chosen)
    wait_policy.update(policy=os.environ.get("OMP_WAIT_POLICY"),
                       spin_count=os.environ.get("GOMP_SPINCOUNT"),
                       source="fastnn" if chosen else "env")
    try:
        core = importlib.import_module("fastnn._core")
    finally:
        for name in chosen:
            os.environ.pop(name, None)
    loaded_after = _mapped_openmp_runtimes()
    if (chosen and loaded_before and loaded_after == loaded_before
            and core.build_info()["openmp_enabled"]):
        # _core's runtime was there already (nothing new was mapped): it read the
        # environment before fastnn chose, so the user's values hold
        wait_policy.update(user, source="preloaded")
    # a re-import finds fastnn's own runtime mapped: the first import's finding stands
    wait_policy.update(json.loads(core._keep_wait_policy(json.dumps(wait_policy))))
    return core
