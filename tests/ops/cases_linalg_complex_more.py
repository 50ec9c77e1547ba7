"""Gradcheck cases for ops/linalg_complex_more.py: the complex twins of linalg.inv, det,
matrix_exp, cholesky and solve_triangular, the complex log determinant (slogdet, logdet), and the
complex twin of linalg.qr (ops/linalg_complex.py) and of linalg.lstsq (ops/linalg_complex_pinv.py).

A complex input of shape s is drawn as float64 (*s, 2) and viewed as complex128 inside, a complex
output viewed as real (as in cases_linalg_complex.py). Square matrices get 3 I added (well
conditioned); cholesky's input is X Xᴴ + n I (Hermitian positive-definite, so the gradient reaches
X through both triangles); triangular ones get 3 I on the diagonal of the triangle read.
"""

from __future__ import annotations

from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import linalg
from tests.ops.cases_linalg_complex import C, R, _pairs
from tests.ops.harness import case

_BATCHES = [(), (2,), (2, 1)]


def _square(draw, low=-1.0, high=1.0):
    n = draw(st.integers(1, 3))
    return n, _pairs(draw, (*draw(st.sampled_from(_BATCHES)), n, n), low, high)


def _well(x, n):
    return C(x) + 3.0 * gg.eye(n, dtype=gg.float64)


@case("complex_linalg_inv")
def _inv(draw):
    n, x = _square(draw)
    spell = draw(st.sampled_from([linalg.inv, gg.inverse, lambda a: linalg.inv_ex(a).inverse]))
    return (lambda t: R(spell(_well(t, n)))), (x,)


@case("complex_linalg_det")
def _det(draw):
    n, x = _square(draw)
    return (lambda t: R(linalg.det(_well(t, n)))), (x,)


@case("complex_linalg_logdet")
def _logdet(draw):
    n, x = _square(draw)

    def slog(t):
        sign, logabs = linalg.slogdet(_well(t, n))
        return gg.cat([R(sign), logabs[..., None]], -1)

    return draw(st.sampled_from([slog, lambda t: R(gg.logdet(_well(t, n)))])), (x,)


@case("complex_matrix_exp")
def _matrix_exp(draw):
    _, x = _square(draw)
    return (lambda t: R(linalg.matrix_exp(C(t)))), (x,)


@case("complex_cholesky")
def _cholesky(draw):
    n, x = _square(draw)
    upper = draw(st.booleans())

    def fn(t):
        a = C(t)
        return R(linalg.cholesky(a @ a.mT.conj() + n * gg.eye(n, dtype=gg.float64), upper=upper))

    return fn, (x,)


@case("complex_solve_triangular")
def _solve_triangular(draw):
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batch_a, batch_b = draw(st.sampled_from([((), ()), ((2,), (2,)), ((2, 1), (3,)), ((), (2,))]))
    upper, left = draw(st.booleans()), draw(st.booleans())
    sb = (*batch_b, n, k) if left else (*batch_b, k, n)

    def fn(x, y):
        return R(linalg.solve_triangular(_well(x, n), C(y), upper=upper, left=left))

    return fn, (_pairs(draw, (*batch_a, n, n)), _pairs(draw, sb))


@case("complex_linalg_pinv")
def _pinv(draw):
    """Full-rank rectangular or square matrices (so the rank stays put under the differences), and
    Hermitian ones for ``hermitian=True`` (X + Xᴴ + 4 I)."""
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = _pairs(draw, (*draw(st.sampled_from(_BATCHES)), m, n), -1.0, 1.0)
    k = min(m, n)
    if draw(st.booleans()) or m != n:
        lift = gg.zeros(m, n, dtype=gg.float64)
        lift[range(k), range(k)] = 3.0  # well away from rank loss
        return (lambda t: R(linalg.pinv(C(t) + lift))), (x,)
    return (lambda t: R(linalg.pinv(C(t) + C(t).mH + 4.0 * gg.eye(n, dtype=gg.float64), hermitian=True))), (
        x,
    )


@case("complex_qr")
def _qr(draw):
    """Q and R of a complex A (tall, square or wide; 'complete' where differentiable, m <= n),
    3 added on A's leading diagonal so R's diagonal stays away from 0."""
    m, n = draw(st.sampled_from([(3, 2), (2, 2), (2, 3), (1, 3)]))
    mode = draw(st.sampled_from(["reduced", "complete"] if m <= n else ["reduced"]))
    batch = draw(st.sampled_from([(), (2,)]))
    shift = 3.0 * gg.eye(m, n, dtype=gg.float64)

    def fn(x):
        q, r = linalg.qr(C(x) + shift, mode=mode)
        return R(q), R(r)

    return fn, (_pairs(draw, (*batch, m, n)),)


@case("complex_linalg_lstsq")
def _lstsq(draw):
    """Complex least squares (ops/linalg_complex_pinv.py): tall (overdetermined, with the residuals),
    square or wide (minimum-norm) A of full rank (3 on its leading diagonal), B batch-broadcasting."""
    m, n = draw(st.sampled_from([(3, 2), (2, 2), (2, 3), (3, 1)]))
    k = draw(st.integers(1, 2))
    # B with A's number of dims (one fewer would make it a batch of vectors, PyTorch's rule)
    batch_a, batch_b = draw(st.sampled_from([((), ()), ((2,), (2,)), ((2, 1), (1, 3)), ((1,), (2,))]))
    shift = 3.0 * gg.eye(m, n, dtype=gg.float64)

    def fn(x, y):
        res = linalg.lstsq(C(x) + shift, C(y), driver="gelsd")
        return (R(res.solution), res.residuals) if m > n else R(res.solution)

    return fn, (_pairs(draw, (*batch_a, m, n)), _pairs(draw, (*batch_b, m, k)))
