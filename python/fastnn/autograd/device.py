"""``fn.device``: PyTorch's device object, for the one device fastnn has (the CPU)."""

from __future__ import annotations

from typing import Any


class device:  # noqa: N801 - PyTorch's name
    """``fn.device("cpu")`` (also ``"cpu:0"``, or ``index=``): fastnn runs on the CPU; any
    other device is an error. Prints, compares and hashes as PyTorch's: ``str`` is
    ``"cpu"``, and it equals the string ``"cpu"`` and every CPU device."""

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index  # noqa: A001
        name, _, suffix = str(type).partition(":")
        if name != "cpu":
            raise RuntimeError(f"fastnn runs on the CPU only; device {type!r} is not available")
        self.type = "cpu"
        self.index = int(suffix) if suffix else index

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
