"""``biject_to`` and ``transform_to``: from a constraint to a transform that maps unconstrained
reals onto it (``torch.distributions.constraint_registry``).

``biject_to(c)`` is bijective (usable inside ``TransformedDistribution`` and for change of
variables); ``transform_to(c)`` need not be (e.g. softmax onto the simplex), which suits
optimisation of constrained parameters::

    unconstrained = gg.zeros(3, requires_grad=True)
    scale = transform_to(constraints.positive)(unconstrained)
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import Any

from glassgrad.distributions import constraints as C
from glassgrad.distributions import transforms as T

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """A map from constraint types to factories ``factory(constraint) -> Transform``."""

    def __init__(self) -> None:
        self._registry: dict[type, Callable] = {}

    def register(self, constraint: Any, factory: Callable | None = None) -> Any:
        """Register ``factory`` for a constraint type (or the type of a constraint instance);
        without ``factory``, a decorator."""
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, C.Constraint):
            constraint = type(constraint)
        if not (isinstance(constraint, type) and issubclass(constraint, C.Constraint)):
            raise TypeError(
                f"ConstraintRegistry.register: expected a Constraint subclass or instance, got {constraint!r}"
            )
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: Any) -> T.Transform:
        factory = self._registry.get(type(constraint))
        if factory is None:
            raise NotImplementedError(
                f"Cannot transform {type(constraint).__name__.lstrip('_')} constraints: no transform is "
                f"registered for {constraint!r}"
            )
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _real(constraint: Any) -> T.Transform:
    return T.identity_transform


def _independent_biject(constraint: Any) -> T.Transform:
    return T.IndependentTransform(biject_to(constraint.base_constraint), constraint.reinterpreted_batch_ndims)


def _independent_transform(constraint: Any) -> T.Transform:
    return T.IndependentTransform(
        transform_to(constraint.base_constraint), constraint.reinterpreted_batch_ndims
    )


def _greater_than(constraint: Any) -> T.Transform:
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.lower_bound, 1)])


def _less_than(constraint: Any) -> T.Transform:
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.upper_bound, -1)])


def _interval(constraint: Any) -> T.Transform:
    low, high = constraint.lower_bound, constraint.upper_bound
    # the unit interval needs no affine step (numbers only: tensor bounds always get one)
    if isinstance(low, Number) and isinstance(high, Number) and low == 0 and high == 1:
        return T.SigmoidTransform()
    return T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(low, high - low)])


def _cat_biject(constraint: Any) -> T.Transform:
    return T.CatTransform([biject_to(c) for c in constraint.cseq], constraint.dim, constraint.lengths)


def _cat_transform(constraint: Any) -> T.Transform:
    return T.CatTransform([transform_to(c) for c in constraint.cseq], constraint.dim, constraint.lengths)


def _stack_biject(constraint: Any) -> T.Transform:
    return T.StackTransform([biject_to(c) for c in constraint.cseq], constraint.dim)


def _stack_transform(constraint: Any) -> T.Transform:
    return T.StackTransform([transform_to(c) for c in constraint.cseq], constraint.dim)


for _registry in (biject_to, transform_to):
    _registry.register(C.real, _real)
    _registry.register(C.greater_than, _greater_than)  # positive is a greater_than(0.0)
    _registry.register(C.greater_than_eq, _greater_than)  # nonnegative likewise
    _registry.register(C.less_than, _less_than)
    _registry.register(C.interval, _interval)  # unit_interval is an interval(0.0, 1.0)
    _registry.register(C.half_open_interval, _interval)
biject_to.register(C.independent, _independent_biject)  # real_vector is independent(real, 1)
transform_to.register(C.independent, _independent_transform)
biject_to.register(C.simplex, lambda c: T.StickBreakingTransform())
transform_to.register(C.simplex, lambda c: T.SoftmaxTransform())
transform_to.register(C.lower_cholesky, lambda c: T.LowerCholeskyTransform())
biject_to.register(C.cat, _cat_biject)
transform_to.register(C.cat, _cat_transform)
biject_to.register(C.stack, _stack_biject)
transform_to.register(C.stack, _stack_transform)
# round 30: positive-(semi)definite matrices and correlation Cholesky factors
transform_to.register(C.positive_definite, lambda c: T.PositiveDefiniteTransform())
transform_to.register(C.positive_semidefinite, lambda c: T.PositiveDefiniteTransform())
biject_to.register(C.corr_cholesky, lambda c: T.CorrCholeskyTransform())
transform_to.register(C.corr_cholesky, lambda c: T.CorrCholeskyTransform())
