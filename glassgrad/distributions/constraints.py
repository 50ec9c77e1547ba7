"""Constraints: what values a parameter or a sample may take (``torch.distributions.constraints``).

Each constraint's ``check(value)`` returns a boolean array, one entry per event (the event's own
dims reduced), used by ``validate_args`` to refuse a bad parameter or a value outside the support.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "Constraint",
    "real",
    "positive",
    "unit_interval",
    "boolean",
    "simplex",
    "integer_interval",
    "nonnegative_integer",
    "interval",
    "half_open_interval",
    "real_vector",
    "lower_cholesky",
    "positive_definite",
    "one_hot",
    "independent",
]


def _arr(value: Any) -> np.ndarray:
    return np.asarray(getattr(value, "_data", value))


class Constraint:
    """A set of allowed values. ``event_dim``: how many trailing dims make up one event."""

    event_dim = 0
    is_discrete = False

    def check(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return v == v  # not NaN (±inf are real numbers here, as in PyTorch)


class _GreaterThan(Constraint):
    def __init__(self, lower: float) -> None:
        self.lower = lower

    def check(self, value: Any) -> np.ndarray:
        return _arr(value) > _arr(self.lower)

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower})"


class _Interval(Constraint):
    """``low <= x <= high`` (or ``< high`` when half-open); bounds may be arrays."""

    def __init__(self, low: Any, high: Any, half_open: bool = False) -> None:
        self.low, self.high, self.half_open = low, high, half_open

    def check(self, value: Any) -> np.ndarray:
        v, lo, hi = _arr(value), _arr(self.low), _arr(self.high)
        return (lo <= v) & ((v < hi) if self.half_open else (v <= hi))

    def __repr__(self) -> str:
        kind = "HalfOpenInterval" if self.half_open else "Interval"
        return f"{kind}(lower_bound={self.low}, upper_bound={self.high})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return (v == 0) | (v == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, low: int, high: Any) -> None:
        self.low, self.high = low, high

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return (v % 1 == 0) & (self.low <= v) & (v <= _arr(self.high))

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.low}, upper_bound={self.high})"


class _IntegerGreaterThan(Constraint):
    """Integers ``k >= lower`` (PyTorch's ``IntegerGreaterThan``)."""

    is_discrete = True

    def __init__(self, lower: int) -> None:
        self.lower = lower

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return (v % 1 == 0) & (v >= self.lower)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return np.all(v >= 0, axis=-1) & (np.abs(v.sum(-1) - 1) < 1e-6)


class _OneHot(Constraint):
    """One-hot vectors: each entry 0 or 1, summing to 1 over the last dim."""

    event_dim = 1
    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return np.all((v == 0) | (v == 1), axis=-1) & (v.sum(-1) == 1)


class _RealVector(Constraint):
    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return np.all(v == v, axis=-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        lower = np.all(v == np.tril(v), axis=(-2, -1))
        return lower & np.all(np.diagonal(v, axis1=-2, axis2=-1) > 0, axis=-1)


real = _Real()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
real_vector = _RealVector()
lower_cholesky = _LowerCholesky()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)


def interval(low: Any, high: Any) -> Constraint:
    """``low <= x <= high``."""
    return _Interval(low, high)


def half_open_interval(low: Any, high: Any) -> Constraint:
    """``low <= x < high``."""
    return _Interval(low, high, half_open=True)


def integer_interval(low: int, high: Any) -> Constraint:
    """Integers ``low <= k <= high``."""
    return _IntegerInterval(low, high)


class _IndependentConstraint(Constraint):
    """``base_constraint`` on every entry of the last ``reinterpreted_batch_ndims`` dims, checked as
    one event (a Dirichlet's concentration: positive in every coordinate of the vector)."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint) or int(reinterpreted_batch_ndims) < 0:
            raise ValueError(
                f"constraints.independent: expected a Constraint and a count >= 0, got "
                f"{base_constraint!r} and {reinterpreted_batch_ndims!r}"
            )
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)
        self.event_dim = base_constraint.event_dim + self.reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete

    def check(self, value: Any) -> np.ndarray:
        ok = np.asarray(self.base_constraint.check(value))
        n = self.reinterpreted_batch_ndims
        if ok.ndim < n:
            raise ValueError(
                f"constraints.independent: expected a value of at least {self.event_dim} dims, got "
                f"shape {tuple(_arr(value).shape)}"
            )
        return np.all(ok, axis=tuple(range(-n, 0))) if n else ok

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


def independent(base_constraint: Constraint, reinterpreted_batch_ndims: int) -> Constraint:
    """``base_constraint`` over whole events of ``reinterpreted_batch_ndims`` trailing dims."""
    return _IndependentConstraint(base_constraint, reinterpreted_batch_ndims)


# ---------------------------------------------------------------- more constraints (round 29)
class _GreaterThanEq(Constraint):
    """``x >= lower``; ``lower`` may be an array (a Pareto's scale)."""

    def __init__(self, lower: Any) -> None:
        self.lower = lower

    def check(self, value: Any) -> np.ndarray:
        return _arr(value) >= _arr(self.lower)

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower})"


