"""Recorded VJP rules (``autograd/recorded.py``) of the complex linalg twins of
``ops/linalg_complex_more.py``: inv, det, log det, matrix_exp, cholesky and solve_triangular, each
the real rule of ``recorded_rules_linalg.py`` with ᴴ for ᵀ (and conj(f') for a holomorphic f).

The inverses, exponentials and triangular solves inside are the primitives themselves, called on
complex Tensors, so the complex gate runs their twins again and the recorded VJP differentiates
once more.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, output, rule, saved
from glassgrad.ops.linalg import SolveTriangular
from glassgrad.ops.linalg_matfn import MatrixExp
from glassgrad.ops.linalg_solve import Inv

__all__: list[str] = []


def _mat(g):
    """A per-matrix value (...,) as (..., 1, 1), to scale whole matrices."""
    return g[..., None, None]


def _h(t):
    """The conjugate transpose of a batch of matrices (a Tensor)."""
    return t.mT.conj()


def _refuse_singular(name, sing, why):
    if np.any(sing):
        raise NotImplementedError(f"{name}: create_graph=True at a singular complex matrix ({why})")


@rule("complex_linalg_inv")
def _inv(ctx, g):
    """Ā = −Yᴴ Ȳ Yᴴ, Y = A⁻¹."""
    (y,) = saved(ctx)
    yh = _h(output(ctx, y))
    return -(yh @ g @ yh)


@rule("complex_linalg_det")
def _det(ctx, g):
    """Ā = ḡ adj(A)ᴴ = ḡ conj(d) A⁻ᴴ (invertible A)."""
    a, d = saved(ctx)
    _refuse_singular(
        "complex_linalg_det", d == 0, "its cofactor is the complex SVD's, whose derivative glassgrad lacks"
    )
    return _mat(g) * (_mat(output(ctx, d).conj()) * _h(Inv.apply(operand(ctx, 0, a))))


@rule("complex_linalg_logdet")
def _logdet(ctx, g):
    """Ā = ḡ A⁻ᴴ (invertible A)."""
    a, sign = saved(ctx)
    _refuse_singular("complex_linalg_logdet", sign == 0, "the first-order gradient there is NaN")
    return _mat(g) * _h(Inv.apply(operand(ctx, 0, a)))


@rule("complex_matrix_exp")
def _matrix_exp(ctx, g):
    """Ā = the upper-right block of exp([[Aᴴ, Z̄], [0, Aᴴ]]) (this op again, on a matrix twice as
    large, as the real rule)."""
    (a,) = saved(ctx)
    n = a.shape[-1]
    ah = _h(operand(ctx, 0, a))
    zero = constant(np.zeros(a.shape, dtype=a.dtype))
    big = gg.cat([gg.cat([ah, g], -1), gg.cat([zero, ah], -1)], -2)
    return MatrixExp.apply(big)[..., :n, n:]


@rule("complex_cholesky")
def _cholesky(ctx, g):
    """Ā = L⁻ᴴ M L⁻¹, M = (P + tril(P, -1)ᴴ) / 2, P = tril(Lᴴ Ḡ)."""
    (low,) = saved(ctx)
    low_h = _h(output(ctx, low))
    p = gg.tril(low_h @ g)
    m = 0.5 * (p + _h(gg.tril(p, -1)))
    y = SolveTriangular.apply(low_h, m, upper=True)  # L⁻ᴴ M
    return _h(SolveTriangular.apply(low_h, _h(y), upper=True))  # Y L⁻¹ = (L⁻ᴴ Yᴴ)ᴴ


@rule("complex_solve_triangular")
def _solve_triangular(ctx, g):
    """B̄ = A⁻ᴴ X̄ (the other triangle), Ā = −B̄ Xᴴ on A's triangle."""
    a, x = saved(ctx)
    upper = ctx.attrs.get("upper", False)
    gb = SolveTriangular.apply(_h(operand(ctx, 0, a)), g, upper=not upper)
    ga = None
    if ctx.needs_input_grad[0]:
        ga = -(gb @ _h(output(ctx, x)))
        ga = gg.triu(ga) if upper else gg.tril(ga)
    return ga, gb
