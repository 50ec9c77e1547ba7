"""Gradcheck cases for ops/linalg_solve.py: solve, inv, det, logabsdet and lstsq on well-conditioned
matrices (a dominant diagonal, or a tall matrix with a dominant top block), batch dims broadcasting."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops.linalg_solve import Det, Inv, LogAbsDet, Lstsq, Solve
from tests.ops.harness import case, values


def _square(draw, shape: tuple) -> np.ndarray:
    """Entries in [-1, 1] plus 3n on the diagonal (with a random sign per row): far from singular."""
    n = shape[-1]
    signs = np.where(values(draw, (n,)) < 0, -1.0, 1.0)
    return values(draw, shape, -1.0, 1.0) + 3.0 * n * np.diag(signs)


@case("linalg_solve")
def _solve(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    sa, sb = draw(
        st.sampled_from(
            [((n, n), (n, k)), ((2, n, n), (n, k)), ((n, n), (3, n, k)), ((2, 1, n, n), (3, n, k))]
        )
    )
    return (lambda a, b: Solve.apply(a, b)), (_square(draw, sa), values(draw, sb))


@case("linalg_inv")
def _inv(draw):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,), (2, 3)]))
    return (lambda a: Inv.apply(a)), (_square(draw, (*b, n, n)),)


@case("linalg_det")
def _det(draw):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,), (2, 3)]))
    a = values(draw, (*b, n, n), -1.0, 1.0) + 1.5 * np.eye(n)  # scale ~1: a well-scaled det
    return (lambda x: Det.apply(x)), (a,)


@case("linalg_det")
def _det_singular(draw):
    """At an exactly singular matrix of rank n-1 (two equal rows) det is smooth: its gradient is
    the cofactor matrix, which the SVD path gives."""
    n = draw(st.integers(2, 4))
    a = values(draw, (n, n), -1.0, 1.0) + 1.5 * np.eye(n)
    a[1] = a[0]
    return (lambda x: Det.apply(x)), (a,)


@case("linalg_logabsdet")
def _logabsdet(draw):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,), (2, 3)]))
    return (lambda a: LogAbsDet.apply(a)), (_square(draw, (*b, n, n)),)


@case("carried")
def _slogdet_sign(draw):
    """A real matrix's slogdet sign is recorded with no gradient (ops/carried.py): beside logabsdet
    it adds nothing, as its finite differences (a fixed sign away from singular matrices)."""
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,)]))
    return (lambda a: gg.linalg.slogdet(a)[0] + gg.linalg.slogdet(a)[1]), (_square(draw, (*b, n, n)),)


@case("linalg_lstsq")
def _lstsq(draw):
    n, k = draw(st.integers(1, 3), label="n"), draw(st.integers(1, 2), label="k")
    m = n + draw(st.integers(0, 2), label="extra rows")
    sa, sb = draw(
        st.sampled_from(
            [((m, n), (m, k)), ((2, m, n), (m, k)), ((m, n), (2, m, k)), ((2, 1, m, n), (3, m, k))]
        )
    )
    a = values(draw, sa, -1.0, 1.0)
    a[..., :n, :] += 3.0 * np.eye(n)  # full column rank, well conditioned
    wide = draw(st.booleans(), label="wide")  # the transposed problem: a minimum-norm solution
    if wide:
        a = np.swapaxes(a, -1, -2)  # (..., m, n) -> (..., n, m): full row rank
        sb = sb[:-2] + (n, k)
    return (lambda x, y: Lstsq.apply(x, y)), (a, values(draw, sb))
