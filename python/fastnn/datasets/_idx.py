"""Reader for IDX files (the MNIST container format), plain or gzip-compressed.

Layout (all integers big-endian): a 4-byte magic ``00 00 T D`` where T is the
element type (0x08 = unsigned byte, the only one MNIST uses) and D the number
of dimensions, then D uint32 sizes, then prod(sizes) elements, row-major.
Images are magic 0x00000803 (3 dims: n, rows, cols), labels 0x00000801 (1 dim: n).
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08


def read_idx_ubyte(path: Path, ndim: int, func: str) -> np.ndarray:
    """Returns the uint8 array stored in the IDX file ``path``, which must have ``ndim`` dims.

    Gzip compression is detected from the content, not the name. A file that is
    not gzip/IDX, has another element type or ndim, or whose size disagrees
    with its header (truncated or with trailing bytes) raises ``ValueError``
    naming the file.
    """
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{func}: '{path}' is not a valid gzip file ({e})") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{func}: '{path}' is not an IDX file (bad magic number {raw[:4]!r})")
    expected_magic = (_UBYTE << 8) | ndim
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != expected_magic:
        raise ValueError(
            f"{func}: '{path}' has IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension(s))"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{func}: '{path}' is truncated: {len(raw)} bytes, shorter than a header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    size = math.prod(shape)  # Python ints: a header's int64 product could wrap
    if len(raw) - header != size:
        state = "truncated" if len(raw) - header < size else "longer than its header says"
        raise ValueError(
            f"{func}: '{path}' is {state}: the header announces shape {tuple(shape)} = {size} "
            f"bytes of data, the file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
