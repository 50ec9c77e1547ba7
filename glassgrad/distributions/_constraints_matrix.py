"""The placeholder and matrix constraints of ``torch.distributions.constraints`` (dependent,
lower-triangular, correlation-Cholesky, square, symmetric, positive (semi)definite) and the
constraint of a ``MixtureSameFamily``'s support. Re-exported by ``distributions.constraints``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import glassgrad as gg
from glassgrad.distributions.constraints import Constraint, _t, lower_cholesky
from glassgrad.tensor import Tensor

__all__ = [
    "dependent",
    "dependent_property",
    "is_dependent",
    "MixtureSameFamilyConstraint",
    "lower_triangular",
    "corr_cholesky",
    "square",
    "symmetric",
    "positive_semidefinite",
    "positive_definite",
]


def _static(value: Any, what: str) -> Any:
    if value is NotImplemented:
        raise NotImplementedError(
            f"constraints.dependent: .{what} is not known until the distribution is built"
        )
    return value


class _Dependent(Constraint):
    """The support of a value that depends on other values (a Binomial's upper bound, a
    TransformedDistribution's support): it has no check of its own. ``is_discrete`` and
    ``event_dim`` are known only when given (``dependent(is_discrete=True, event_dim=1)``)."""

    def __init__(self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> None:
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return _static(self._is_discrete, "is_discrete")

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return _static(self._event_dim, "event_dim")

    def __call__(self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> _Dependent:
        return _Dependent(
            is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
            event_dim=self._event_dim if event_dim is NotImplemented else event_dim,
        )

    def check(self, value: Any) -> Tensor:
        raise ValueError("constraints.dependent: a dependent constraint has no check of its own")


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is a ``dependent`` placeholder (its check cannot be run)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is also a ``dependent`` constraint: on the class it reads as the
    placeholder, on an instance it computes the real constraint::

        @constraints.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return constraints.interval(self.low, self.high)
    """

    def __init__(
        self,
        fn: Callable | None = None,
        *,
        is_discrete: Any = NotImplemented,
        event_dim: Any = NotImplemented,
    ) -> None:
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn: Callable) -> _DependentProperty:  # type: ignore[override]
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class MixtureSameFamilyConstraint(Constraint):
    """A component's constraint checked on a mixture's value: the value is given back the
    component dim (size 1, just left of the event) and the check reduced over it."""

    def __init__(self, base_constraint: Constraint) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"MixtureSameFamilyConstraint: expected a Constraint, got {type(base_constraint).__name__}"
            )
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        if v.dim() < self.event_dim:
            raise ValueError(
                f"MixtureSameFamilyConstraint.check: expected a value of at least {self.event_dim} dims, "
                f"got shape {tuple(v.shape)}"
            )
        ok = _t(self.base_constraint.check(v.unsqueeze(-1 - self.event_dim)))
        keep = v.dim() - self.event_dim
        return ok.reshape(tuple(ok.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_constraint!r})"


def _lower(v: Tensor) -> Tensor:
    return (v.tril() == v).reshape(tuple(v.shape[:-2]) + (-1,)).all(-1)


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        return _lower(_t(value))


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower-triangular, positive diagonal, every row of
    unit length (to ``10 · n · eps``)."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        tol = gg.finfo(v.dtype).eps * v.size(-1) * 10
        unit_rows = (gg.linalg.norm(v.detach(), dim=-1) - 1.0).abs().le(tol).all(-1)
        return lower_cholesky.check(v) & unit_rows


class _Square(Constraint):
    """Square matrices (one answer per matrix, from the shape alone)."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return gg.full(tuple(v.shape[:-2]), v.shape[-2] == v.shape[-1], dtype=gg.bool)


class _Symmetric(_Square):
    """Symmetric square matrices (equal to the transpose within rtol 1e-5, atol 1e-6)."""

    def check(self, value: Any) -> Tensor:
        square = super().check(value)
        if not square.all():
            return square
        v = _t(value)
        return gg.isclose(v, v.mT, atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with no negative eigenvalue."""

    def check(self, value: Any) -> Tensor:
        sym = super().check(value)
        if not sym.all():
            return sym
        return gg.linalg.eigvalsh(_t(value)).ge(0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices with a Cholesky factor."""

    def check(self, value: Any) -> Tensor:
        sym = super().check(value)
        if not sym.all():
            return sym
        return gg.linalg.cholesky_ex(_t(value)).info.eq(0)


dependent = _Dependent()
dependent_property = _DependentProperty
lower_triangular = _LowerTriangular()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
