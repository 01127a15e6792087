"""The safetensors file format, read and written with NumPy alone (no extra package).

A safetensors file (https://github.com/huggingface/safetensors, "Format") is:

* 8 bytes: ``N``, the header's length, an unsigned little-endian 64-bit integer;
* ``N`` bytes: a UTF-8 JSON object, ``{name: {"dtype": "F32", "shape": [2, 3],
  "data_offsets": [begin, end]}, ...}`` plus an optional ``"__metadata__"`` object of
  string values; it starts with ``{`` and may end in spaces (padding);
* the data: each tensor's bytes, little-endian, C order, at ``[begin, end)`` of this
  buffer; the tensors tile it exactly (no gaps, no overlaps, nothing after).

:func:`dumps` lays a file out much as the reference library does (tensors ordered by
dtype size, largest first, then by name, where the library orders equal sizes by its own
dtype order; the header padded with spaces to a multiple of 8 bytes), and each reads the
other's files (tests/test_safetensors_format.py). :func:`read` checks everything a reader
must (the bounds, each tensor's size against its dtype and shape, the tiling) and raises
:class:`SafetensorsError` naming the problem; it compares every length and count with
the file's size before using it, so a hostile header costs no more than reading it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, BinaryIO, NamedTuple

import numpy as np

HEADER_LIMIT = 100_000_000
"""The largest header read (the reference library's own limit), in bytes."""
_MAX_NDIM = 64  # NumPy's

# dtype names of the format that plain NumPy holds (BF16 and the F8 types need ml_dtypes)
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
}
# the format's other dtypes, by bits an element: checked like the others, refused with a
# message naming them when their data is read
_OTHER_DTYPES = {"BF16": 16, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F4": 4,
                 "F6_E2M3": 6, "F6_E3M2": 6, "C64": 64}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in DTYPES.items()}
_METADATA = "__metadata__"


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file; the message says what is wrong."""


class UnsupportedDtypeError(SafetensorsError):
    """A valid file holding a tensor of a dtype that NumPy cannot hold (BF16, F8, ...)."""


def dtype_name(dtype: np.dtype) -> str | None:
    """The format's name for a NumPy dtype (``"F32"`` for float32), ``None`` if it has none."""
    return _NAMES.get((dtype.kind, dtype.itemsize)) if dtype.kind in "biuf" else None


def _check_text(text: str, what: str) -> None:
    """``ValueError`` unless ``text`` encodes as UTF-8: the header is JSON, and a lone
    surrogate written as its ``\\u`` escape makes a header other readers refuse."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not Unicode text (it holds a lone surrogate), "
                         "which a safetensors file cannot hold") from None


def dumps(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The safetensors file holding ``tensors`` and the string ``metadata``.

    Args:
        tensors (Mapping[str, np.ndarray]): arrays of a dtype :data:`DTYPES` holds, by name
            (``"__metadata__"`` is reserved).
        metadata (Mapping[str, str], optional): string keys and values.

    Returns:
        bytes: the whole file.

    Raises:
        TypeError: an array of another dtype, or metadata that is not ``str`` to ``str``.
        ValueError: a tensor named ``"__metadata__"``, or a name or metadata string that
            is not Unicode text (a lone surrogate such as ``"\\udcff"``, from undecodable
            bytes), which other safetensors readers refuse.
    """
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must map str to str")
        for text in (*metadata.keys(), *metadata.values()):
            _check_text(text, "metadata string")
        header[_METADATA] = dict(metadata)
    arrays = {}
    for name, value in tensors.items():
        if name == _METADATA:
            raise ValueError(f"a tensor cannot be named '{_METADATA}' in a safetensors file")
        _check_text(name, "tensor name")
        arr = np.asarray(value)
        code = dtype_name(arr.dtype)
        if code is None:
            raise TypeError(f"tensor '{name}' has dtype {arr.dtype}, which a safetensors "
                            "file cannot hold without extra packages")
        arrays[name] = (code, arr.astype(DTYPES[code], order="C", copy=False))  # keeps 0-d
    order = sorted(arrays, key=lambda n: (-arrays[n][1].itemsize, n))
    offset = 0
    for name in order:
        code, arr = arrays[name]
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return b"".join([len(text).to_bytes(8, "little"), text]
                    + [arrays[name][1].tobytes() for name in order])


