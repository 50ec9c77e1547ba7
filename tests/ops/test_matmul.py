"""ops/matmul.py: PyTorch parity for matmul (every layout, broadcast batch dims), einsum and outer;
dtype and shape errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import matmul as M


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(dtype)


def parity(g_fn, t_fn, *arrays, atol=1e-10, rtol=1e-10):
    torch = pytest.importorskip("torch")
    gx = [gg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    go, to = g_fn(*gx), t_fn(*tx)
    assert go.shape == tuple(to.shape) and go._data.dtype == to.detach().numpy().dtype
    np.testing.assert_allclose(go._data, to.detach().numpy(), atol=atol, rtol=rtol)
    u = np.random.default_rng(2).standard_normal(go.shape).astype(go._data.dtype)
    go.backward(u)
    to.backward(torch.tensor(u))
    for g, t in zip(gx, tx):
        assert g.grad.shape == g.shape  # broadcast batch dims were summed back
        np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=atol, rtol=rtol)


LAYOUTS = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),  # batch dims broadcast both ways
    ((1, 2, 3), (6, 3, 4)),
    ((0, 2, 3), (3, 4)),  # empty batch
    ((2, 0), (0, 4)),  # empty contraction: zeros
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("sa, sb", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_parity(sa, sb, dtype):
    tol = {"atol": 1e-10, "rtol": 1e-10} if dtype == np.float64 else {"atol": 1e-5, "rtol": 1e-5}
    parity(
        lambda a, b: a @ b, lambda a, b: a @ b, rand(*sa, dtype=dtype), rand(*sb, dtype=dtype, seed=1), **tol
    )


def test_matmul_non_contiguous_operands_and_methods():
    f = lambda x, y: x.transpose(1, 2).matmul(y)  # noqa: E731 - (4, 3, 2) -> (4, 2, 3), not contiguous
    parity(f, f, rand(4, 3, 2), rand(3, 4, seed=3))
    parity(f, f, rand(4, 3, 2), rand(4, 3, 5, seed=3))
    parity(lambda x, y: x.mm(y), lambda x, y: x.mm(y), rand(2, 3), rand(3, 4))
    parity(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), rand(5, 2, 3), rand(5, 3, 4))


def test_matmul_integers_and_arrays(torch):
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    out = M.matmul(gg.tensor(a), gg.tensor(b))
    assert out.dtype == gg.int64 and not out.requires_grad
    np.testing.assert_array_equal(out._data, (torch.tensor(a) @ torch.tensor(b)).numpy())
    # an ndarray operand is NumPy's to multiply, as PyTorch's @ declines it: x @ a is NumPy's
    # product handed back as a tensor, a @ x finds no operator that takes it
    for lib in (gg, torch):
        x = lib.tensor(rand(2, 3))
        out = x @ rand(3, 2)
        assert type(out) is lib.Tensor
        np.testing.assert_allclose(out.numpy(), x.numpy() @ rand(3, 2), rtol=1e-15)
        with pytest.raises(TypeError, match="unsupported operand"):
            rand(4, 2) @ x


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


def test_matmul_errors():
    with raises(ShapeError, "matmul: expected (..., n, k) @ (..., k, m), got (4, 3) @ (5, 2)"):
        gg.ones(4, 3) @ gg.ones(5, 2)
    with raises(ShapeError, "matmul: expected (..., n, k) @ (..., k, m), got (2, 4, 3) @ (3, 3, 2)"):
        gg.ones(2, 4, 3) @ gg.ones(3, 3, 2)
    with raises(ShapeError, "matmul: expected (..., n, k) @ (..., k, m), got (3,) @ (4,)"):
        gg.ones(3) @ gg.ones(4)
    with raises(DTypeError, "matmul: expected both operands of one dtype, got float32 and float64"):
        gg.ones(2, 3) @ gg.ones(3, 2, dtype=gg.float64)
    with raises(DTypeError, "matmul: expected both operands of one dtype, got float32 and int64"):
        gg.ones(2, 3) @ gg.tensor([[1], [2], [3]])
    with raises(DTypeError, "matmul: \"dot\" not implemented for 'Bool'"):
        M.matmul(gg.tensor([True]), gg.tensor([False]))
    with raises(ShapeError, "matmul: expected operands with at least 1 dim, got (3,) @ ()"):
        M.matmul(gg.ones(3), gg.tensor(2.0))


# ------------------------------------------------------------------ einsum
EINSUMS = [
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bi,bi->b", [(3, 4), (3, 4)]),
    ("nchw,oc->nohw", [(2, 3, 4, 5), (6, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...kj->...ik", [(2, 3, 4, 5), (3, 6, 5)]),
    ("...ij,...kj->...ik", [(4, 5), (2, 6, 5)]),
    ("...ij,...kj->...ik", [(2, 1, 4, 5), (3, 6, 5)]),  # size-1 batch dim broadcast
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output
    ("ba,bc", [(3, 4), (3, 5)]),  # implicit output is alphabetical: ac
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij,k->ik", [(3, 4), (5,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),  # spaces are ignored
]


@pytest.mark.parametrize("eq, shapes", EINSUMS)
def test_einsum_parity(torch, eq, shapes):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    parity(lambda *ts: M.einsum(eq, *ts), lambda *ts: torch.einsum(eq, *ts), *arrays)


def test_einsum_float32_and_list_operands(torch):
    a, b = rand(2, 3, 4, dtype=np.float32), rand(2, 5, 4, dtype=np.float32, seed=1)
    parity(
        lambda x, y: M.einsum("bij,bkj->bik", [x, y]),
        lambda x, y: torch.einsum("bij,bkj->bik", [x, y]),
        a,
        b,
        atol=1e-5,
        rtol=1e-5,
    )


def test_outer_parity(torch):
    parity(M.outer, torch.outer, rand(3), rand(4, seed=1))
    with raises(ShapeError, "outer: expected two 1-D tensors, got (3, 1) and (4,)"):
        M.outer(gg.ones(3, 1), gg.ones(4))


def test_einsum_errors():
    a, b = gg.ones(2, 3), gg.ones(4, 5)
    with raises(ShapeError, "einsum: expected 2 operands for 'ij,jk->ik', got 1"):
        M.einsum("ij,jk->ik", a)
    with raises(
        ShapeError,
        "einsum: expected index 'j' to have one size, got 3 in operand 0 (2, 3) and 4 in operand 1 (4, 5)",
    ):
        M.einsum("ij,jk->ik", a, b)
    with raises(ShapeError, "einsum: operand 0 has shape (2, 3), but 'ijk' names 3 dims"):
        M.einsum("ijk->i", a)
    # a repeated index of one size takes the diagonal; of two sizes (even one of them 1) is refused
    with raises(ShapeError, "einsum: expected index 'i' to have one size, got 2 in operand 0 (2, 3) and 3"):
        M.einsum("ii->i", gg.ones(2, 3))
    with raises(ShapeError, "einsum: index 'i' repeated in one operand must have one size, got 1 and 3"):
        M.einsum("ii->i", gg.ones(1, 3))
    with raises(ShapeError, "einsum: expected output indices that appear once and in some operand"):
        M.einsum("ij->iz", a)
    with raises(ShapeError, "einsum: expected letters"):
        M.einsum("i1->i", gg.ones(3, 3))
    with raises(DTypeError, "einsum: expected scalar type float32 but found float64"):  # 'j' summed
        M.einsum("ij,jk->ik", a, gg.ones(3, 2, dtype=gg.float64))


def test_scalar_results_are_0d_arrays():
    v = gg.tensor(rand(3), requires_grad=True)
    assert isinstance((v @ v)._data, np.ndarray)
    assert isinstance(M.einsum("i->", v)._data, np.ndarray)
