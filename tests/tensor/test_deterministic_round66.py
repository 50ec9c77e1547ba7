"""Round 66 (PyTorch's test_torch.py, deterministic mode): with ``use_deterministic_algorithms(True)``
new memory (``empty*``, a growing ``resize_``) is NaN / the dtype's largest value, as PyTorch's
``torch.utils.deterministic.fill_uninitialized_memory``; ``put_`` without ``accumulate`` is refused
(a warning with ``warn_only``), as on PyTorch's CPU; ``resize_`` of an ``empty_strided`` tensor reads
its memory as PyTorch's storage (it read the elements in logical order)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

DTYPES = ("float32", "float64", "float16", "complex64", "int8", "uint8", "int32", "int64", "bool")


@pytest.fixture(autouse=True)
def _restore():
    yield
    gg.use_deterministic_algorithms(False)
    gg.utils.deterministic.fill_uninitialized_memory = True


def _fills(lib, name):
    dt = getattr(lib, name)
    makers = [
        lambda: lib.empty(3, 2, dtype=dt),
        lambda: lib.empty(3, 2, out=lib.zeros(1, dtype=dt)),
        lambda: lib.empty_like(lib.zeros(3, 2, dtype=dt)),
        lambda: lib.empty_strided((3, 2), (1, 3), dtype=dt),
        lambda: lib.empty_permuted((2, 3, 1), (1, 0, 2), dtype=dt),
        lambda: lib.zeros(1, dtype=dt).new_empty(4),
        lambda: lib.zeros(2, dtype=dt).resize_(5)[2:],
    ]
    lib.use_deterministic_algorithms(True)
    try:
        out = [np.array(m().tolist()) for m in makers]
    finally:
        lib.use_deterministic_algorithms(False)
    return out


@pytest.mark.parametrize("name", DTYPES)
def test_deterministic_mode_fills_new_memory_as_torch(torch, name):
    for got, want in zip(_fills(gg, name), _fills(torch, name), strict=True):
        np.testing.assert_array_equal(got, want)


def test_fill_switch_and_default_mode():
    assert gg.utils.deterministic.fill_uninitialized_memory is True
    assert gg.empty(3).tolist() == [0.0, 0.0, 0.0]  # off: zeros (design.md)
    gg.use_deterministic_algorithms(True)
    gg.utils.deterministic.fill_uninitialized_memory = False
    assert gg.empty(3).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="fill_uninitialized_memory"):
        gg.utils.deterministic.fill_uninitialized_memory = 1


def _alerts(lib):
    out = []
    a, i, v = lib.zeros(4), lib.tensor([0, 0]), lib.tensor([1.0, 2.0])
    lib.use_deterministic_algorithms(True)
    try:
        for call in (lambda: a.put_(i, v), lambda: a.put(i, v), lambda: lib.put(a, i, v)):
            with pytest.raises(RuntimeError, match="put_ does not have a deterministic implementation"):
                call()
        out.append(a.clone().put_(i, v, accumulate=True).tolist())
        lib.use_deterministic_algorithms(True, warn_only=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out.append(a.clone().put_(i, v).tolist()[1:])
        out.append([str(x.message).startswith("put_ does not have") for x in w])
    finally:
        lib.use_deterministic_algorithms(False)
    return out


def test_put_alerts_in_deterministic_mode_as_torch(torch):
    assert _alerts(gg) == _alerts(torch)


def _strided_resize(lib, size, stride, new):
    a = lib.empty_strided(size, stride, dtype=lib.float64)
    a.copy_(lib.arange(float(np.prod(size)), dtype=lib.float64).reshape(size))
    a.resize_(new)
    return a.flatten()


@pytest.mark.parametrize(
    ("size", "stride", "new"),
    [((2, 3, 4), (1, 2, 6), (2, 3, 4, 1)), ((3, 4), (1, 3), (12,)), ((2, 3), (3, 1), (2, 2))],
)
def test_resize_of_empty_strided_reads_its_memory_as_torch(torch, size, stride, new):
    got = _strided_resize(gg, size, stride, new)
    want = _strided_resize(torch, size, stride, new)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
