"""Gradcheck cases for ops/matmul.py: matmul in every torch.matmul layout (including broadcast
batch dims) and einsum on the equations the library uses, with ellipsis, implicit output,
indices summed inside one operand, and size-1 broadcasting."""

from __future__ import annotations

from hypothesis import strategies as st

from glassgrad.ops import matmul as M
from tests.ops.harness import case, values


@case("matmul")
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    b1, b2 = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    layouts = [
        ((k,), (k,)),
        ((k,), (k, m)),
        ((n, k), (k,)),
        ((n, k), (k, m)),
        ((b1, n, k), (k, m)),
        ((n, k), (b1, k, m)),
        ((k,), (b1, k, m)),
        ((b1, n, k), (k,)),
        ((b1, 1, n, k), (b2, k, m)),  # batch dims broadcast both ways
        ((1, n, k), (b1, k, m)),
    ]
    sa, sb = draw(st.sampled_from(layouts))
    return (lambda a, b: a @ b), (values(draw, sa), values(draw, sb))


def _sizes(draw, letters: str) -> dict[str, int]:
    return {c: draw(st.integers(1, 3)) for c in letters}


_EQUATIONS = [
    "bhqd,bhkd->bhqk",
    "bhqk,bhkd->bhqd",
    "ij,jk->ik",
    "bi,bi->b",
    "nchw,oc->nohw",
    "i,j->ij",
    "ij->ji",
    "ij->j",  # i only in one operand: its gradient is broadcast back
    "ij,jk",  # implicit output (ik)
    "ij,k->ik",  # k summed inside its own operand
    "ij,jk,kl->il",
    "bii->b",  # a repeated index: the batched trace (kornia's 7-point fundamental matrix)
    "bii->bi",  # the diagonal itself
    "iji,jk->k",  # a diagonal contracted with another operand
]


@case("einsum")
def _einsum(draw):
    eq = draw(st.sampled_from(_EQUATIONS))
    size = _sizes(draw, "bhqkdnchwoijl")
    lhs = eq.split("->")[0].split(",")
    arrays = tuple(values(draw, tuple(size[c] for c in sub)) for sub in lhs)
    return (lambda *ts: M.einsum(eq, *ts)), arrays


@case("einsum")
def _einsum_ellipsis(draw):
    size = _sizes(draw, "ijk")
    batch_a = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2))))
    batch_b = tuple(1 if draw(st.booleans()) else s for s in batch_a[draw(st.integers(0, len(batch_a))) :])
    a = values(draw, (*batch_a, size["i"], size["j"]))
    b = values(draw, (*batch_b, size["k"], size["j"]))
    eq = draw(st.sampled_from(["...ij,...kj->...ik", "...ij,...kj", "...ij,...kj->ik"]))
    return (lambda x, y: M.einsum(eq, x, y)), (a, b)


@case("einsum")
def _outer(draw):
    a, b = values(draw, (draw(st.integers(1, 4)),)), values(draw, (draw(st.integers(1, 4)),))
    return (lambda x, y: M.outer(x, y)), (a, b)
