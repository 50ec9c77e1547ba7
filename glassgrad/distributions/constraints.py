"""Constraints: what values a parameter or a sample may take (``torch.distributions.constraints``).

Each constraint's ``check(value)`` returns a boolean Tensor, one entry per event (the event's own
dims reduced), used by ``validate_args`` to refuse a bad parameter or a value outside the support.
The classes, their constructor keywords and attributes (``lower_bound``, ``upper_bound``) and their
reprs are PyTorch's, so code that subclasses them (Pyro's ``type(positive)``) or registers
transforms for them (``biject_to.register(constraints.independent)``) ports unchanged.
"""

from __future__ import annotations

from typing import Any

import glassgrad as gg
from glassgrad.tensor import Tensor

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


def _t(value: Any) -> Tensor:
    """``value`` as a Tensor (a number or an array is wrapped; a Tensor is used as is)."""
    return value if isinstance(value, Tensor) else gg.as_tensor(value)


class Constraint:
    """A set of allowed values. ``event_dim``: how many trailing dims make up one event."""

    is_discrete = False  # default: continuous
    event_dim = 0  # default: univariate

    def check(self, value: Any) -> Tensor:
        """A boolean Tensor of ``sample_shape + batch_shape``: whether each event is allowed."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Boolean(Constraint):
    """0 or 1."""

    is_discrete = True

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v == 0) | (v == 1)


class _OneHot(Constraint):
    """One-hot vectors: each entry 0 or 1, summing to 1 over the last dim."""

    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return ((v == 0) | (v == 1)).all(-1) & v.sum(-1).eq(1)


class _IntegerInterval(Constraint):
    """Integers ``lower_bound <= k <= upper_bound``."""

    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v % 1 == 0) & (v >= self.lower_bound) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerLessThan(Constraint):
    """Integers ``k <= upper_bound``."""

    is_discrete = True

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v % 1 == 0) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers ``k >= lower_bound``."""

    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """Any real number (NaN excluded; ±inf allowed, as in PyTorch)."""

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return v == v


class _GreaterThan(Constraint):
    """``x > lower_bound``; the bound may be a Tensor."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        return _t(value) > self.lower_bound

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """``x >= lower_bound``; the bound may be a Tensor (a Pareto's scale)."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        return _t(value) >= self.lower_bound

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """``x < upper_bound``."""

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        return _t(value) < self.upper_bound

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """``lower_bound <= x <= upper_bound``; bounds may be Tensors."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v >= self.lower_bound) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(Constraint):
    """``lower_bound <= x < upper_bound`` (its own class, as in PyTorch: not an ``_Interval``)."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v >= self.lower_bound) & (v < self.upper_bound)

    __repr__ = _Interval.__repr__


class _Simplex(Constraint):
    """Non-negative vectors summing to 1 (within 1e-6) over the last dim."""

    event_dim = 1

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        return (v >= 0).all(-1) & ((v.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """Non-negative counts over the last dim summing to at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, x: Any) -> Tensor:
        v = _t(x)
        return (v >= 0).all(-1) & (v.sum(-1) <= self.upper_bound)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        lower = (v.tril() == v).reshape(tuple(v.shape[:-2]) + (-1,)).all(-1)
        return lower & (v.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


real = _Real()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
nonnegative = _GreaterThanEq(0.0)
# the classes are the factories, as in PyTorch (``constraints.interval(0, 2)`` builds an ``_Interval``)
interval = _Interval
half_open_interval = _HalfOpenInterval
integer_interval = _IntegerInterval
multinomial = _Multinomial
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
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

# the constraints over dims (independent, cat, stack) and the placeholder and matrix ones live in
# their own files (size limit)
from glassgrad.distributions._constraints_shape import (  # noqa: E402
    _Cat,  # noqa: F401
    _IndependentConstraint,
    _Stack,  # noqa: F401
    cat,
    stack,
)

independent = _IndependentConstraint
real_vector = independent(real, 1)

from glassgrad.distributions._constraints_matrix import (  # noqa: E402
    MixtureSameFamilyConstraint,
    _CorrCholesky,  # noqa: F401
    _Dependent,  # noqa: F401
    _DependentProperty,  # noqa: F401
    _LowerTriangular,  # noqa: F401
    _PositiveDefinite,  # noqa: F401
    _PositiveSemidefinite,  # noqa: F401
    _Square,  # noqa: F401
    _Symmetric,  # noqa: F401
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
