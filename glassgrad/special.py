"""``torch.special``: the special functions under PyTorch's names.

Most are glassgrad's top-level functions under the same or another name (``expit`` is
``sigmoid``, ``gammaln`` is ``lgamma``, ``psi`` is ``digamma``), looked up when first asked for,
so that they are the finished top-level functions (with ``out=``). The rest are in
``ops/special_more.py``: entr, erfcx, ndtr, ndtri, log_ndtr, xlog1py, multigammaln, i1, i0e and
i1e, each with PyTorch's ``out=``; gammainc/gammaincc in ``ops/special_gamma.py``.

The orthogonal polynomials (Chebyshev T, U, V, W and their shifted forms, Hermite H and He,
Laguerre, Legendre) are in ``ops/special_polynomials.py``, without gradient as PyTorch's; the Hurwitz ``zeta`` in
``ops/special_zeta.py``; the Bessel functions J0, J1, Y0, Y1, K0, K1 (and scaled K), the
spherical j0, Airy's Ai and I0, I1 (``modified_bessel_i0``/``i1``: i0/i1's values without their
gradient) in ``ops/special_bessel.py``. Every function of PyTorch 2.13's
``torch.special`` is here (``_NOT_IMPLEMENTED`` would name one that is not).
"""

from __future__ import annotations

from typing import Any

from glassgrad.ops import special_bessel as _sb
from glassgrad.ops import special_more as _sm
from glassgrad.ops import special_polynomials as _sp
from glassgrad.ops.special_gamma import gammainc, gammaincc
from glassgrad.ops.special_zeta import zeta as _zeta
from glassgrad.out_keyword import out_keyword as _out_keyword

# the new ops with PyTorch's out= (checked as its TensorIterator casts: no float into an integer out)
entr, erfcx, log_ndtr, multigammaln, ndtr, ndtri, xlog1py, i1, i0e, i1e = (
    _out_keyword(getattr(_sm, n), n, "cast")
    for n in ("entr", "erfcx", "log_ndtr", "multigammaln", "ndtr", "ndtri", "xlog1py", "i1", "i0e", "i1e")
)
# the orthogonal polynomials, with PyTorch's out= (a float result: no integer out)
(
    chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
    shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l,
    legendre_polynomial_p,
) = (_out_keyword(getattr(_sp, n), n, "cast") for n in _sp.__all__)  # fmt: skip
zeta = _out_keyword(_zeta, "zeta", "cast")
# the Bessel functions J, Y, K, I and spherical j0, with PyTorch's out= (no gradient, as PyTorch's:
# modified_bessel_i0/i1 are i0/i1's values without their gradient)
(
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1,
    modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
    spherical_bessel_j0,
) = (_out_keyword(getattr(_sb, n), n, "cast") for n in _sb.__all__)  # fmt: skip

#: torch.special name -> glassgrad top-level name
_TOP_LEVEL = {
    "expit": "sigmoid", "logit": "logit", "gammaln": "lgamma", "digamma": "digamma", "psi": "digamma",
    "polygamma": "polygamma", "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "exp2": "exp2",
    "expm1": "expm1", "log1p": "log1p", "i0": "i0", "sinc": "sinc", "round": "round",
    "softmax": "softmax", "log_softmax": "log_softmax", "logsumexp": "logsumexp", "xlogy": "xlogy",
}  # fmt: skip

# The aliases are served by __getattr__ below (ruff cannot see them: F822).
__all__ = [  # noqa: F822
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e", "i1", "i1e",
    "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "gammainc", "gammaincc",
    "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta", *_sb.__all__, *_sp.__all__,
]  # fmt: skip


#: torch.special's functions (PyTorch 2.13) that glassgrad does not have
_NOT_IMPLEMENTED: frozenset = frozenset()  # (every function of PyTorch 2.13's is here)


def __getattr__(name: str) -> Any:
    if name in _TOP_LEVEL:
        import glassgrad

        return getattr(glassgrad, _TOP_LEVEL[name])
    why = f" (torch.special.{name} is not implemented in glassgrad)" if name in _NOT_IMPLEMENTED else ""
    raise AttributeError(f"module 'glassgrad.special' has no attribute {name!r}{why}")


def __dir__() -> list[str]:
    return list(__all__)


# PyTorch's TypeError for an operand that is not a tensor, special.entr(np_array) (operand_errors.py)
from glassgrad import operand_errors as _operand_errors  # noqa: E402
from glassgrad.torch_keywords import SPECIAL as _SPECIAL  # noqa: E402

_operand_errors.install(globals(), __all__, renamed=_SPECIAL)  # (and x= where PyTorch names input x)
