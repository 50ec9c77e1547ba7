"""``Wishart``: the distribution of scatter matrices Σᵢ xᵢxᵢᵀ of normal vectors."""

from __future__ import annotations

import math
import warnings
from numbers import Number
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.chi2 import Chi2
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["Wishart"]

_LOG_2 = math.log(2.0)
_MATRICES = ("covariance_matrix", "precision_matrix", "scale_tril")


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """Σ_{i<p} ψ(x − i/2), the derivative of mvlgamma(x, p)."""
    return gg.digamma(x.unsqueeze(-1) - gg.arange(p, dtype=x.dtype) / 2).sum(-1)


class Wishart(ExponentialFamily):
    r"""The Wishart distribution W(ν, Σ) over p×p positive-definite matrices, as
    ``torch.distributions.Wishart``; Σ is given as one of ``covariance_matrix``,
    ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, Σ = L Lᵀ)::

        log p(X) = −ν (p log 2 / 2 + Σ log L_ii) − mvlgamma(ν/2, p) + ((ν − p − 1)/2) log det X
                   − tr(Σ⁻¹ X)/2
        mean = ν Σ,  mode = (ν − p − 1) Σ (NaN for ν <= p + 1),  variance_ij = ν (Σ_ij² + Σ_ii Σ_jj)

    ``rsample`` is the Bartlett decomposition X = (L A)(L A)ᵀ, A lower-triangular with
    A_ii = sqrt(χ²(ν − i)) (floored at eps) and standard normals below the diagonal, so it is
    differentiable in ν (implicit reparameterisation of the chi-squared draws) and in Σ. Draws that
    are not positive definite (likely for ν < p) are redrawn up to ``max_try_correction`` times
    with a "Singular sample detected." warning. An exponential family (θ = (−Σ⁻¹/2, (ν − p − 1)/2)).

    Args:
        df: ν > p − 1 (a number or a tensor of the batch's shape).
        covariance_matrix, precision_matrix, scale_tril: exactly one, shape ``(…, p, p)``.
        validate_args: check the parameters now and that log_prob's values are positive definite.

    Shape:
        ``batch_shape`` = broadcast(df.shape, matrix.shape[:-2]); ``event_shape`` = ``(p, p)``.
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df: Any,
        covariance_matrix: Any = None,
        precision_matrix: Any = None,
        scale_tril: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        given = [
            (n, m)
            for n, m in zip(_MATRICES, (covariance_matrix, precision_matrix, scale_tril))
            if m is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "Wishart: expected exactly one of covariance_matrix, precision_matrix or scale_tril"
            )
        name, param = given[0][0], utils.as_param(given[0][1])
        if param.ndim < 2:
            raise ValueError(
                f"Wishart: expected {name} of at least two dims (…, p, p), got shape {tuple(param.shape)}"
            )
        if isinstance(df, Number):
            batch = tuple(param.shape[:-2])
            self.df = gg.tensor(float(df), dtype=param.dtype)
        else:
            batch = tuple(np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch)
        p = param.shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Wishart: expected df greater than p − 1 = {p - 1}, got df={df}")
        self.__dict__[name] = param.expand(batch + (p, p))
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected: with p − 1 < df < p (p the matrix size) singular samples are likely.",
                stacklevel=user_stacklevel(),
            )
        super().__init__(batch, (p, p), validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = param
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = gg.linalg.cholesky(param)
        else:
            self._unbroadcasted_scale_tril = gg.linalg.cholesky(gg.linalg.inv(param))
        self._dist_chi2 = self._chi2(batch)

    def _chi2(self, batch: tuple) -> Chi2:
        """The Bartlett diagonal's laws: χ²(ν − i) for i = 0..p−1, shape ``batch + (p,)``."""
        p = self.event_shape[-1]
        offsets = gg.arange(p, dtype=self._unbroadcasted_scale_tril.dtype).expand(batch + (p,))
        return Chi2(self.df.unsqueeze(-1) - offsets)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Wishart:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Wishart, _instance)
        full = shape + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(full)
        new.df = self.df.expand(shape)
        for name in _MATRICES:
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(full)
        Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
        new._dist_chi2 = new._chi2(shape)
        new._validate_args = self._validate_args
        return new

    # the matrices not given are computed on first use and kept: PyTorch's lazy properties, on the
    # class (a subclass reaches them through super())
    @utils.lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(tuple(self.batch_shape) + tuple(self.event_shape))

    @utils.lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(tuple(self.batch_shape) + tuple(self.event_shape))

    @utils.lazy_property
    def precision_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        eye = gg.eye(self.event_shape[-1], dtype=tril.dtype)
        full = tuple(self.batch_shape) + tuple(self.event_shape)
        return gg.cholesky_solve(eye.expand(tuple(tril.shape)), tril).expand(full)

    def _batch_view(self, t: Tensor) -> Tensor:
        return t.reshape(tuple(self.batch_shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._batch_view(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.event_shape[-1] - 1
        return self._batch_view(gg.where(factor > 0, factor, math.nan)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        cov = self.covariance_matrix
        diag = cov.diagonal(dim1=-2, dim2=-1)
        return self._batch_view(self.df) * (cov.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett(self, sample_shape: tuple) -> Tensor:
        p = self.event_shape[-1]
        eps = float(np.finfo(self._unbroadcasted_scale_tril._data.dtype).eps)
        diag = self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=eps)
        shape = tuple(sample_shape) + tuple(self.batch_shape) + (p * (p - 1) // 2,)
        below = utils.vec_to_tril_matrix(utils.standard_normal(shape, diag.dtype), diag=-1)
        chol = self._unbroadcasted_scale_tril @ (gg.diag_embed(diag) + below)
        return chol @ chol.mT

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = (), max_try_correction: int | None = None) -> Tensor:
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        tries = 10 if max_try_correction is None else int(max_try_correction)
        sample = self._bartlett(sample_shape)
        batch_dims = tuple(range(len(sample_shape), len(sample_shape) + len(self.batch_shape)))
        singular = ~np.asarray(self.support.check(sample))
        singular = singular.any(axis=batch_dims) if batch_dims else singular  # one flag per draw
        if singular.any():
            warnings.warn("Singular sample detected.", stacklevel=user_stacklevel())
            for _ in range(tries):
                mask = gg.tensor(singular.reshape(singular.shape + (1,) * (sample.ndim - singular.ndim)))
                sample = gg.where(mask, self._bartlett(sample_shape), sample)
                bad = ~np.asarray(self.support.check(sample))
                singular = bad.any(axis=batch_dims) if batch_dims else bad
                if not singular.any():
                    break
        return sample

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self.event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        log_det_scale = tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace = gg.cholesky_solve(value, tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + log_det_scale)
            - gg.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * gg.linalg.slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self) -> Tensor:
        nu, p = self.df, self.event_shape[-1]
        log_det_scale = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (
            (p + 1) * (p * _LOG_2 / 2 + log_det_scale)
            + gg.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        p = self.event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self.event_shape[-1]
        half = y + (p + 1) / 2
        return half * (-gg.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + gg.mvlgamma(half, p)
