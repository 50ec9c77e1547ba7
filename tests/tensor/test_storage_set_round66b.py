"""Round 66b (PyTorch's test_torch.py, ``test_storage_casts``, ``test_tensor_set``): a typed
storage's conversions (``float()``, ``int()`` ..., copies converted as ``Tensor.to``), its legacy
``type()`` name, and ``set_(source_tensor, storage_offset, size, stride)``, PyTorch's overload that
takes a contiguous tensor as the storage, counting the offset from its first element."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # storage()'s deprecation warning
        yield


_CASTS = [
    "byte",
    "char",
    "short",
    "int",
    "long",
    "half",
    "float",
    "double",
    "bool",
    "complex_float",
    "complex_double",
]


def _casts(lib):
    s = lib.FloatStorage([-1.5, 0.0, 2.5, 300.0])
    out = []
    for name in _CASTS:
        c = getattr(s, name)()
        out.append((name, str(c.dtype).split(".")[-1], c.tolist(), c.type().split(".")[-1]))
    return out


def test_typed_storage_casts_match_torch(torch):
    assert _casts(gg) == _casts(torch)


def _cast_is_a_copy(lib):
    t = lib.zeros(3)
    same, other = t.storage().float(), t.storage().double()
    same[0], other[1] = 5.0, 6.0  # neither writes into t
    return [t.tolist(), same.tolist(), other.tolist(), t.storage().is_cuda, t.storage().type()]


def test_typed_storage_cast_copies_even_for_its_own_dtype(torch):
    assert _cast_is_a_copy(gg) == _cast_is_a_copy(torch)


def _set_from_tensor(lib):
    src = lib.arange(8.0)
    a = lib.tensor([]).set_(src, 1, (2, 2), (1, 2))
    b = lib.tensor([]).set_(src[2:], 1, (2,), (1,))  # the offset counts from src's first element
    c = lib.tensor([]).set_(src, storage_offset=3, size=(3,))  # stride: contiguous
    a[0, 0] = -1.0  # shared with src
    return [a.tolist(), b.tolist(), c.tolist(), src.tolist(), b.storage_offset(), c.stride()]


def test_set_with_a_tensor_source_and_offset_matches_torch(torch):
    assert _set_from_tensor(gg) == _set_from_tensor(torch)


def test_set_with_a_non_contiguous_tensor_source_raises(torch):
    with pytest.raises(RuntimeError, match="contiguous"):
        torch.tensor([]).set_(torch.arange(6.0).view(2, 3).t(), 0, (2,), (1,))
    with pytest.raises(RuntimeError, match="contiguous"):
        gg.tensor([]).set_(gg.arange(6.0).view(2, 3).t(), 0, (2,), (1,))


def test_set_with_a_tensor_source_and_offset_but_no_size_raises(torch):
    with pytest.raises(TypeError):
        torch.tensor([]).set_(torch.arange(6.0), 0)
    with pytest.raises(TypeError):
        gg.tensor([]).set_(gg.arange(6.0), 0)


def test_set_from_tensor_past_its_memory_raises():
    with pytest.raises(RuntimeError, match="past the storage"):
        gg.tensor([]).set_(gg.arange(4.0), 2, (3,), (1,))
