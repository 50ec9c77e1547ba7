"""Round 59, aliasing (a differential hunt against PyTorch: view, copy or the same object), part 1
(part 2: ``test_alias_round59_2.py``).

- ``ravel`` is PyTorch's ``contiguous().view(-1)``: a copy for every non-contiguous input, even one
  whose strides could show it flat (``x[:, ::2]``). glassgrad's was ``reshape(-1)``, a view there,
  so a write through the result changed the input.
- ``sum_to_size(())`` is ``sum()``, a new tensor, for a 0-d input too; glassgrad gave the input
  itself back, so ``y.add_(1)`` changed it.
- ``asarray`` of a 0-d ndarray copies (PyTorch reads it as a NumPy scalar), whatever ``copy``;
  glassgrad shared its memory.
- ``view_copy`` of a shape the strides cannot express is ``reshape``'s copy; glassgrad raised.
- ``_is_view()`` (PyTorch's private test of ``_base``) was missing.
- ``untyped_storage()``/``storage()`` of a stride-trick view (``diagonal``, ``unfold``,
  ``as_strided``) is its base's memory; glassgrad's was a copy of the view's elements (another
  ``data_ptr``, a write through it lost).
- ``vector_to_parameters`` points each parameter at its slice of the vector (PyTorch's
  ``param.data = vec[i:i + n].view_as(param).data``): a later write into the vector changes the
  parameters, their versions stay, they take the vector's dtype. glassgrad copied into them.
- ``as_strided_`` (the in-place form) was missing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _np(t) -> np.ndarray:
    return np.array(t.detach().tolist())


_INPUTS = {
    "contiguous": lambda L: L.arange(24.0).reshape(2, 3, 4),
    "transposed": lambda L: L.arange(24.0).reshape(2, 3, 4).transpose(0, 2),
    "strided_flat": lambda L: L.arange(48.0).reshape(2, 3, 8)[:, :, ::2],  # viewable as 1-d, stride 2
    "expanded": lambda L: L.arange(4.0).expand(3, 4),
    "zero_dim": lambda L: L.tensor(5.0),
}


def _writes_reach(L, make, op) -> tuple[bool, bool, bool]:
    """(a write through op(x) shows in x, x's version moves, the result is x)."""
    x = make(L)
    y = op(L, x)
    before, version = _np(x), x._version
    with L.no_grad():
        y[(0,) * y.dim()] = -7.0
    return not np.array_equal(before, _np(x)), x._version != version, y is x


@pytest.mark.parametrize("kind", sorted(_INPUTS))
@pytest.mark.parametrize(
    "opname",
    ["ravel", "torch.ravel", "flatten", "reshape", "contiguous", "sum_to_size_same", "sum_to_size_0d"],
)
def test_write_through_result_reaches_input_as_in_torch(torch, kind, opname):
    ops = {
        "ravel": lambda L, x: x.ravel(),
        "torch.ravel": lambda L, x: L.ravel(x),
        "flatten": lambda L, x: x.flatten(),
        "reshape": lambda L, x: x.reshape(-1),
        "contiguous": lambda L, x: x.contiguous(),
        "sum_to_size_same": lambda L, x: x.sum_to_size(x.shape),
        "sum_to_size_0d": lambda L, x: x.sum_to_size(()),
    }
    make, op = _INPUTS[kind], ops[opname]
    assert _writes_reach(gg, make, op) == _writes_reach(torch, make, op)


@pytest.mark.parametrize("name", LIBS)
def test_ravel_of_strided_input_is_a_copy_with_its_own_gradient(torch, name):
    L = _lib(name, torch)
    leaf = L.arange(48.0, dtype=L.float64).requires_grad_()
    x = leaf.view(2, 3, 8)[:, :, ::2]
    y = x.ravel()
    assert y.is_contiguous() and y.stride() == (1,)
    y.mul_(2.0)  # an in-place change of the copy: no CopySlices into leaf's memory
    (y * L.arange(24.0, dtype=L.float64)).sum().backward()
    want = np.zeros(48)
    want.reshape(2, 3, 8)[:, :, ::2] = 2.0 * np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(leaf.grad.numpy(), want)
    np.testing.assert_array_equal(_np(x), np.arange(48.0).reshape(2, 3, 8)[:, :, ::2])


def test_sum_to_size_0d_is_a_new_tensor_against_torch(torch):
    got = []
    for L in (gg, torch):
        x = L.tensor(3.0, requires_grad=True)
        y = x.sum_to_size(())
        z = y * 2
        got.append((y is x, y.is_leaf, y.requires_grad, z.item()))
        z.backward()
        got.append(x.grad.item())
    assert got[:2] == got[2:]


@pytest.mark.parametrize("copy", [None, False, True])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_asarray_of_0d_ndarray_copies_as_torch(torch, copy, dtype):
    got = []
    for L in (gg, torch):
        a = np.array(5, dtype=dtype)
        t = L.asarray(a, copy=copy)
        a[()] = 7
        got.append((t.item(), str(t.dtype).split(".")[-1], tuple(t.shape)))
    assert got[0] == got[1]


@pytest.mark.parametrize("copy", [None, False])
def test_asarray_of_1d_ndarray_still_shares(torch, copy):
    for L in (gg, torch):
        a = np.array([5.0])
        t = L.asarray(a, copy=copy)
        a[0] = 7.0
        assert t.item() == 7.0


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("size", [(-1,), (2, 6), [3, 4]])
def test_view_copy_of_a_non_viewable_shape_is_reshape(torch, name, size):
    L = _lib(name, torch)
    x = L.arange(12.0, dtype=L.float64).view(3, 4).t()
    y = L.view_copy(x, size)
    np.testing.assert_array_equal(_np(y), np.arange(12.0).reshape(3, 4).T.reshape(size))
    assert y.is_contiguous() and y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    with L.no_grad():
        y.view(-1)[0] = -1.0
    assert x[0, 0].item() == 0.0


def test_view_copy_bad_size_raises_in_both(torch):
    for L in (gg, torch):
        with pytest.raises(RuntimeError):
            L.view_copy(L.arange(6.0).view(2, 3).t(), (4,))


@pytest.mark.parametrize(
    "case",
    [
        "view",
        "transpose",
        "slice",
        "split",
        "detach",
        "data",
        "clone",
        "leaf",
        "contiguous_self",
        "no_grad_view",
    ],
)
def test_is_view_against_torch(torch, case):
    def run(L):
        x = L.arange(6.0).view(2, 3) if case != "leaf" else L.ones(2, 3)
        ops = {
            "view": lambda: x.view(-1),
            "transpose": lambda: x.t(),
            "slice": lambda: x[:, 1:],
            "split": lambda: x.split(1)[0],
            "detach": lambda: x.detach(),
            "data": lambda: x.data,
            "clone": lambda: x.clone(),
            "leaf": lambda: x,
            "contiguous_self": lambda: L.ones(3).contiguous(),
            "no_grad_view": lambda: x[0],
        }
        if case == "no_grad_view":
            with L.no_grad():
                y = ops[case]()
        else:
            y = ops[case]()
        return y._is_view(), x._is_view()

    assert run(gg) == run(torch)


# ---- storage of a stride-trick view (diagonal, unfold, as_strided) ------------------------------
@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("op", ["diagonal", "diagonal_offset", "unfold", "as_strided", "transpose"])
def test_storage_of_strided_view_is_the_base_memory(torch, name, op):
    L = _lib(name, torch)
    x = L.arange(12.0, dtype=L.float64).view(3, 4)
    y = {
        "diagonal": lambda: x.diagonal(),
        "diagonal_offset": lambda: x.diagonal(1),
        "unfold": lambda: x.unfold(1, 2, 1),
        "as_strided": lambda: x.as_strided((2, 2), (4, 2), 1),
        "transpose": lambda: x.t(),
    }[op]()
    storage = y.untyped_storage()
    assert storage.data_ptr() == x.untyped_storage().data_ptr()
    assert storage.nbytes() == 96 and y.storage_offset() == {"diagonal_offset": 1, "as_strided": 1}.get(op, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TypedStorage's deprecation, once per process in both
        typed = y.storage()
    assert len(typed) == 12
    typed[5] = -1.0  # a write through the view's storage reaches the base
    assert x[1, 1].item() == -1.0


# ---- vector_to_parameters: the parameters become views of the vector ---------------------------
@pytest.mark.parametrize("name", LIBS)
def test_vector_to_parameters_shares_vec_memory(torch, name):
    L = _lib(name, torch)
    m = L.nn.Linear(3, 2).double()
    vec = L.arange(9, dtype=L.float64) / 4  # one more element than the 8 parameters: not used
    versions = [p._version for p in m.parameters()]
    L.nn.utils.vector_to_parameters(vec, m.parameters())
    assert [p._version for p in m.parameters()] == versions
    vec.mul_(-2)  # a later write into vec is seen by the parameters, as PyTorch's .data views
    np.testing.assert_array_equal(_np(m.weight), -np.arange(6.0).reshape(2, 3) / 2)
    np.testing.assert_array_equal(_np(m.bias), -np.arange(6.0, 8.0) / 2)
    assert all(p.is_leaf and p.requires_grad for p in m.parameters())
    m(L.ones(1, 3, dtype=L.float64)).sum().backward()
    np.testing.assert_array_equal(_np(m.weight.grad), np.ones((2, 3)))


@pytest.mark.parametrize("name", LIBS)
def test_vector_to_parameters_takes_the_vector_dtype(torch, name):
    L = _lib(name, torch)
    p = L.nn.Parameter(L.zeros(2, 2))
    L.nn.utils.vector_to_parameters(L.arange(4, dtype=L.float64), [p])
    assert str(p.dtype).split(".")[-1] == "float64"
    np.testing.assert_array_equal(_np(p), np.arange(4.0).reshape(2, 2))


def test_vector_to_parameters_short_vector_raises():
    with pytest.raises(RuntimeError, match=r"expected a vector \(4,\), got \(3,\)"):
        gg.nn.utils.vector_to_parameters(gg.zeros(3), [gg.nn.Parameter(gg.zeros(2, 2))])


# ---- as_strided_ --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
def test_as_strided_inplace_is_self_over_the_base_memory(torch, name):
    L = _lib(name, torch)
    base = L.arange(12.0, dtype=L.float64)
    x = base[2:]
    y = x.as_strided_((2, 3), (3, 1), 4)  # the offset counts from the start of the memory
    assert y is x and x._version == 1 and x._base is base and x.storage_offset() == 4
    np.testing.assert_array_equal(_np(x), np.arange(4.0, 10.0).reshape(2, 3))
    x[0, 0] = -1.0
    assert base[4].item() == -1.0


@pytest.mark.parametrize("name", LIBS)
def test_as_strided_inplace_in_graph_and_on_leaf(torch, name):
    L = _lib(name, torch)
    leaf = L.ones(6, dtype=L.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.as_strided_((2, 3), (3, 1))
    h = leaf * 2
    h.as_strided_((3,), (2,))
    (h * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    np.testing.assert_array_equal(_np(leaf.grad), [2.0, 0.0, 4.0, 0.0, 6.0, 0.0])
