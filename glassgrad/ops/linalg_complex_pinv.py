"""The complex twins of ``linalg.pinv``'s primitive (deepinv's ``RandomPhaseRetrieval`` takes the
pseudo-inverse of a complex sensing matrix) and of ``linalg.lstsq``'s, with PyTorch's complex
gradients.

As in ``ops/linalg_complex.py``: ``Function.apply``'s complex gate runs the twin in place of
``Pinv`` when the operand is complex (``TWINS``), it keeps ``Pinv``'s node name, and for a real loss
L and z = x + iy, ``z.grad = dL/dx + i dL/dy``: the VJP is the real one with transposes turned
into conjugate transposes (ᴴ), as PyTorch's ``pinv_backward`` and ``linalg_lstsq_backward``.
"""

from __future__ import annotations

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.function import node_name
from glassgrad.backend import array_module
from glassgrad.ops.linalg_matfn import Pinv
from glassgrad.ops.linalg_solve import Lstsq, check_float, lstsq_forward, mt

__all__ = ["ComplexPinv", "ComplexLstsq"]


class ComplexPinv(Pinv):
    """P = A⁺ for complex A: ``Pinv``'s forward and VJP, whose transposes are conjugate transposes
    for a complex operand (``linalg_matfn._adjoint``): V diag(1/S) Uᴴ; with ``hermitian`` the
    eigenvalues of Hermitian A (by |λ|) stand in for S. Shape: (..., m, n) -> (..., n, m).

    VJP (rank held fixed): Ā = -Pᴴ P̄ Pᴴ + (I - A P) P̄ᴴ P Pᴴ + Pᴴ P P̄ᴴ (I - P A).
    """

    name = "complex_linalg_pinv"
    node_name = node_name(Pinv)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=0.0, hermitian=False):
        check_float("linalg.pinv", a, complex_ok=True)
        return Pinv.forward(ctx, a, atol=atol, rtol=rtol, hermitian=hermitian)


class ComplexLstsq(Lstsq):
    """X = A⁺ B for complex A and B (one dtype, as PyTorch's): ``Lstsq``'s forward, and its VJP
    with every transpose a conjugate transpose. Shape: A (..., m, n), B (..., m, k) -> X (..., n, k).

    VJP, with R = B − A X, P = I − A⁺A and Z = A⁺ᴴ X̄: B̄ = Z, Ā = −Z Xᴴ + R (A⁺ Z)ᴴ + A⁺ᴴ X (P X̄)ᴴ.
    """

    name = "complex_linalg_lstsq"
    node_name = node_name(Lstsq)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, b, rcond=None):
        check_float("linalg.lstsq", a, b, complex_ok=True)
        return lstsq_forward(ctx, a, b, rcond)

    @staticmethod
    def backward(ctx, g):
        a, b, pinv, x = ctx.saved
        xp = array_module(a)
        mh = lambda m: xp.conj(mt(m))  # noqa: E731 - (..., m, n) -> (..., n, m), conjugated
        z = mh(pinv) @ g  # A⁺ᴴ X̄, (..., m, k)
        ga = None
        if ctx.needs_input_grad[0]:
            r = b - a @ x  # (..., m, k)
            pg = g - pinv @ (a @ g)  # (I − A⁺A) X̄, (..., n, k)
            ga = -(z @ mh(x)) + r @ mh(pinv @ z) + mh(pinv) @ (x @ mh(pg))  # (..., m, n)
        return ga, z


TWINS[Pinv] = ComplexPinv
TWINS[Lstsq] = ComplexLstsq
