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
from glassgrad.backend import array_module
from glassgrad.ops.linalg_complex import mh
from glassgrad.ops.linalg_matfn import Pinv
from glassgrad.ops.linalg_solve import check_float, lapack

__all__ = ["ComplexPinv"]


class ComplexPinv(Pinv):
    """P = A⁺ for complex A: V diag(1/S) Uᴴ over the singular values S > max(atol, rtol * S_max);
    with ``hermitian`` the eigenvalues of Hermitian A (by |λ|, its lower triangle) stand in for S,
    A⁺ = V diag(1/λ) Vᴴ. Shape: (..., m, n) -> (..., n, m).

    VJP (rank held fixed): Ā = -Pᴴ P̄ Pᴴ + (I - A P) P̄ᴴ P Pᴴ + Pᴴ P P̄ᴴ (I - P A).
    """

    name = "complex_linalg_pinv"
    node_name = node_name(Pinv)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=0.0, hermitian=False):
        check_float("linalg.pinv", a, complex_ok=True)
        xp = array_module(a)
        if hermitian:
            w, v = lapack("linalg.pinv", xp.linalg.eigh, a)  # w real, A = V diag(w) Vᴴ
            size, left, right = xp.abs(w), v, v
        else:
            u, w, vh = lapack("linalg.pinv", xp.linalg.svd, a, full_matrices=False)
            size, left, right = w, mh(vh), u  # A⁺ = V diag(1/S) Uᴴ
        real = size.dtype  # the tolerances compare in the real dtype of the singular values
        biggest = size.max(-1, initial=0.0)
        cut = xp.maximum(xp.asarray(atol, dtype=real), xp.asarray(rtol, dtype=real) * biggest)
        keep = size > cut[..., None]
        inv = xp.where(keep, 1.0 / xp.where(keep, w, 1.0), 0.0).astype(a.dtype)
        p = (left * inv[..., None, :]) @ mh(right)  # (..., n, m)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved
        xp = array_module(a)
        ph, gh = mh(p), mh(g)
        m, n = a.shape[-2:]
        left = xp.eye(m, dtype=a.dtype) - a @ p  # I - A P
        right = xp.eye(n, dtype=a.dtype) - p @ a  # I - P A
        return -(ph @ g @ ph) + left @ (gh @ (p @ ph)) + (ph @ p) @ gh @ right


TWINS[Pinv] = ComplexPinv
