"""The complex twins of the SVD's primitives (``ops/linalg_svd.py``): ``linalg.svd``, ``svd`` and
``svdvals`` of complex matrices (tensorly's complex CP decompositions start from an SVD), with
PyTorch's complex gradients.

As in ``ops/linalg_complex.py``: ``Function.apply``'s complex gate runs a twin in place of the real
primitive when the operand is complex (``TWINS``), each keeps its real op's node name, and for a
real loss L and z = x + iy, ``z.grad = dL/dx + i dL/dy``: the VJPs are the real ones with
transposes turned into conjugate transposes (ᴴ), plus the one term that has no real counterpart.
The singular vectors of a complex matrix are unique only up to a phase e^{iφ} per pair (u_j, v_j);
PyTorch's ``svd_backward`` gives a phase-independent loss the gradient

    Ā = U [(F ∘ skew(UᴴŪ)) S + S (F ∘ skew(VᴴV̄)) + diag(S̄) + i Im diag(UᴴŪ) S⁻¹] Vᴴ
        + (I − UUᴴ) Ū S⁻¹ Vᴴ + U S⁻¹ V̄ᴴ (I − VVᴴ),    skew(X) = X − Xᴴ, V̄ = Vh̄ᴴ,

(F as in ``linalg_svd.py``); the i Im diag(UᴴŪ) S⁻¹ term is U's share here. Shapes: A (..., m, n),
reduced factors U (..., m, k), S (..., k) real, Vh (..., k, n), k = min(m, n).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.function import node_name
from glassgrad.backend import array_module, quietly
from glassgrad.ops.linalg_complex import mh
from glassgrad.ops.linalg_svd import SvdS, SvdU, SvdVh, _only_reduced, _reduced

__all__ = ["ComplexSvdU", "ComplexSvdS", "ComplexSvdVh"]


def _u_share(u: Any, s: Any, vh: Any, f: Any, g: Any) -> Any:
    """Ū's term of Ā: U [(F ∘ skew(UᴴŪ)) S + i Im diag(UᴴŪ) S⁻¹] Vᴴ + (I − UUᴴ) Ū S⁻¹ Vᴴ."""
    xp = array_module(u)
    uh_g = mh(u) @ g  # (..., k, k)
    inner = (f * (uh_g - mh(uh_g))) * s[..., None, :]
    k = s.shape[-1]
    inner[..., range(k), range(k)] += 1j * xp.diagonal(uh_g, axis1=-2, axis2=-1).imag / s
    out = u @ inner @ vh
    if u.shape[-2] > k:  # (I − UUᴴ) Ū S⁻¹ Vᴴ: only when m > k
        out = out + ((g - u @ uh_g) / s[..., None, :]) @ vh
    return out


def _v_share(u: Any, s: Any, vh: Any, f: Any, gv: Any) -> Any:
    """V̄'s term of Ā: U [S (F ∘ skew(VᴴV̄))] Vᴴ + U S⁻¹ V̄ᴴ (I − VVᴴ)."""
    vh_g = vh @ gv  # VᴴV̄: (..., k, k)
    out = u @ (s[..., :, None] * (f * (vh_g - mh(vh_g)))) @ vh
    if vh.shape[-1] > s.shape[-1]:  # U S⁻¹ V̄ᴴ (I − VVᴴ): only when n > k
        out = out + (u / s[..., None, :]) @ mh(gv - mh(vh) @ vh_g)
    return out


class ComplexSvdU(SvdU):
    """U of complex A = U diag(S) Vh. VJP: Ū's term above."""

    name = "complex_svd_u"
    node_name = node_name(SvdU)
    complex_ok = True

    @staticmethod
    def backward(ctx, g):
        u, s, vh, f = _reduced(ctx)
        g = _only_reduced(g, s.shape[-1], -1)
        return quietly(_u_share, u, s, vh, f, g)  # inf / nan at repeated or zero values, as PyTorch


class ComplexSvdS(SvdS):
    """S (real, largest first) of complex A = U diag(S) Vh. VJP: U diag(S̄) Vh, as the real one's."""

    name = "complex_svd_s"
    node_name = node_name(SvdS)
    complex_ok = True


class ComplexSvdVh(SvdVh):
    """Vh of complex A = U diag(S) Vh. VJP: V̄'s term above, with V̄ = Vh̄ᴴ."""

    name = "complex_svd_vh"
    node_name = node_name(SvdVh)
    complex_ok = True

    @staticmethod
    def backward(ctx, g):
        u, s, vh, f = _reduced(ctx)
        gv = mh(_only_reduced(g, s.shape[-1], -2))  # V̄: (..., n, k)
        return quietly(_v_share, u, s, vh, f, gv)  # inf / nan at repeated or zero values, as PyTorch


TWINS[SvdU] = ComplexSvdU
TWINS[SvdS] = ComplexSvdS
TWINS[SvdVh] = ComplexSvdVh
