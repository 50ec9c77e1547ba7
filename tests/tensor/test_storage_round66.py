"""Round 66 (PyTorch's test_torch.py, storages): slice writes into a storage, ``copy_``/``clone``/
``untyped`` on storages, ``deepcopy`` keeping a tensor and its storage shared, a complex tensor's
storage reading complex elements, and ``tensor(storage, dtype=...)`` reading the storage's memory."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import glassgrad as gg


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # storage()'s deprecation warning
        yield


def _writes(lib):
    t = lib.arange(8.0)
    s = t.storage()
    s[:] = 0
    s[2:6] = 1
    s[0:8:3] = -2
    s[6:] = lib.tensor([7.0, 9.0])
    return t.tolist(), s.tolist()


def test_storage_slice_writes_match_torch(torch):
    assert _writes(gg) == _writes(torch)


def test_typed_storage_refuses_a_slice_read(torch):
    with pytest.raises(RuntimeError, match="UntypedStorage"):
        torch.arange(3.0).storage()[0:2]
    with pytest.raises(RuntimeError, match="UntypedStorage"):
        gg.arange(3.0).storage()[0:2]


def _copies(lib):
    t = lib.arange(3, dtype=lib.int16)
    s = t.storage()
    c = s.clone()
    c[0] = 100  # a copy: t keeps its 0
    d = lib.zeros(3, dtype=lib.int16).storage()
    d.copy_(s)
    u = s.untyped()
    u[0] = 5  # the same bytes: t[0] becomes 5
    return t.tolist(), c.tolist(), d.tolist(), u.tolist(), u.nbytes(), s.is_pinned(), s.is_shared()


def test_storage_copy_clone_untyped_match_torch(torch):
    assert _copies(gg) == _copies(torch)


def test_storage_copy_refuses_other_byte_size(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="size does not match"):
            lib.zeros(3).storage().copy_(lib.zeros(2).storage())


def _deepcopied(lib):
    lib.manual_seed(0)
    a = lib.arange(9.0).view(3, 3)
    w = copy.deepcopy([a, a.storage(), a[1]])
    w[0].add_(1)  # the copies share memory among themselves, not with a
    return w[1].tolist(), w[2].tolist(), a.tolist()


def test_deepcopy_keeps_tensor_and_storage_shared(torch):
    assert _deepcopied(gg) == _deepcopied(torch)


def test_complex_storage_elements_are_complex(torch):
    x = np.array([1 + 2j, -3 + 0.5j], dtype=np.complex64)
    for lib in (torch, gg):
        a = lib.tensor(x)
        b = lib.view_as_real(lib.randn(2, dtype=lib.complex64))
        assert a.storage()[1] == complex(x[1]), lib.__name__
        assert a.storage().size() == 2 and b.storage().size() == 4 and b.storage().dtype == lib.float32
    # randn's complex memory is a float array underneath: its storage still reads complex elements
    c = gg.randn(3, dtype=gg.complex64)
    assert c.storage().tolist() == c.tolist()


def _from_storage(lib):
    t = lib.arange(3, dtype=lib.int16)
    u = t.untyped_storage()
    same = lib.tensor(u, dtype=lib.int16)
    same[0] = 7  # shares the memory, as PyTorch's
    return (
        same.tolist(),
        t.tolist(),
        lib.tensor(u, dtype=lib.uint8).tolist(),
        lib.tensor(u, dtype=lib.int32).tolist(),
        lib.tensor(t.storage(), dtype=lib.int16).dtype == lib.int16,
    )


def test_tensor_of_untyped_storage_reads_bytes_as_dtype(torch):
    assert _from_storage(gg) == _from_storage(torch)


def test_tensor_of_typed_storage_refuses_other_dtype(torch):
    for lib in (torch, gg):
        s = lib.arange(3, dtype=lib.int16).storage()
        with pytest.raises(RuntimeError, match="Expected a Storage of type"):
            lib.tensor(s, dtype=lib.int32)
        with pytest.raises(RuntimeError, match="Expected a Storage of type"):
            lib.tensor(s)  # None means the default dtype, float32
        with pytest.raises(RuntimeError, match="Expected a Storage of type"):
            lib.tensor([], dtype=lib.int32).set_(s)


def test_fresh_storage_tensor_detaches():
    t = gg.tensor(gg.UntypedStorage(4), dtype=gg.int16)
    assert t.detach().tolist() == [0, 0]
    assert gg.tensor(gg.arange(3.0).untyped_storage().clone(), dtype=gg.float32).detach().shape == (3,)


def test_element_size_helper(torch):
    for name in ("uint8", "bool", "int16", "float32", "float64", "complex128"):
        assert gg._utils._element_size(getattr(gg, name)) == torch._utils._element_size(getattr(torch, name))
