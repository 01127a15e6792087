"""Console progress for ``fit`` (Keras-style verbosity).

* ``verbose=0``: silent.
* ``verbose=1``: on a terminal, a bar redrawn in place during each epoch, ending
  as the epoch's summary line; elsewhere (CI logs, files) just the summary line.
* ``verbose=2``: one summary line per epoch.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_logs(logs: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items())


class EpochProgress:
    """Prints the progress of one epoch of ``steps`` batches."""

    _WIDTH = 24

    def __init__(
        self, epoch: int, epochs: int, steps: int, verbose: int, stream: TextIO | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = verbose
        self.live = verbose == 1 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.prefix = f"Epoch {epoch + 1}/{epochs}"
        self.steps = steps
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, step: int, logs: dict[str, float]) -> None:
        """Redraws the bar after ``step`` batches (at most 10 times a second)."""
        if not self.live:
            return
        now = time.perf_counter()
        if step < self.steps and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        done = int(self._WIDTH * step / max(self.steps, 1))
        bar = "=" * done + (">" if done < self._WIDTH else "") + "." * (self._WIDTH - done - 1)
        elapsed = now - self.start
        eta = elapsed / step * (self.steps - step) if step else 0.0
        self.stream.write(
            f"\r{self.prefix} {step}/{self.steps} [{bar[: self._WIDTH]}] "
            f"ETA {eta:4.1f}s  {format_logs(logs)}\033[K"
        )
        self.stream.flush()

    def close(self, logs: dict[str, float]) -> None:
        """Ends the epoch with its summary line (train and validation metrics)."""
        if self.verbose == 0:
            return
        elapsed = time.perf_counter() - self.start
        line = f"{self.prefix}  {format_logs(logs)}  ({elapsed:.2f}s)"
        self.stream.write(("\r" + line + "\033[K\n") if self.live else line + "\n")
        self.stream.flush()
