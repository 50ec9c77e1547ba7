"""The complex twins of the linalg primitives: ``linalg.solve`` and ``linalg.eigh``/``eigvalsh``
on complex matrices (S4's Cauchy and Vandermonde kernels, Hermitian eigenproblems), with
PyTorch's complex gradients.

``Function.apply``'s complex gate (``autograd/complex_gate.py``) runs a twin in place of the real
primitive when an operand is complex (``TWINS``); each keeps its real op's node name. The
convention (``ops/complex.py``): for a real loss L and z = x + iy, ``z.grad = dL/dx + i dL/dy``,
so each VJP is the real one with transposes turned into conjugate transposes (ᴴ).

Eigenvectors of a complex Hermitian matrix are unique only up to a phase e^{iφ} per column; a loss
that depends on that phase has no gradient, and backward refuses it as PyTorch's
``linalg_eigh_backward`` does (``check_gauge``).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.function import node_name
from glassgrad.backend import array_module
from glassgrad.errors import GraphError
from glassgrad.ops.linalg_decomp import QR, Eigh, eigh_vjp
from glassgrad.ops.linalg_solve import Solve, check_float, mt, solve_forward

__all__ = ["ComplexSolve", "ComplexEigh", "ComplexQR", "mh", "check_gauge"]


def mh(x: Any) -> Any:
    """The conjugate transpose of a batch of matrices: (..., m, n) -> (..., n, m)."""
    return array_module(x).conj(mt(x))


def check_gauge(xp: Any, vhgv: Any, op: str = "linalg.eigh (linalg_eigh_backward)") -> None:
    """Refuse a loss that depends on the eigenvectors' phases: under V -> V diag(e^{iφ}) it changes
    by Σ_j φ_j Im (Vᴴ V̄)_jj, so those imaginary parts must vanish. PyTorch's test and tolerance
    (``allclose(Im diag, 0, rtol=1e-2, atol=1e-2)``), and its RuntimeError (GraphError is one)."""
    im = xp.diagonal(vhgv, axis1=-2, axis2=-1).imag  # (..., n)
    if not xp.allclose(im, 0.0, rtol=1e-2, atol=1e-2):
        raise GraphError(
            f"{op}: The eigenvectors in the complex case are specified up to "
            "multiplication by e^{i phi}. The specified loss function depends on this quantity, so it is "
            "ill-defined."
        )


class ComplexSolve(Solve):
    """X = A⁻¹ B with A and B complex (one dtype; a real operand beside a complex one is refused,
    as PyTorch's). Shape: A (..., n, n), B (..., n, k) -> X (..., n, k), batch dims broadcast.

    VJP: B̄ = A⁻ᴴ X̄ (one solve with Aᴴ), Ā = −B̄ Xᴴ.
    """

    name = "complex_linalg_solve"
    node_name = node_name(Solve)
    complex_ok = True

    @staticmethod
    def forward(ctx, a, b):
        check_float("linalg.solve", a, b, complex_ok=True)
        return solve_forward(ctx, a, b)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved
        gb = array_module(a).linalg.solve(mh(a), g)  # A⁻ᴴ X̄, (..., n, k)
        ga = -(gb @ mh(x)) if ctx.needs_input_grad[0] else None  # (..., n, n)
        return ga, gb


class ComplexEigh(Eigh):
    """A = V diag(L) Vᴴ for Hermitian A (only the ``uplo`` triangle is read), L real ascending.
    Shape: (..., n, n) -> packed (L (..., n), V (..., n, n)) as one complex array (the wrapper
    takes L's real part), or L alone (real) when not ``vectors``.

    VJP, with K = (Vᴴ V̄ − (Vᴴ V̄)ᴴ) / 2 and E_ij = L_j − L_i: Ā = V (diag(Re L̄) + K / E off the
    diagonal) Vᴴ; eigenvalues alone give V diag(L̄) Vᴴ. A loss that depends on the phases of V is
    refused (``check_gauge``).
    """

    name = "complex_eigh"
    node_name = node_name(Eigh)
    complex_ok = True

    @staticmethod
    def backward(ctx, g):
        return eigh_vjp(ctx, g, check_gauge)


class ComplexQR(QR):
    """A = Q R with complex A: Q's columns orthonormal (Qᴴ Q = I), R upper-triangular with a real
    diagonal (LAPACK's). Shape and modes as ``QR``. VJP: ``QR``'s, whose transposes are ᴴ for
    complex Q and R and whose copyu keeps the real part of the diagonal: with N = R̄ Rᴴ − Qᴴ Q̄,
    Ā = (Q̄ + Q (triu(N, 1) + triu(N, 1)ᴴ + Re diag N)) R⁻ᴴ for m ≥ n, PyTorch's gradient."""

    name = "complex_qr"
    node_name = node_name(QR)
    complex_ok = True


TWINS[QR] = ComplexQR
TWINS[Solve] = ComplexSolve
TWINS[Eigh] = ComplexEigh
