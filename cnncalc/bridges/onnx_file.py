"""An .onnx file read without the bytes of its large weights (used by cnncalc.bridges.from_onnx).

An ONNX file is one protobuf ModelProto whose weights are graph.initializer tensors, their values in `raw_data`:
ResNet-50's file is 100 MB, of which cnncalc needs the shapes and the values of a few small constants. onnx.load
reads and parses every byte (a quarter of a second for ResNet-50: twice what the rest of `summary` costs). Here the
file is mapped (mmap) and its wire format walked down to the initializers; the `raw_data` of every initializer of
more than `large` values is left out of the bytes protobuf parses, and its place in the file kept, so that the
value is read from there if it is ever asked for (`read_left_out`). Everything else reaches protobuf byte for byte.

Anything unexpected in the walk (a truncated field, a deprecated group, an empty file) returns None: the caller
then loads the file with onnx.load as before, which reports a broken file with its own message.
"""

from __future__ import annotations

import math
import mmap
from typing import Any

_MODEL_GRAPH = 7  # ModelProto.graph
_GRAPH_INITIALIZER = 5  # GraphProto.initializer
_TENSOR_DIMS = 1  # TensorProto.dims (int64, packed or not)
_TENSOR_NAME = 8
_TENSOR_RAW_DATA = 9
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5

Place = tuple[int, int]  # (offset, length) of left-out bytes in the file


class _Malformed(Exception):
    """The bytes are not the wire format this walk expects."""


def read_without_large_data(onnx: Any, path: str, large: int) -> tuple[Any, dict[str, Place]] | None:
    """The ModelProto in `path`, the raw_data of initializers of more than `large` values left out, with where
    each left-out value is in the file (by initializer name); None where onnx.load must read the file instead."""
    with open(path, "rb") as file:
        try:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file cannot be mapped
            return None
    with mapped:
        data = memoryview(mapped)
        try:
            kept, places = _model(data, large)
        except _Malformed:
            return None
        finally:
            data.release()
    model = onnx.ModelProto()
    try:
        decoded = model.ParseFromString(kept)
    except Exception:  # noqa: BLE001 - protobuf refuses something: onnx.load words it
        return None
    if decoded is not None and decoded != len(kept):
        return None
    return model, places


def read_left_out(path: str, place: Place) -> bytes:
    """The bytes of a value left out by read_without_large_data."""
    offset, length = place
    with open(path, "rb") as file:
        file.seek(offset)
        return file.read(length)


def _model(data: memoryview, large: int) -> tuple[bytes, dict[str, Place]]:
    pieces: list[Any] = []
    places: dict[str, Place] = {}
    for field, wire, start, value_start, end in _fields(data, 0, len(data)):
        if field == _MODEL_GRAPH and wire == _LENGTH:
            _length_delimited(pieces, field, _graph(data, value_start, end, large, places))
        else:
            pieces.append(data[start:end])
    return b"".join(pieces), places


def _graph(data: memoryview, begin: int, finish: int, large: int, places: dict[str, Place]) -> bytes:
    pieces: list[Any] = []
    for field, wire, start, value_start, end in _fields(data, begin, finish):
        tensor = None
        if field == _GRAPH_INITIALIZER and wire == _LENGTH:
            tensor = _tensor(data, value_start, end, large, places)
        if tensor is None:
            pieces.append(data[start:end])
        else:
            _length_delimited(pieces, field, tensor)
    return b"".join(pieces)


def _tensor(data: memoryview, begin: int, finish: int, large: int, places: dict[str, Place]) -> bytes | None:
    """The tensor's bytes without its raw_data, if it holds more than `large` values; else None (kept whole)."""
    dims: list[int] = []
    name = b""
    raw: tuple[int, int, int] | None = None  # the raw_data field: its start, its value's start, its end
    for field, wire, start, value_start, end in _fields(data, begin, finish):
        if field == _TENSOR_DIMS and wire == _VARINT:
            dims.append(_varint(data, value_start, end)[0])
        elif field == _TENSOR_DIMS and wire == _LENGTH:
            position = value_start
            while position < end:
                value, position = _varint(data, position, end)
                dims.append(value)
        elif field == _TENSOR_NAME and wire == _LENGTH:
            name = bytes(data[value_start:end])
        elif field == _TENSOR_RAW_DATA and wire == _LENGTH:
            raw = (start, value_start, end)
    if raw is None or math.prod(_signed(d) for d in dims) <= large:
        return None
    start, value_start, end = raw
    try:
        places[name.decode("utf-8")] = (value_start, end - value_start)
    except UnicodeDecodeError:
        return None
    return b"".join([data[begin:start], data[end:finish]])


def _fields(data: memoryview, begin: int, finish: int) -> Any:
    """(field number, wire type, start of the field, start of its value, end) of each field in data[begin:finish]."""
    position = begin
    while position < finish:
        start = position
        key, position = _varint(data, position, finish)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value_start = position
            position = _varint(data, position, finish)[1]
        elif wire == _LENGTH:
            length, value_start = _varint(data, position, finish)
            position = value_start + length
        elif wire in (_FIXED64, _FIXED32):
            value_start = position
            position += 8 if wire == _FIXED64 else 4
        else:
            raise _Malformed(f"wire type {wire}")  # groups: no ONNX message has them
        if field == 0 or position > finish:
            raise _Malformed("a truncated field")
        yield field, wire, start, value_start, position


def _varint(data: memoryview, position: int, finish: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= finish or shift > 63:
            raise _Malformed("a truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _signed(value: int) -> int:
    """An int64 read as a varint (negative dims are ten bytes long)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _length_delimited(pieces: list[Any], field: int, value: bytes) -> None:
    pieces.append(_encoded((field << 3) | _LENGTH))
    pieces.append(_encoded(len(value)))
    pieces.append(value)


def _encoded(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
