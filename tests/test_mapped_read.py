"""load(path, mmap=True) refuses every malformed file that the normal load refuses: the header's
layout (tensors tiling the data with no gap, overlap or leftover bytes; unsigned integer shapes and
offsets; string metadata) is checked before any tensor views the mapping."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import CheckpointError

DATA = np.arange(4, dtype=np.float32).tobytes()  # 16 bytes

BAD = {
    "overlap": ({"a": [[4], [0, 16]], "b": [[4], [0, 16]]}, DATA),  # two tensors over one memory
    "gap": ({"a": [[2], [8, 16]]}, DATA),
    "leftover": ({"a": [[2], [0, 8]]}, DATA),
    "empty_past_start": ({"a": [[0, 3], [16, 16]]}, DATA),
    "float_shape": ({"a": [[1.0], [0, 4]]}, DATA[:4]),
    "bool_offsets": ({"a": [[1], [False, 4]]}, DATA[:4]),
    "three_offsets": ({"a": [[1], [0, 4, 8]]}, DATA[:8]),
    "overflowing_shape": ({"a": [[2**62, 4], [0, 0]]}, b""),  # 2**64 elements: 0 in int64
}


def _write(path, entries, data, metadata=None):
    header = {k: {"dtype": "F32", "shape": s, "data_offsets": o} for k, (s, o) in entries.items()}
    if metadata is not None:
        header["__metadata__"] = metadata
    body = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(body)) + body + data)


@pytest.mark.parametrize("case", sorted(BAD))
def test_mmap_refuses_what_the_normal_load_refuses(tmp_path, case):
    path = tmp_path / f"{case}.safetensors"
    _write(path, *BAD[case])
    with pytest.raises(CheckpointError):
        gg.load(path)
    with pytest.raises(CheckpointError, match=str(path)):
        gg.load(path, mmap=True)


def test_mmap_refuses_non_string_metadata(tmp_path):
    path = tmp_path / "meta.safetensors"
    _write(path, {"a": [[1], [0, 4]]}, DATA[:4], metadata={"x": 1})
    with pytest.raises(CheckpointError):
        gg.load(path)
    with pytest.raises(CheckpointError, match="__metadata__"):
        gg.load(path, mmap=True)


def test_mmap_reads_tensors_in_any_header_order(tmp_path):
    path = tmp_path / "order.safetensors"
    _write(path, {"b": [[2], [8, 16]], "a": [[2], [0, 8]], "e": [[0], [16, 16]]}, DATA)
    plain, mapped = gg.load(path), gg.load(path, mmap=True)
    assert sorted(plain) == sorted(mapped)  # the order of a foreign file's keys is the library's
    for k in plain:
        np.testing.assert_array_equal(mapped[k]._data, plain[k]._data)
