"""Console progress for ``fit`` (Keras-style verbosity).

* ``verbose=0``: silent.
* ``verbose=1``: on a terminal, a live tqdm bar per epoch (batches done, ETA, running
  loss and metrics, samples/s, as Keras's), replaced at the end of the epoch by its
  summary line, validation metrics included (written in full: the bar is cut to the
  terminal's width, the summary line never is); when the stream is not a terminal
  (CI logs, files, pipes, notebooks without a terminal) the bar is drawn once, full,
  at the end of the epoch in its summary line (as Keras does there), so logs stay free
  of carriage returns::

      Epoch 1/2  4/4 [==============================]  loss 1.2033  (0.01s, 2.1 ms/step)

* ``verbose=2``: one summary line per epoch (no bar), with its time per batch.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.1234  lr 1.0000e-04``: 4 decimals, or Keras's exponent form for values of
    magnitude 1e-3 or less (a loss of 8.7e-14 printed as 0.0000)."""
    return "  ".join(f"{k} {v:.4f}" if abs(v) > 1e-3 else f"{k} {v:.4e}"
                     for k, v in logs.items())


def _per_step(seconds: float) -> str:
    """``seconds`` per batch in Keras's units: ``2.1 ms/step``, ``48 us/step``."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms/step"
    return f"{seconds * 1e6:.0f} us/step"


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _tqdm():
    """tqdm's bar class, or None where tqdm is not installed (a runtime requirement, but a
    missing one costs only the live bar: the summary line is printed instead)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class EpochProgress:
    """Shows the progress of one epoch of ``steps`` batches (fewer where a callback
    stops the training inside it: the summary counts the batches that ran)."""

    def __init__(self, epoch: int, epochs: int, steps: int, verbose: int,
                 stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = verbose
        self.prefix = f"Epoch {epoch + 1}/{epochs}"
        self.start = time.perf_counter()
        self.samples = 0
        self.done = 0  # batches finished
        self.elapsed = 0.0
        self.bar = None
        tqdm = _tqdm() if verbose == 1 and _is_terminal(self.stream) else None
        if tqdm is not None:
            # the running logs before the rate: what the bar loses to a narrow terminal
            # is its end
            self.bar = tqdm(total=steps, desc=self.prefix, unit="batch", file=self.stream,
                            leave=False, dynamic_ncols=True, mininterval=0.1,
                            bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| "
                                       "[{elapsed}<{remaining}]{postfix}")
        self.steps = steps

    def _rate(self, elapsed: float | None = None) -> str:
        """Samples per second over ``elapsed`` (default: until now)."""
        if elapsed is None:
            elapsed = time.perf_counter() - self.start
        return f"{self.samples / elapsed:,.0f} samples/s" if elapsed > 0 else ""

    def update(self, batch_samples: int, logs: Callable[[], dict[str, float]]) -> None:
        """Counts one finished batch of ``batch_samples``; a live bar advances with the
        running logs, ``logs()`` (called only then)."""
        self.done += 1
        if self.bar is not None:
            self.samples += batch_samples
            self.bar.set_postfix_str(f"{format_logs(logs())}  {self._rate()}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        """Stops the clock and clears the live bar: the epoch's work is done (what the
        callbacks print next stands on its own line)."""
        self.elapsed = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.close()  # leave=False: clears its line for the summary

    def summary(self, logs: dict[str, float]) -> None:
        """The epoch's summary line (train and validation metrics, and what the callbacks
        added, e.g. ``learning_rate``), after :meth:`close`."""
        if not self.verbose:
            return
        elapsed, done = self.elapsed, self.done
        if self.bar is not None:
            line = (f"{self.prefix}  {format_logs(logs)}  ({elapsed:.2f}s, "
                    f"{done}/{self.steps} batches, {self._rate(elapsed)})")
        else:  # verbose=1 without a live bar: the bar as it stopped, once
            filled = 30 * done // max(self.steps, 1)
            bar = (f"{done}/{self.steps} [{'=' * filled}{'.' * (30 - filled)}]  "
                   if self.verbose == 1 else "")
            line = (f"{self.prefix}  {bar}{format_logs(logs)}  ({elapsed:.2f}s, "
                    f"{_per_step(elapsed / max(done, 1))})")
        self.stream.write(line + "\n")
        self.stream.flush()
