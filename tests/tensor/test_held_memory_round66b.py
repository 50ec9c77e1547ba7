"""Round 66b (PyTorch's test_torch.py, ``test_numpy_unresizable``): memory a NumPy array shares
is not resizable. ``from_numpy``, a sharing ``as_tensor``/``asarray``, ``frombuffer`` and a tensor
whose ``.numpy()`` was taken refuse a ``resize_`` past their memory, as PyTorch's storages do; growing
would give the tensor a new array and silently cut it off from the one the program holds. Shrinking,
and tensors over memory glassgrad made (``tensor(a)``, copies, ufunc results), still resize."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _grow_cases(lib):
    """(name, thunk) pairs that PyTorch refuses with 'not resizable'."""

    def taken_numpy():
        t = lib.zeros(3)
        t.numpy()
        return t.resize_(5)

    return [
        ("from_numpy", lambda: lib.from_numpy(np.zeros(3)).resize_(4)),
        ("from_numpy view", lambda: lib.from_numpy(np.zeros(3))[1:].resize_(3)),
        ("from_numpy detach", lambda: lib.from_numpy(np.zeros(3)).detach().resize_(4)),
        ("from_numpy row", lambda: lib.from_numpy(np.zeros((2, 3)))[1].resize_(4)),
        ("as_tensor", lambda: lib.as_tensor(np.zeros(3)).resize_(4)),
        ("asarray", lambda: lib.asarray(np.zeros(3)).resize_(4)),
        ("frombuffer", lambda: lib.frombuffer(bytearray(8), dtype=lib.float32).resize_(3)),
        ("resize_as_", lambda: lib.from_numpy(np.zeros(3)).resize_as_(lib.zeros(5))),
        ("numpy() taken", taken_numpy),
    ]


@pytest.mark.parametrize("case", range(9))
def test_growing_shared_numpy_memory_raises_as_torch(torch, case):
    name, thunk = _grow_cases(torch)[case]
    with pytest.raises(RuntimeError, match="not resizable"):
        thunk()
    name_gg, thunk_gg = _grow_cases(gg)[case]
    assert name_gg == name
    with pytest.raises(RuntimeError, match="not resizable"):
        thunk_gg()


def _allowed(lib):
    a = np.arange(6.0)
    shrunk = lib.from_numpy(a).resize_(2, 2)  # within the memory: a view of it, still shared
    shrunk[0, 0] = 7.0
    regrown = lib.from_numpy(a).resize_(0).resize_(6)  # back up to the memory's end: allowed
    return [
        shrunk.tolist(),
        float(a[0]),
        regrown.shape,
        tuple(lib.tensor(np.zeros(3)).resize_(5).shape),  # a copy: glassgrad's (PyTorch's) memory
        tuple(lib.as_tensor(np.zeros(3), dtype=lib.float32).resize_(5).shape),  # a cast copy
        tuple(lib.asarray(np.zeros(3), copy=True).resize_(5).shape),
        tuple(lib.from_numpy(np.zeros(3)).clone().resize_(5).shape),
        tuple(lib.from_numpy(np.zeros(3)).float().resize_(5).shape),
        tuple(lib.zeros(3).resize_(5).shape),  # no NumPy holder
    ]


def test_resizes_that_stay_allowed_match_torch(torch):
    assert _allowed(gg) == _allowed(torch)


def test_numpy_ufunc_result_is_resizable():
    t = np.sqrt(gg.ones(3))  # __array_wrap__: NumPy's own new array, no one else holds it
    assert isinstance(t, gg.Tensor)
    assert tuple(t.resize_(5).shape) == (5,)


def test_refusal_keeps_the_tensor_and_array_shared():
    a = np.zeros(3)
    t = gg.from_numpy(a)
    with pytest.raises(RuntimeError, match="not resizable"):
        t.resize_(4)
    t[0] = 2.0  # still the array's memory after the refused resize
    assert a[0] == 2.0
