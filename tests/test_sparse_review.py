"""Review regressions for sparse COO tensors against PyTorch: addmm with beta=0, in-place changes
of the values after building, requires_grad_() on a tensor built from the caller's values, values
that already require grad, and sparse + sparse of two dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

IX = [[1, 0, 1, 0, 2], [2, 0, 2, 1, 0]]  # (1, 2) is stored twice
VALS = [1.0, 2.0, 3.0, 4.0, -1.5]


def _t(torch, vals, dtype):
    return torch.sparse_coo_tensor(torch.tensor(IX), torch.tensor(vals, dtype=dtype), (3, 3))


def test_addmm_beta_zero_drops_nan_input(torch):
    inp = np.ones((3, 4))
    inp[0, 0] = np.nan
    d = np.arange(12.0).reshape(3, 4)
    i = gg.tensor(inp, requires_grad=True)
    s = gg.sparse_coo_tensor(IX, np.array(VALS), (3, 3))
    out = gg.sparse.addmm(i, s, gg.tensor(d), beta=0.0, alpha=2.0)
    it = torch.tensor(inp, requires_grad=True)
    ot = torch.sparse.addmm(it, _t(torch, VALS, torch.float64), torch.tensor(d), beta=0.0, alpha=2.0)
    np.testing.assert_allclose(out.detach().numpy(), ot.detach().numpy())
    assert not np.isnan(out.detach().numpy()).any()
    out.sum().backward()
    ot.sum().backward()
    np.testing.assert_array_equal(i.grad.numpy(), it.grad.numpy())  # zeros


def test_addmm_alpha_zero_keeps_nan_as_pytorch(torch):
    d = np.ones((3, 4))
    d[0, 0] = np.nan
    s = gg.sparse_coo_tensor(IX, np.array(VALS), (3, 3))
    out = gg.sparse.addmm(gg.ones(3, 4, dtype=gg.float64), s, gg.tensor(d), alpha=0.0)
    ot = torch.sparse.addmm(
        torch.ones(3, 4, dtype=torch.float64), _t(torch, VALS, torch.float64), torch.tensor(d), alpha=0.0
    )
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(ot.numpy()))


def test_inplace_change_of_values_after_requires_grad_build_raises():
    v = gg.tensor(VALS, dtype=gg.float64)
    s = gg.sparse_coo_tensor(IX, v, (3, 3), requires_grad=True)
    d = gg.ones(3, 2, dtype=gg.float64, requires_grad=True)
    out = gg.sparse.mm(s, d)
    with gg.no_grad():
        v.mul_(10.0)  # the sparse tensor aliases v, as PyTorch's: the forward's values are gone
    assert s.to_dense()[1, 2].item() == 40.0
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


def test_requires_grad_on_sparse_leaf_leaves_callers_values_alone(torch):
    v = gg.tensor(VALS, dtype=gg.float64)
    s = gg.sparse_coo_tensor(IX, v, (3, 3)).requires_grad_()
    vt = torch.tensor(VALS, dtype=torch.float64)
    t = torch.sparse_coo_tensor(torch.tensor(IX), vt, (3, 3)).requires_grad_()
    assert v.requires_grad == vt.requires_grad is False and s.is_leaf and s.requires_grad
    (v * 2).sum()  # an unrelated use of v must not reach s.grad
    assert s.grad is None
    m = np.arange(6.0).reshape(3, 2)
    gg.sparse.mm(s, gg.tensor(m)).sum().backward()
    torch.sparse.mm(t, torch.tensor(m)).sum().backward()
    assert v.grad is None and vt.grad is None
    np.testing.assert_allclose(s.grad.to_dense().numpy(), t.grad.to_dense().numpy())
    with gg.no_grad():
        v.mul_(2.0)  # still the same memory, as PyTorch's
    with torch.no_grad():
        vt.mul_(2.0)
    np.testing.assert_allclose(s.to_dense().detach().numpy(), t.to_dense().detach().numpy())


def test_values_requiring_grad_make_a_non_leaf(torch):
    v = gg.tensor(VALS, dtype=gg.float64, requires_grad=True)
    s = gg.sparse_coo_tensor(IX, v, (3, 3))
    vt = torch.tensor(VALS, dtype=torch.float64, requires_grad=True)
    t = torch.sparse_coo_tensor(torch.tensor(IX), vt, (3, 3))
    assert s.is_leaf == t.is_leaf is False and (s.grad_fn is None) == (t.grad_fn is None)
    m = np.arange(6.0).reshape(3, 2)
    gg.sparse.mm(s, gg.tensor(m)).sum().backward()
    torch.sparse.mm(t, torch.tensor(m)).sum().backward()
    assert s.grad is None
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy())


@pytest.mark.parametrize(("a", "b"), [("int64", "float32"), ("float32", "float64"), ("bool", "int64")])
def test_sparse_add_promotes_dtypes(torch, a, b):
    ga, gb = (gg.sparse_coo_tensor(IX, np.array(VALS).astype(x), (3, 3)) for x in (a, b))
    ta, tb = (_t(torch, np.array(VALS).astype(x), getattr(torch, x)) for x in (a, b))
    out, ot = (ga + gb).to_dense(), (ta + tb).to_dense()
    assert str(out.dtype).split(".")[1] == str(ot.dtype).split(".")[1]
    np.testing.assert_allclose(out.numpy().astype(float), ot.numpy().astype(float))
    got, want = (gb - ga.to(gg.float64)).to_dense(), (tb - ta.to(torch.float64)).to_dense()
    np.testing.assert_allclose(got.numpy(), want.numpy())
