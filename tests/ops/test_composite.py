"""PyTorch's composite tensor functions (ops/composite.py, ops/scatter.py, ops/trig.py): values
and gradients against PyTorch, written once and run on both libraries."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))
V = RNG.standard_normal(4)
W = RNG.standard_normal(4)
BATCH1 = RNG.standard_normal((2, 3, 4))
BATCH2 = RNG.standard_normal((2, 4, 5))


def _leaves(lib, *arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


CASES = {
    "mm": (lambda lib, a, b: lib.mm(a, b), (A, B)),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), (BATCH1, BATCH2)),
    "mv": (lambda lib, a, v: lib.mv(a, v), (A, V)),
    "dot": (lambda lib, v, w: lib.dot(v, w), (V, W)),
    "addmm": (lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), (RNG.standard_normal(2), A, B)),
    "baddbmm": (
        lambda lib, c, a, b: lib.baddbmm(c, a, b, alpha=0.3),
        (RNG.standard_normal((2, 3, 5)), BATCH1, BATCH2),
    ),
    "addmv": (lambda lib, c, a, v: lib.addmv(c, a, v, beta=2.0), (RNG.standard_normal(3), A, V)),
    "lerp": (lambda lib, v, w: lib.lerp(v, w, 0.3), (V, W)),
    "addcmul": (lambda lib, c, v, w: lib.addcmul(c, v, w, value=0.5), (V, W, V * 2)),
    "addcdiv": (lambda lib, c, v, w: lib.addcdiv(c, v, w + 3.0, value=2.0), (V, W, np.abs(V))),
    "diag of a vector": (lambda lib, v: lib.diag(v, 1), (V,)),
    "diag of a matrix": (lambda lib, a: lib.diag(a, -1), (A,)),
    "trace": (lambda lib, a: lib.trace(a), (A,)),
    "repeat_interleave": (lambda lib, a: lib.repeat_interleave(a, 2, dim=1), (A,)),
    "tile": (lambda lib, a: lib.tile(a, (2, 1, 2)), (A,)),
    "log2": (lambda lib, v: lib.log2(v.abs() + 0.5), (V,)),
    "log10": (lambda lib, v: lib.log10(v.abs() + 0.5), (V,)),
    "exp2": (lambda lib, v: lib.exp2(v), (V,)),
    "logit": (lambda lib, v: lib.logit(v.sigmoid(), eps=1e-6), (V,)),
    "hstack": (lambda lib, a, b: lib.hstack([a, a * 2]), (A, B)),
    "vstack": (lambda lib, v, w: lib.vstack([v, w]), (V, W)),
    "masked_select": (lambda lib, a: lib.masked_select(a, a > 0), (A,)),
    "scatter": (
        lambda lib, a, src: lib.scatter(a, 1, lib.tensor([[0, 2], [1, 3], [3, 0]]), src),
        (A, RNG.standard_normal((3, 2))),
    ),
    "index_fill": (lambda lib, a: a.index_fill(1, lib.tensor([0, 2]), -1.0) * a, (A,)),
    "tan": (lambda lib, v: lib.tan(v * 0.5), (V,)),
    "asin": (lambda lib, v: lib.asin(v.tanh() * 0.9), (V,)),
    "acos": (lambda lib, v: lib.acos(v.tanh() * 0.9), (V,)),
    "atan": (lambda lib, v: lib.atan(v), (V,)),
    "atan2": (lambda lib, v, w: lib.atan2(v, w), (V, W)),
    "sinh": (lambda lib, v: lib.sinh(v), (V,)),
    "cosh": (lambda lib, v: lib.cosh(v), (V,)),
    "erf": (lambda lib, v: lib.erf(v), (V,)),
    "expm1": (lambda lib, v: lib.expm1(v), (V,)),
    "meshgrid": (lambda lib, v, w: lib.stack(lib.meshgrid(v, w * 2, indexing="xy")), (V, W)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_composite_matches_torch_values_and_gradients(torch, name):
    fn, arrays = CASES[name]
    ours, theirs = _leaves(gg, *arrays), _leaves(torch, *arrays)
    out, ref = fn(gg, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    up = RNG.standard_normal(tuple(ref.shape))
    out.backward(gg.tensor(up))
    ref.backward(torch.tensor(up))
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None or not o.grad.numpy().any()
        else:
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_value_functions_match_torch(torch):
    x = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, 2.0]])
    for lib in (gg, torch):
        t = lib.tensor(x)
        assert lib.isinf(t).tolist() == [[False, False, True], [True, False, False]]
        assert lib.nan_to_num(t, nan=0.5, posinf=9.0, neginf=-9.0).tolist() == [
            [1.0, 0.5, 9.0],
            [-9.0, 0.0, 2.0],
        ]
        assert lib.count_nonzero(lib.tensor([[0, 1], [2, 0]]), dim=1).tolist() == [1, 1]
        assert lib.argwhere(lib.tensor([[0, 1], [2, 0]])).tolist() == [[0, 1], [1, 0]]
        u, inv, cnt = lib.unique(lib.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
        assert (u.tolist(), inv.tolist(), cnt.tolist()) == ([1, 2, 3], [2, 0, 2, 1], [1, 1, 2])
        a = lib.tensor([1.0, 2.0])
        assert lib.allclose(a, a + 1e-9) and lib.equal(a, a.clone()) and not lib.equal(a, a[:1])
        assert lib.isclose(a, lib.tensor([1.0, 2.1])).tolist() == [True, False]


def test_out_and_shape_errors():
    a, b = gg.ones(2, 3), gg.ones(3, 4)
    out = gg.empty(1)
    assert gg.mm(a, b, out=out) is out and out.shape == (2, 4) and out.tolist() == [[3.0] * 4] * 2
    with pytest.raises(ValueError, match=r"mm: expected input with 2 dims, got shape \(2, 3, 1\)"):
        gg.mm(gg.ones(2, 3, 1), b)
    with pytest.raises(ValueError, match="bmm: expected equal batch sizes"):
        gg.bmm(gg.ones(2, 3, 4), gg.ones(3, 4, 5))
    with pytest.raises(ValueError, match="masked_select: expected a mask broadcastable"):
        gg.masked_select(a, gg.ones(5, dtype=gg.bool))
    with pytest.raises(ValueError, match="div: expected rounding_mode"):
        gg.div(a, 2.0, rounding_mode="up")


def test_mm_and_bmm_methods_check_dims_as_the_functions(torch):
    # found by tensorbasics probing (Machine-Learning-Collection): x.mm(y) went to matmul, so a
    # vector was taken (PyTorch: "self must be a matrix") and bmm took 2-d matrices
    for lib, err in ((torch, RuntimeError), (gg, gg.errors.ShapeError)):
        with pytest.raises(err):
            lib.ones(3).mm(lib.ones(3, 1))
        with pytest.raises(err):
            lib.ones(2, 3).mm(lib.ones(3))
        with pytest.raises(err):
            lib.ones(2, 3).bmm(lib.ones(3, 2))
        with pytest.raises(err):
            lib.ones(2, 2, 3).bmm(lib.ones(3, 3, 1))
    a, b = gg.tensor(BATCH1), gg.tensor(BATCH2)
    np.testing.assert_allclose(a.bmm(b).numpy(), torch.tensor(BATCH1).bmm(torch.tensor(BATCH2)).numpy())
    np.testing.assert_allclose(gg.tensor(A).mm(gg.tensor(B)).numpy(), A @ B)