class _LessThan(Constraint):
    def __init__(self, upper: float) -> None:
        self.upper = upper

    def check(self, value: Any) -> np.ndarray:
        return _arr(value) < _arr(self.upper)

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper})"


class _Multinomial(Constraint):
    """Non-negative integer counts over the last dim summing to at most ``upper_bound``."""

    event_dim = 1
    is_discrete = True

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return np.all(v >= 0, axis=-1) & (v.sum(-1) <= _arr(self.upper_bound))


class _Cat(Constraint):
    """Constraints ``cseq`` on consecutive slices of ``lengths`` along ``dim``."""

    def __init__(self, cseq: list, dim: int = 0, lengths: Any = None) -> None:
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"constraints.cat: expected {len(self.cseq)} lengths, got {len(self.lengths)}")
        self.dim = dim
        self.event_dim = max((c.event_dim for c in self.cseq), default=0)
        self.is_discrete = any(c.is_discrete for c in self.cseq)

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        bounds = np.cumsum([0] + self.lengths)
        parts = [
            c.check(np.take(v, np.arange(a, b), axis=self.dim))
            for c, a, b in zip(self.cseq, bounds, bounds[1:])
        ]
        return np.concatenate(parts, axis=self.dim)


class _Stack(Constraint):
    """Constraint ``cseq[i]`` on index i along ``dim``."""

    def __init__(self, cseq: list, dim: int = 0) -> None:
        self.cseq, self.dim = list(cseq), dim
        self.event_dim = max((c.event_dim for c in self.cseq), default=0)
        self.is_discrete = any(c.is_discrete for c in self.cseq)

    def check(self, value: Any) -> np.ndarray:
        v = _arr(value)
        return np.stack(
            [c.check(np.take(v, i, axis=self.dim)) for i, c in enumerate(self.cseq)], axis=self.dim
        )


nonnegative = _GreaterThanEq(0.0)
positive_integer = _IntegerGreaterThan(1)
multinomial = _Multinomial
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
cat = _Cat
stack = _Stack
__all__ += [
    "nonnegative",
    "positive_integer",
    "multinomial",
    "greater_than",
    "greater_than_eq",
    "less_than",
    "cat",
    "stack",
]

# the placeholder and matrix constraints (round 30) live in their own file (size limit)
from glassgrad.distributions._constraints_matrix import (  # noqa: E402
    MixtureSameFamilyConstraint,
    _Dependent,  # noqa: F401
    _DependentProperty,  # noqa: F401
    corr_cholesky,
    dependent,
    dependent_property,
    is_dependent,
    lower_triangular,
    positive_definite,
    positive_semidefinite,
    square,
    symmetric,
)

__all__ += [
    "dependent",
    "dependent_property",
    "is_dependent",
    "MixtureSameFamilyConstraint",
    "lower_triangular",
    "corr_cholesky",
    "square",
    "symmetric",
    "positive_semidefinite",
]
