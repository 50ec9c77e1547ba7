"""``LKJCholesky``: the LKJ distribution over Cholesky factors of correlation matrices."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.beta import Beta
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    r"""The LKJ distribution of the lower Cholesky factor L of a D×D correlation matrix M = L Lᵀ,
    with density in M proportional to det(M)^{η−1}, as ``torch.distributions.LKJCholesky``
    (η = 1: uniform over correlation matrices)::

        log p(L) = Σ_{i=2..D} (2(η − 1) + D − i) log L_ii − log c(η, D)
        log c    = ((D−1)/2) log π + mvlgamma(η + (D−1)/2 − ½, D−1) − (D−1) lgamma(η + (D−1)/2)

    ``sample`` follows the onion method (Lewandowski, Kurowicka and Joe, 2009, §3.2) on Cholesky
    factors: row i (i >= 1) is sqrt(y_i) times a uniform direction over its first i coordinates,
    y_i ~ Beta(i − ½, η + (D − 1 − i)/2), drawn for all rows at once, and the diagonal takes what
    is left of the unit length. No ``rsample`` (as PyTorch). The first shape parameter is
    PyTorch's: the paper's is i/2, so for i >= 2 (D >= 3) the draws of both libraries put less
    mass near ±1 correlations than LKJ(η) (e.g. M₂₀ is not Beta(η − 1 + D/2)-distributed);
    kept, so that ported programs draw from the same law.

    Args:
        dim: D >= 2.
        concentration: η > 0 (default 1).
        validate_args: check η > 0 now and that log_prob's values are correlation Cholesky factors.

    Shape:
        ``batch_shape`` = ``concentration.shape``; ``event_shape`` = ``(D, D)``.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"LKJCholesky: expected dim to be an integer >= 2, got dim={dim}")
        self.dim = int(dim)
        (self.concentration,) = utils.broadcast_all(concentration)
        # the Beta laws of the squared row lengths (row 0's is a dummy: that row is e₀)
        marginal = self.concentration + 0.5 * (self.dim - 2)
        offset = gg.cat([gg.zeros(1, dtype=marginal.dtype), gg.arange(self.dim - 1, dtype=marginal.dtype)])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(tuple(self.concentration.shape), (self.dim, self.dim), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> LKJCholesky:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(LKJCholesky, _instance)
        new.dim = self.dim
        new.concentration = self.concentration.expand(shape)
        new._beta = self._beta.expand(shape + (self.dim,))
        Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)  # (…, D, 1)
            u = utils.standard_normal(self._extended_shape(sample_shape), y.dtype).tril(-1)
            first_row = gg.arange(self.dim) == 0
            # row 0 is all zeros: give it norm 1 so that its direction stays 0 (not 0/0)
            norm = gg.where(first_row.unsqueeze(-1), 1.0, u.norm(dim=-1, keepdim=True))
            w = y.sqrt() * (u / norm)
            tiny = float(gg.finfo(w.dtype).tiny)
            diag = (1 - w.pow(2).sum(-1)).clamp(min=tiny).sqrt()
            return w + gg.diag_embed(diag)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        d = self.dim
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = 2 * (self.concentration - 1).unsqueeze(-1) + d - gg.arange(2, d + 1, dtype=diag.dtype)
        unnormalized = (order * diag.log()).sum(-1)
        alpha = self.concentration + 0.5 * (d - 1)
        log_norm = (
            0.5 * (d - 1) * math.log(math.pi) + gg.mvlgamma(alpha - 0.5, d - 1) - gg.lgamma(alpha) * (d - 1)
        )
        return unnormalized - log_norm
