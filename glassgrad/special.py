"""``torch.special``: the special functions under PyTorch's names.

Most are glassgrad's top-level functions under the same or another name (``expit`` is
``sigmoid``, ``gammaln`` is ``lgamma``, ``psi`` is ``digamma``), looked up when first asked for,
so that they are the finished top-level functions (with ``out=``). The rest are in
``ops/special_more.py``: entr, erfcx, ndtr, ndtri, log_ndtr, xlog1py and multigammaln.

Not here, as not implemented: the Bessel and Airy functions, the orthogonal polynomials
(Chebyshev, Hermite, Laguerre, Legendre), zeta, gammainc/gammaincc and the scaled
i0e/i1/i1e; asking for one raises ``AttributeError`` naming it.
"""

from __future__ import annotations

from typing import Any

from glassgrad.ops.special_more import entr, erfcx, log_ndtr, multigammaln, ndtr, ndtri, xlog1py

#: torch.special name -> glassgrad top-level name
_TOP_LEVEL = {
    "expit": "sigmoid", "logit": "logit", "gammaln": "lgamma", "digamma": "digamma", "psi": "digamma",
    "polygamma": "polygamma", "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "exp2": "exp2",
    "expm1": "expm1", "log1p": "log1p", "i0": "i0", "sinc": "sinc", "round": "round",
    "softmax": "softmax", "log_softmax": "log_softmax", "logsumexp": "logsumexp", "xlogy": "xlogy",
}  # fmt: skip

# The aliases are served by __getattr__ below (ruff cannot see them: F822).
__all__ = [  # noqa: F822
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
    "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _TOP_LEVEL:
        import glassgrad

        return getattr(glassgrad, _TOP_LEVEL[name])
    raise AttributeError(
        f"module 'glassgrad.special' has no attribute {name!r} (torch.special.{name} is not implemented)"
    )


def __dir__() -> list[str]:
    return list(__all__)
