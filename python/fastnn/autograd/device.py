"""``fn.device``: PyTorch's device object, for the one device fastnn has (the CPU)."""

from __future__ import annotations

from typing import Any


class device:
    """``fn.device("cpu")`` (also ``"cpu:0"``, or ``index=``): fastnn runs on the CPU; any
    other device is an error. Prints, compares and hashes as PyTorch's: ``str`` is
    ``"cpu"``, and it equals the string ``"cpu"`` and every CPU device."""

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index  # noqa: A001
        name, colon, suffix = str(type).partition(":")
        if name != "cpu":
            raise RuntimeError(f"fastnn runs on the CPU only; device {type!r} is not available")
        if colon and not suffix.isdigit():
            raise RuntimeError(f"Invalid device string: {type!r}")
        if colon and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {type!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index < 0):
            raise RuntimeError(f"Device index must not be negative (an int), got {index!r}")
        self.type = "cpu"
        self.index = int(suffix) if colon else index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) or other == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='cpu'{index})"


CPU = device("cpu")
