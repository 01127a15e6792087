"""fastnn.io.safetensors_format: the safetensors file format read and written with NumPy
alone. Round trips of every dtype and shape it holds, files exchanged with the reference
library both ways (where installed), and each way a header or its data can be wrong."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from fastnn.io.safetensors_format import (
    DTYPES,
    SafetensorsError,
    UnsupportedDtypeError,
    dtype_name,
    dumps,
    read,
)


def load(blob: bytes, with_tensors: bool = True):
    return read(io.BytesIO(blob), len(blob), with_tensors)


def raw(header: dict, data: bytes, pad: bytes = b"") -> bytes:
    text = json.dumps(header).encode() + pad
    return len(text).to_bytes(8, "little") + text + data


def every_dtype(rng) -> dict[str, np.ndarray]:
    out = {}
    for code, dtype in DTYPES.items():
        if dtype.kind == "b":
            out[code] = rng.integers(0, 2, (3, 2)).astype(bool)
        elif dtype.kind == "f":
            out[code] = rng.standard_normal((2, 3)).astype(dtype)
        else:
            info = np.iinfo(dtype)
            out[code] = rng.integers(info.min, info.max, (4,), dtype=dtype, endpoint=True)
    out["scalar"] = np.array(2.5, np.float32)
    out["empty"] = np.zeros((0, 7), np.float32)
    out["empty_too"] = np.zeros((3, 0), np.int64)
    out["strided"] = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    out["big_endian"] = np.arange(6, dtype=">f4")
    return out


def test_round_trip_of_every_dtype_and_shape(rng):
    tensors = every_dtype(rng)
    metadata = {"fastnn": json.dumps({"a": [1, 2]}), "note": "ünïcode"}
    blob = dumps(tensors, metadata)
    assert int.from_bytes(blob[:8], "little") % 8 == 0  # padded header, as the library's
    meta, back = load(blob)
    assert meta == metadata
    assert back.keys() == tensors.keys()
    for name, arr in tensors.items():
        got = back[name]
        assert got.shape == arr.shape and got.dtype == arr.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, arr)
        assert got.flags.writeable and got.flags.c_contiguous and got.flags.aligned
        assert got.flags.owndata  # no view keeps the file's other tensors alive
    meta, none = load(blob, with_tensors=False)
    assert meta == metadata and none == {}
    assert load(dumps({}))[1] == {} and load(dumps({}))[0] == {}


def test_files_are_exchanged_with_the_reference_library(rng):
    st = pytest.importorskip("safetensors.numpy")
    tensors = every_dtype(rng)
    del tensors["big_endian"]  # the library refuses big-endian arrays
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    metadata = {"k": "v", "fastnn": "{}"}
    for blob in (dumps(tensors, metadata), st.save(tensors, metadata=metadata)):
        for got in (st.load(blob), load(blob)[1]):
            assert got.keys() == tensors.keys()
            for name, arr in tensors.items():
                assert got[name].dtype == arr.dtype
                np.testing.assert_array_equal(got[name], arr)
    # the same layout as the library's, up to the order of the metadata's keys (a hash
    # map there) and of tensors of equal size but different dtype
    one = {"b": tensors["F32"], "a": tensors["F32"][:1]}
    assert dumps(one) == st.save(one)


def test_writing_refuses_what_the_format_cannot_hold():
    with pytest.raises(TypeError, match="tensor 'c' has dtype complex64"):
        dumps({"c": np.zeros(2, np.complex64)})
    with pytest.raises(TypeError, match="dtype <U1"):
        dumps({"s": np.array(["a"])})
    with pytest.raises(ValueError, match="cannot be named '__metadata__'"):
        dumps({"__metadata__": np.zeros(1, np.float32)})
    with pytest.raises(TypeError, match="metadata must map str to str"):
        dumps({}, {"k": 1})
    # a lone surrogate (from undecodable bytes) went out as its JSON escape: a header the
    # reference library refuses ("lone leading surrogate in hex escape")
    with pytest.raises(ValueError, match=r"tensor name '\\udcff' is not Unicode text"):
        dumps({"\udcff": np.zeros(1, np.float32)})
    with pytest.raises(ValueError, match="metadata string 'a\\\\udcff' is not Unicode"):
        dumps({}, {"k": "a\udcff"})
    assert load(dumps({"ä 😀": np.ones(1, np.float32)}))[1]["ä 😀"].tolist() == [1.0]
    assert dtype_name(np.dtype(np.float32)) == "F32" and dtype_name(np.dtype("O")) is None


F32_4 = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}


@pytest.mark.parametrize("blob, match", [
    (b"", "cannot hold the 8-byte header length"),
    ((100).to_bytes(8, "little") + b"{}", "header of 100 bytes in a file of 10"),
    ((2**64 - 1).to_bytes(8, "little") + b"{}", "header of 18446744073709551615 bytes"),
    (raw({}, b"")[:8] + b"[]", "starts with b'\\['"),
    ((2).to_bytes(8, "little") + b"\xff\xfe", "starts with b'\\\\xff'"),
    ((3).to_bytes(8, "little") + b"{\xff}", "not valid UTF-8 JSON"),
    ((5).to_bytes(8, "little") + b"{nope", "not valid UTF-8 JSON"),
    ((14).to_bytes(8, "little") + b'{"a":1,"a":2}' + b" ", "names a key twice"),
    (raw({"w": [1, 2]}, b""), "tensor 'w': expected an object with the fields"),
    (raw({"w": {"dtype": "F32", "shape": [4]}}, b""), "expected an object with the fields"),
    (raw({"w": {**F32_4, "extra": 1}}, b"\0" * 16), "expected an object with the fields"),
    (raw({"w": {**F32_4, "dtype": "Q7"}}, b"\0" * 16), "unknown dtype 'Q7'"),
    (raw({"w": {**F32_4, "dtype": 4}}, b"\0" * 16), "unknown dtype 4"),
    (raw({"w": {**F32_4, "shape": [-4]}}, b"\0" * 16), r"invalid shape \[-4\]"),
    (raw({"w": {**F32_4, "shape": [4.0]}}, b"\0" * 16), r"invalid shape \[4.0\]"),
    (raw({"w": {**F32_4, "shape": [True]}}, b"\0" * 16), r"invalid shape \[true\]|shape \[True"),
    (raw({"w": {**F32_4, "shape": 4}}, b"\0" * 16), "invalid shape 4"),
    (raw({"w": {**F32_4, "data_offsets": [16, 0]}}, b"\0" * 16), "invalid data_offsets"),
    (raw({"w": {**F32_4, "data_offsets": [0]}}, b"\0" * 16), "invalid data_offsets"),
    (raw({"w": {**F32_4, "data_offsets": [0, 12]}}, b"\0" * 12), r"dtype F32 and shape \[4\] "
                                                                  "does not fit the 12 bytes"),
    (raw({"w": {**F32_4, "shape": [2**40, 2**40]}}, b"\0" * 16), "does not fit the 16 bytes"),
    (raw({"w": {**F32_4, "shape": [2**63]}}, b"\0" * 16), r"invalid shape \[9223372036854775808"),
    (raw({"w": {**F32_4, "shape": [1] * 65}}, b"\0" * 16), "at most 64 sizes"),
    (raw({"w": {**F32_4, "shape": [0, 2**62, 2**62], "data_offsets": [0, 0]}}, b""),
     "does not fit the 0 bytes"),  # empty, yet beyond what NumPy can describe
    (raw({"w": {**F32_4, "dtype": ["F32"]}}, b"\0" * 16), r"unknown dtype \['F32'\]"),
    (raw({"w": {**F32_4, "dtype": "BF16"}}, b"\0" * 16), "dtype BF16 and shape"),  # 8 bytes
    (raw({"w" * 10**5: {**F32_4, "dtype": "Q7"}}, b"\0" * 16), "tensor 'www.*\\.\\.\\. has"),
    (raw({"w": {**F32_4, "data_offsets": [4, 20]}}, b"\0" * 20), "leaves a gap before it"),
    (raw({"w": F32_4, "v": {**F32_4, "data_offsets": [8, 24]}}, b"\0" * 24),
     "overlaps the one before"),
    (raw({"w": F32_4}, b"\0" * 17), "cover 16 bytes of data; the file holds 17"),
    (raw({"w": F32_4}, b"\0" * 15), "cover 16 bytes of data; the file holds 15"),
    (raw({"__metadata__": {"k": 1}}, b""), "'__metadata__' is not an object of strings"),
    (raw({"__metadata__": ["k"]}, b""), "'__metadata__' is not an object of strings"),
    (raw([1], b""), "starts with b'\\['"),
])
def test_every_malformed_file_raises_naming_the_problem(blob, match):
    for with_tensors in (True, False):
        with pytest.raises(SafetensorsError, match=match):
            load(blob, with_tensors)


def test_hostile_shapes_are_refused_before_they_are_multiplied_out():
    """Sizes multiplied out in full made a 3 MB header of 800 sizes of 4,000 digits take
    25 s to refuse; now at most 64 sizes below 2**63 each are taken, and the count stops
    at the bytes the tensor has."""
    big = int("9" * 4000)
    for shape, match in (([big] * 64, "invalid shape"), ([big] * 800, "invalid shape"),
                         ([2**62] * 64, "does not fit the 16 bytes")):
        with pytest.raises(SafetensorsError, match=match):
            load(raw({"w": {**F32_4, "shape": shape}}, b"\0" * 16))


def test_a_dtype_numpy_cannot_hold_is_refused_at_the_data_only():
    blob = raw({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}, b"\0" * 6,
               pad=b"  ")
    assert load(blob, with_tensors=False) == ({}, {})  # the header is valid
    with pytest.raises(UnsupportedDtypeError, match="tensor 'w' of dtype BF16, which NumPy "
                                                    "cannot hold"):
        load(blob)


def test_zero_size_tensors_may_share_an_offset():
    header = {"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
              "b": {"dtype": "I64", "shape": [2, 0], "data_offsets": [0, 0]},
              "c": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
              "d": {"dtype": "F64", "shape": [0], "data_offsets": [2, 2]}}
    _, got = load(raw(header, b"\x07\x09"))
    assert got["a"].shape == (0,) and got["b"].shape == (2, 0) and got["d"].shape == (0,)
    assert got["c"].tolist() == [7, 9]
