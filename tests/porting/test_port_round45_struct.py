"""Round 45, group struct: pytorch-struct's CRFs and entmax's sparse maps on glassgrad.

One class of defect, met in pytorch-struct: results laid out otherwise than PyTorch's.

* A dtype cast (``to``/``type_as``/``float``/``long`` ...) of a broadcast tensor came out in
  Fortran order (NumPy's ``astype(order="K")``): ``arange(8).view(1, 8).expand(3, 8).float()`` had
  strides ``(1, 3)`` where PyTorch's (``empty_like``'s rule) are ``(8, 1)``, so a comparison with it
  was not contiguous either and every ``LinearChainCRF`` stopped at ``mask.view(batch * N, 1, 1)``
  (``ShapeError``). A cast now lays its result out as PyTorch's, at every rank.
* The scans (``cumsum``, ``cumprod``, ``logcumsumexp``, ``cummax``/``cummin``), the reductions
  ``prod``, ``amax``/``amin``, ``logsumexp``, ``norm``, ``nansum``/``nanmean``, ``median``/
  ``kthvalue``/``mode`` along a dim (values and indices), ``count_nonzero``, ``all``/``any``, and
  ``roll``, ``tril``/``triu``, ``gather``/``take_along_dim`` kept a permuted input's order, where
  PyTorch allocates a row-major result: a ``view`` of it failed in glassgrad only. ``flip`` now keeps
  a transposed input's layout as PyTorch's (``rot90`` of one is then contiguous, as PyTorch's).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

RS = np.random.RandomState(45)


def _layouts(lib, dtype="float64"):
    """Tensors of one layout each: broadcast (stride 0 in several places), sliced, permuted."""
    dt = getattr(lib, dtype)
    base = lib.arange(24, dtype=dt)
    return {
        "expand_row": base[:8].view(1, 8).expand(3, 8),
        "expand_col": base[:3].view(3, 1).expand(3, 8),
        "expand_mid": base[:4].view(1, 4, 1).expand(2, 4, 3),
        "sliced": base.view(3, 8)[:, ::2],
        "transposed": base[:12].view(3, 4).t(),
        "permuted": base.view(2, 3, 4).permute(2, 0, 1),
        "permuted_sliced": base.view(2, 3, 4).permute(2, 0, 1)[:, :, 1:],
    }


@pytest.mark.parametrize("target", ["float32", "float64", "int64", "int32", "bool", "type_as"])
def test_cast_lays_out_as_pytorch(torch, target):
    mine, theirs = _layouts(gg), _layouts(torch)
    for name in mine:
        if target == "type_as":
            a = mine[name].type_as(gg.zeros(1, dtype=gg.float32))
            b = theirs[name].type_as(torch.zeros(1, dtype=torch.float32))
        else:
            a, b = mine[name].to(getattr(gg, target)), theirs[name].to(getattr(torch, target))
        assert a.stride() == b.stride(), name
        assert a.is_contiguous() == b.is_contiguous(), name
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_length_mask_of_a_chain_views_as_pytorch(torch):
    """The length mask of a batched linear chain: a broadcast arange cast to the scores' dtype,
    compared with the lengths, then viewed flat (pytorch-struct's forward algorithm)."""
    out = []
    for lib in (gg, torch):
        scores = lib.zeros(2, 3, dtype=lib.float64)
        pos = lib.arange(8).view(1, 8).expand(3, 8).type_as(scores)
        mask = pos >= (lib.tensor([6, 4, 3]) - 1).view(3, 1)
        out.append(mask.view(3 * 8, 1, 1).numpy())
    np.testing.assert_array_equal(*out)


def _chain_log_partition(lib, edge, lengths):
    """log Z of a batched linear-chain CRF, edge (b, N-1, C, C) = (t, z_t, z_{t-1}), by the
    forward recursion with a length mask (steps past a sequence's end keep its alpha)."""
    b, n1 = edge.shape[:2]
    alpha = lib.logsumexp(edge[:, 0], -1)  # (b, C): z_1's score, z_0 summed out
    pos = lib.arange(n1).view(1, n1).expand(b, n1).type_as(edge)
    live = (pos < (lengths - 1).view(b, 1)).view(b * n1, 1).view(b, n1, 1)
    for t in range(1, n1):
        step = lib.logsumexp(edge[:, t] + alpha[:, None, :], -1)
        alpha = lib.where(live[:, t], step, alpha)
    return lib.logsumexp(alpha, -1)


def test_chain_log_partition_and_marginals_match_pytorch(torch):
    edge = RS.standard_normal((3, 5, 4, 4))
    lengths = [6, 4, 3]
    res = []
    for lib in (gg, torch):
        e = lib.tensor(edge, requires_grad=True)
        z = _chain_log_partition(lib, e, lib.tensor(lengths))
        (marg,) = lib.autograd.grad(z.sum(), e, create_graph=True)
        (g2,) = lib.autograd.grad((marg * lib.tensor(edge[::-1].copy())).sum(), e)
        res.append([z.detach().numpy(), marg.detach().numpy(), g2.numpy()])
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def _ops(lib):
    return {
        "cumsum": lambda t: t.cumsum(1),
        "cumprod": lambda t: t.cumprod(1),
        "logcumsumexp": lambda t: t.logcumsumexp(1),
        "cummax.values": lambda t: t.cummax(1).values,
        "cummin.indices": lambda t: t.cummin(1).indices,
        "prod": lambda t: t.prod(1),
        "amax": lambda t: t.amax(1),
        "amin": lambda t: t.amin(1, keepdim=True),
        "logsumexp": lambda t: t.logsumexp(1),
        "norm_inf": lambda t: t.norm(float("inf"), 1),
        "nansum": lambda t: t.nansum(1),
        "nanmean": lambda t: t.nanmean(1),
        "median.values": lambda t: t.median(1).values,
        "median.indices": lambda t: t.median(1).indices,
        "kthvalue.values": lambda t: t.kthvalue(1, 1).values,
        "max.indices": lambda t: t.max(1).indices,
        "count_nonzero": lambda t: lib.count_nonzero(t, 1),
        "all": lambda t: t.all(1),
        "any": lambda t: t.any(1),
        "roll": lambda t: t.roll(1, 1),
        "tril": lambda t: t.tril(),
        "triu": lambda t: t.triu(1),
        "gather": lambda t: t.gather(1, lib.zeros_like(t).long()),
        "take_along_dim": lambda t: lib.take_along_dim(t, lib.zeros_like(t).long(), 1),
        "flip": lambda t: t.flip(1),
        "rot90": lambda t: t.rot90(1, (0, 1)),
        "int_cumsum": lambda t: t.long().cumsum(1),
        "int_prod": lambda t: t.long().prod(1),
    }


@pytest.mark.parametrize("op", sorted(_ops(gg)))
def test_result_layout_is_pytorchs(torch, op):
    """Strides as PyTorch's for permuted, transposed and broadcast inputs, so a view of the result
    works (or fails) in both."""
    mine, theirs = _layouts(gg), _layouts(torch)
    f, g = _ops(gg)[op], _ops(torch)[op]
    for name in mine:
        a, b = f(mine[name] + 1), g(theirs[name] + 1)
        assert a.shape == b.shape, name
        assert a.stride() == b.stride(), (name, a.stride(), b.stride())
        np.testing.assert_allclose(a.double().numpy(), b.double().numpy(), rtol=1e-13, atol=0, err_msg=name)
        if b.is_contiguous():
            np.testing.assert_array_equal(a.view(-1).double().numpy(), b.view(-1).double().numpy())


_DIFFERENTIABLE = [
    "cumsum", "cumprod", "logcumsumexp", "cummax.values", "prod", "amax", "amin", "logsumexp",
    "norm_inf", "nansum", "nanmean", "median.values", "kthvalue.values", "roll", "tril", "triu",
    "gather", "take_along_dim", "flip", "rot90",
]  # fmt: skip


@pytest.mark.parametrize("op", _DIFFERENTIABLE)
def test_relaid_ops_gradcheck_on_permuted_broadcast_inputs(op):
    """The ops whose results are now re-laid out, checked by finite differences on inputs that
    reach them permuted and broadcast (random shapes)."""
    f = _ops(gg)[op]
    for _ in range(2):
        n, m, k = (int(s) for s in RS.randint(2, 5, size=3))
        x = gg.tensor(RS.standard_normal((m, n, k)), requires_grad=True)  # distinct values: no ties
        y = gg.tensor(RS.standard_normal((1, k)), requires_grad=True)
        assert gradcheck(lambda x, y: f((x + y).permute(1, 0, 2)), (x, y))
        z = gg.tensor(RS.standard_normal((n, 1)) + 3.0, requires_grad=True)
        assert gradcheck(lambda z: f(z.expand(n, k).t() * gg.arange(1.0, n + 1.0)), (z,))


def test_cast_of_broadcast_keeps_its_gradient(torch):
    x = RS.standard_normal((1, 5)).astype(np.float32)
    grads = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = t.expand(4, 5).double()
        (y.view(-1) * lib.arange(20.0, dtype=lib.float64)).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(*grads)


# ---------------------------------------------------------------- a fill value that is no number
# pytorch-struct's TempMax semiring returns None from its sum, and its chart update
# ``c[:] = semiring.sum(...)`` is then ``c[:] = None``: PyTorch raises TypeError there, glassgrad
# wrote NaN (NumPy's None in a float array) and went on. Every fill that takes a number now refuses
# None, a string and bytes with a TypeError naming the op.
_FILLS = {
    "setitem_all": lambda lib, t, m, v: t.__setitem__(slice(None), v),
    "setitem_row": lambda lib, t, m, v: t.__setitem__(0, v),
    "setitem_mask": lambda lib, t, m, v: t.__setitem__(m, v),
    "fill_": lambda lib, t, m, v: t.fill_(v),
    "masked_fill": lambda lib, t, m, v: t.masked_fill(m, v),
    "masked_fill_": lambda lib, t, m, v: t.masked_fill_(m, v),
    "index_fill": lambda lib, t, m, v: t.index_fill(0, lib.tensor([0]), v),
    "full": lambda lib, t, m, v: lib.full((2,), v),
    "new_full": lambda lib, t, m, v: t.new_full((2,), v),
    "copy_": lambda lib, t, m, v: t.copy_(v),
}


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("value", [None, "a", b"a"], ids=["None", "str", "bytes"])
@pytest.mark.parametrize("op", sorted(_FILLS))
def test_fill_of_a_non_number_is_a_type_error_as_pytorch(torch, op, value, dtype):
    for lib in (torch, gg):
        t = lib.zeros(2, 3, dtype=getattr(lib, dtype))
        m = lib.tensor([[True, False, True], [False, False, True]])
        with pytest.raises(TypeError):
            _FILLS[op](lib, t, m, value)
        np.testing.assert_array_equal(t.numpy(), np.zeros((2, 3)))  # nothing was written


def test_fill_takes_numbers_and_clamp_keeps_a_missing_bound(torch):
    for lib in (torch, gg):
        t = lib.zeros(2, 3, dtype=lib.int64)
        t[0] = 7
        t.masked_fill_(lib.tensor([[False, True, False], [True, False, False]]), -2)
        assert t.tolist() == [[7, -2, 7], [-2, 0, 0]]
        assert t.clamp(None, 3).tolist() == [[3, -2, 3], [-2, 0, 0]]
        assert t.clamp(0, None).tolist() == [[7, 0, 7], [0, 0, 0]]
        assert lib.full((2,), float("nan")).isnan().all()
