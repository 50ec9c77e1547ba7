"""Round 31, detection programs (facebookresearch/detr, eriklindernoren/PyTorch-YOLOv3).

DETR's PostProcessPanoptic turns a PIL image back into a tensor with
``torch.ByteTensor(torch.ByteStorage.from_buffer(img.tobytes())).view(h, w, 3)``: the legacy typed
storages and a typed tensor over one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _rgb_bytes(h: int = 5, w: int = 4) -> bytes:
    ids = np.random.RandomState(0).randint(0, 7, size=(h, w))
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], -1).astype(np.uint8)
    return rgb.tobytes()


def test_bytetensor_over_bytestorage_from_buffer_as_detr_panoptic(torch):
    buf = _rgb_bytes()
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        ours = gg.ByteTensor(gg.ByteStorage.from_buffer(buf)).view(5, 4, 3).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.ByteTensor(torch.ByteStorage.from_buffer(buf)).view(5, 4, 3).numpy()
    assert ours.dtype == ref.dtype == np.uint8
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("order", ["little", "big", "native"])
def test_float_storage_from_buffer_byte_order_count_offset(torch, order):
    buf = np.arange(6, dtype=np.float32).tobytes()
    ours = gg.FloatTensor(gg.FloatStorage.from_buffer(buf, order, count=3, offset=4)).numpy()
    ref = torch.FloatTensor(torch.FloatStorage.from_buffer(buf, order, count=3, offset=4)).numpy()
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == ref.dtype


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_storage_refusals_match_torch(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):  # a multi-byte element needs a byte order
            lib.FloatStorage.from_buffer(bytes(8))
        with pytest.raises(RuntimeError):  # a FloatTensor over bytes
            lib.FloatTensor(lib.ByteStorage.from_buffer(bytes(8)))


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_storage_kinds_values_and_shared_memory(torch):
    s = gg.ByteStorage.from_buffer(b"\x01\x02\x03")
    assert isinstance(s, gg.ByteStorage) and isinstance(s, gg.TypedStorage)
    assert not isinstance(s, gg.FloatStorage) and s.dtype == gg.uint8 and len(s) == 3
    t = gg.ByteTensor(s)
    t[0] = 9  # the tensor is over the storage's memory, as in PyTorch
    assert s[0] == 9 and s.tolist() == [9, 2, 3]
    assert gg.FloatStorage([1, 2]).tolist() == torch.FloatStorage([1, 2]).tolist() == [1.0, 2.0]
    assert len(gg.LongStorage(4)) == len(torch.LongStorage(4)) == 4
