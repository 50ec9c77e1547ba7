"""The complex twin of ``linalg.pinv``'s primitive (deepinv's ``RandomPhaseRetrieval`` takes the
pseudo-inverse of a complex sensing matrix), with PyTorch's complex gradient.

As in ``ops/linalg_complex.py``: ``Function.apply``'s complex gate runs the twin in place of
``Pinv`` when the operand is complex (``TWINS``), it keeps ``Pinv``'s node name, and for a real loss
L and z = x + iy, ``z.grad = dL/dx + i dL/dy``: the VJP is the real one with transposes turned
into conjugate transposes (ᴴ), as PyTorch's ``pinv_backward``.
"""

from __future__ import annotations

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.function import node_name
from glassgrad.ops.linalg_matfn import Pinv
from glassgrad.ops.linalg_solve import check_float

__all__ = ["ComplexPinv"]


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


TWINS[Pinv] = ComplexPinv
