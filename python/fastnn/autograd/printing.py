"""How a Tensor prints: PyTorch's layout and number format, so that a script's output reads
the same under fastnn as under torch (``tensor([0.2500, 1.0000])``, ``tensor([1., 2.])``,
``tensor([1.0000e-05, 1.0000e+03])``).

The rules are PyTorch's print options, by default precision 4, line width 80, more than 1000
elements summarised with 3 at each edge (:func:`set_printoptions` changes them, as
``torch.set_printoptions``):

* floats: all finite non-zero values integral -> ``"1."`` (scientific when the largest is
  above 1e8 or 1000 times the smallest); otherwise 4 decimals, scientific when the largest
  is above 1e8 or 1000 times the smallest, or the smallest is below 1e-4;
* every element is right-aligned to the widest one; other dtypes print their values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION, LINEWIDTH, THRESHOLD, EDGEITEMS = 4, 80, 1000, 3
SCI_MODE: bool | None = None  # None: chosen per Tensor, as below

# set_printoptions(profile=...): (precision, threshold, edgeitems, linewidth), torch's
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Sets how Tensors print, as ``torch.set_printoptions``.

    Args:
        precision (int, optional): digits after the decimal point. Default: 4.
        threshold (float, optional): Tensors with more elements are summarised. Default: 1000.
        edgeitems (int, optional): items shown at each edge of a summarised dimension.
            Default: 3.
        linewidth (int, optional): characters per line. Default: 80.
        profile (str, optional): ``"default"``, ``"short"`` or ``"full"`` (never
            summarised), applied before the arguments above.
        sci_mode (bool, optional): ``True`` or ``False`` forces scientific notation on or
            off; ``None`` (what every call without it sets) chooses per Tensor.
    """
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    func = "set_printoptions()"
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"{func}: argument 'profile' must be one of "
                             f"{', '.join(map(repr, _PROFILES))}, got {profile!r}")
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    for name, value in (("precision", precision), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < (1 if name == "linewidth" else 0)):
            raise ValueError(f"{func}: argument '{name}' must be a non-negative int, "
                             f"got {value!r}")
    if threshold is not None and (isinstance(threshold, bool) or
                                  not isinstance(threshold, (int, float)) or threshold < 0):
        raise ValueError(f"{func}: argument 'threshold' must be a number >= 0, got {threshold!r}")
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"{func}: argument 'sci_mode' must be a bool or None, got {sci_mode!r}")
    PRECISION = PRECISION if precision is None else precision
    THRESHOLD = THRESHOLD if threshold is None else threshold
    EDGEITEMS = EDGEITEMS if edgeitems is None else edgeitems
    LINEWIDTH = LINEWIDTH if linewidth is None else linewidth
    SCI_MODE = sci_mode


class _Formatter:
    """The number format and width for the values of one Tensor (torch's ``_Formatter``)."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat:
                self.max_width = max(self.max_width, len(_scalar_str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        biggest, smallest = float(np.abs(finite).max()), float(np.abs(finite).min())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        wide = biggest / smallest > 1000.0 or biggest > 1.0e8
        self.sci_mode = (wide or smallest < 1.0e-4) if SCI_MODE is None else SCI_MODE
        if self.int_mode and not self.sci_mode:
            widths = [len(f"{v:.0f}") + 1 for v in finite]
        else:
            fmt = f".{PRECISION}e" if self.sci_mode else f".{PRECISION}f"
            widths = [len(format(v, fmt)) for v in finite]
        self.max_width = max(widths)

    def format(self, value: Any) -> str:
        if self.floating:
            v = float(value)
            if self.sci_mode:
                text = f"{v:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
            else:
                text = f"{v:.{PRECISION}f}"
        else:
            text = _scalar_str(value)
        return " " * (self.max_width - len(text)) + text


def _scalar_str(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _summarised(values: np.ndarray) -> np.ndarray:
    """The elements torch shows of a summarised Tensor (edges of every dimension)."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGEITEMS:
        values = np.concatenate([values[:EDGEITEMS], values[-EDGEITEMS:]])
    return np.stack([_summarised(v) for v in values]) if values.ndim > 1 else values


def _rows(values: np.ndarray, fmt: _Formatter, indent: int, summarise: bool) -> str:
    if values.ndim == 0:
        return fmt.format(values)
    n = values.shape[0]
    cut = summarise and n > 2 * EDGEITEMS
    if values.ndim == 1:
        if cut:  # format only what is shown
            items = ([fmt.format(v) for v in values[:EDGEITEMS]] + [" ..."]
                     + [fmt.format(v) for v in values[-EDGEITEMS:]])
        else:
            items = [fmt.format(v) for v in values]
        per_line = max(1, (LINEWIDTH - indent) // (fmt.max_width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    index = list(range(EDGEITEMS)) + [-1] + list(range(n - EDGEITEMS, n)) if cut else range(n)
    parts = ["..." if i == -1 else _rows(values[i], fmt, indent + 1, summarise) for i in index]
    sep = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def tensor_body(values: np.ndarray, indent: int = len("tensor(")) -> str:
    """The values part of ``repr(t)``, laid out as PyTorch lays it out."""
    if values.size == 0:
        return "[]" if values.ndim == 1 else "[], size=" + str(tuple(values.shape))
    summarise = values.size > THRESHOLD
    fmt = _Formatter(_summarised(values) if summarise else values)
    return _rows(values, fmt, indent, summarise)


def with_suffixes(text: str, suffixes: list[str], indent: int = len("tensor(")) -> str:
    """``text`` (``"tensor(" + body``) closed with ``suffixes`` (``"requires_grad=True"``,
    ...), each on a new line where it would pass the line width, as PyTorch does."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"
