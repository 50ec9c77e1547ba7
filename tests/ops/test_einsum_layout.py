"""``einsum`` of several operands answers with PyTorch's strides in the common cases (port round 27:
reformer-pytorch's LSH attention does ``dots = einsum('bhie,bhje->bhij', q, k)`` and later
``dots.view_as(idx)``, which PyTorch's contiguous result allows; NumPy's optimised einsum handed
back a transposed view, so glassgrad's view raised). A one-operand permutation stays a view, as in
PyTorch."""

import numpy as np
import pytest

import glassgrad as gg

CASES = [
    ("bhie,bhje->bhij", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk->ki", [(3, 4), (4, 5)]),
    ("bhnd,bhne->bhde", [(2, 3, 4, 5), (2, 3, 4, 6)]),
    ("...id,...jd->...ij", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 6)]),
    ("btf,bfh->bht", [(2, 5, 4), (2, 4, 3)]),
    ("...de,...nd,...n->...ne", [(2, 3, 5, 6), (2, 3, 4, 5), (2, 3, 4)]),
    ("i,j->ji", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(3,), (3,)]),
]


@pytest.mark.parametrize("eq, shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_strides_as_torch(torch, eq, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    want = torch.einsum(eq, *[torch.tensor(a) for a in arrays])
    got = gg.einsum(eq, *[gg.tensor(a) for a in arrays])
    assert tuple(got.stride()) == tuple(want.stride())
    assert got.is_contiguous() == want.is_contiguous()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_lsh_dots_view_as_then_scatter_add(torch):
    """reformer's unsorting of attention weights: exp of the einsum scores, viewed as the flat index
    tensor's shape and scattered back (values and the gradient of the scores)."""
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((4, 8, 4, 8)), rng.standard_normal((4, 8, 8, 8))
    idx = rng.integers(0, 64, (4, 8 * 4 * 8))

    def run(lib):
        tq = lib.tensor(q, requires_grad=True)
        dots = lib.einsum("bhie,bhje->bhij", tq, lib.tensor(k)) * (8**-0.5)
        dots = lib.exp(dots - lib.logsumexp(dots, dim=-1, keepdim=True))
        ti = lib.tensor(idx)
        out = lib.zeros(4, 64, dtype=lib.float64).scatter_add(1, ti, dots.view_as(ti))
        (out * lib.tensor(np.linspace(0, 1, 256).reshape(4, 64))).sum().backward()
        return out.detach().numpy(), tq.grad.numpy()

    for g, w in zip(run(gg), run(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