def read(fh: BinaryIO, size: int,
         with_tensors: bool = True) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The metadata and (with ``with_tensors``) the arrays of the file open as ``fh``.

    Args:
        fh (BinaryIO): the file, opened for binary reading at its start.
        size (int): its size in bytes.
        with_tensors (bool): read the arrays too (else the header only).

    Returns:
        tuple[dict[str, str], dict[str, np.ndarray]]: the ``"__metadata__"`` strings
        (``{}`` if none) and the arrays by name (``{}`` without ``with_tensors``), each
        an array of its own (writable, aligned, native byte order).

    Raises:
        SafetensorsError: the file is not a valid safetensors file (the message says why).
        UnsupportedDtypeError: with ``with_tensors``, a tensor of a dtype that NumPy
            cannot hold (BF16, the F8 types).
    """
    if size < 8:
        raise SafetensorsError(f"its {size} bytes cannot hold the 8-byte header length")
    length = int.from_bytes(fh.read(8), "little")
    if length > HEADER_LIMIT or 8 + length > size:
        raise SafetensorsError(f"its first 8 bytes give a header of {length} bytes in a file "
                               f"of {size} bytes")
    entries, metadata = _parse_header(fh.read(length))
    in_file_order = _check_layout(entries, size - 8 - length)
    if not with_tensors:
        return metadata, {}
    for name, e in entries.items():
        if e.dtype is None:
            raise UnsupportedDtypeError(f"tensor {_brief(name)} of dtype {e.code}, which NumPy "
                                        "cannot hold: save float32 tensors (in PyTorch: "
                                        "v.float())")
    # In file order, each straight into an array of its own (owned, aligned, writable).
    tensors: dict[str, np.ndarray] = {}
    for name, e in in_file_order:
        arr = np.empty(e.shape, e.dtype)
        if fh.readinto(arr.reshape(-1).view(np.uint8)) != e.end - e.begin:
            raise SafetensorsError("the file ended before its data (it changed while read)")
        tensors[name] = arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
    return metadata, {name: tensors[name] for name in entries}  # the header's order


def read_file(path: str | os.PathLike[str],
              with_tensors: bool = True) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """:func:`read` on the file at ``path``."""
    with open(path, "rb") as fh:
        return read(fh, os.fstat(fh.fileno()).st_size, with_tensors)


class _Entry(NamedTuple):
    code: str  # the format's dtype name
    dtype: np.dtype | None  # None for a dtype NumPy cannot hold
    shape: tuple[int, ...]
    begin: int  # data_offsets, bytes into the data
    end: int


def _parse_header(raw: bytes) -> tuple[dict[str, _Entry], dict[str, str]]:
    """The tensor entries and the metadata of a header."""
    if not raw.startswith(b"{"):
        raise SafetensorsError(f"its header starts with {raw[:1]!r}, not the '{{' of a JSON "
                               "object")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise SafetensorsError("its header names a key twice")
        return dict(pairs)

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except SafetensorsError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SafetensorsError(f"its header is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("its header is not a JSON object")
    metadata = header.pop(_METADATA, None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"its '{_METADATA}' is not an object of strings")
    entries = {}
    for name, entry in header.items():
        where = f"tensor {_brief(name)}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(f"{where}: expected an object with the fields dtype, shape "
                                   f"and data_offsets, got {_brief(entry)}")
        code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(code, str) or (code not in DTYPES and code not in _OTHER_DTYPES):
            raise SafetensorsError(f"{where} has an unknown dtype {_brief(code)}")
        if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
                or not all(_is_count(d) for d in shape)):
            raise SafetensorsError(f"{where} has an invalid shape {_brief(shape)} (at most "
                                   f"{_MAX_NDIM} sizes, each an integer in [0, 2**63))")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_count(o) for o in offsets) or offsets[0] > offsets[1]):
            raise SafetensorsError(f"{where} has invalid data_offsets {_brief(offsets)}")
        begin, end = offsets
        bits = DTYPES[code].itemsize * 8 if code in DTYPES else _OTHER_DTYPES[code]
        count = _element_count(shape, (end - begin) * 8 // bits)
        if count is None or count * bits != (end - begin) * 8:
            raise SafetensorsError(f"{where} of dtype {code} and shape {_brief(shape)} does "
                                   f"not fit the {end - begin} bytes of its data_offsets")
        entries[name] = _Entry(code, DTYPES.get(code), tuple(shape), begin, end)
    return entries, metadata


def _check_layout(entries: dict[str, _Entry], data_size: int) -> list[tuple[str, _Entry]]:
    """The entries in file order, which must tile the data exactly, as the format requires."""
    in_file_order = sorted(entries.items(), key=lambda item: (item[1].begin, item[1].end))
    position = 0
    for name, (_, _, _, begin, end) in in_file_order:
        if begin != position:
            what = "overlaps the one before" if begin < position else "leaves a gap before it"
            raise SafetensorsError(f"tensor {_brief(name)} at bytes [{begin}, {end}) {what}")
        position = end
    if position != data_size:
        raise SafetensorsError(f"its tensors cover {position} bytes of data; the file holds "
                               f"{data_size} (truncated, or bytes appended)")
    return in_file_order


def _element_count(shape: list[int], most: int) -> int | None:
    """The product of ``shape``; ``None`` once it passes ``most`` (sizes are not 0 there, so
    it only grows), or, with a size 0, where the other sizes' product reaches 2**62 (an
    empty array NumPy cannot describe). The work is bounded whatever the header holds."""
    if 0 in shape:
        count = 1
        for d in shape:
            count *= max(d, 1)
            if count >= 2**62:
                return None
        return 0
    count = 1
    for d in shape:
        count *= d
        if count > most:
            return None
    return count


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _brief(value: Any) -> str:
    """``repr(value)`` cut to 80 characters (a hostile header's names can be megabytes)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
