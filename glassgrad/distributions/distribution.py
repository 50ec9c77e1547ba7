"""``Distribution``: the base of the probability distributions, with PyTorch's shapes and checks.

Shapes follow ``torch.distributions``: a distribution holds a batch of independent distributions
(``batch_shape``), each over events of ``event_shape``; ``sample(sample_shape)`` returns
``sample_shape + batch_shape + event_shape`` and ``log_prob(value)`` one number per event,
``sample_shape + batch_shape``. Everything is built from Tensor ops, so gradients flow through
``log_prob``, ``entropy`` and ``rsample`` (the reparameterised sample) to the parameters;
``sample`` draws without recording a graph.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["Distribution"]


class Distribution:
    """Base class: subclasses set ``arg_constraints``, ``support`` and define the methods they have.

    Args:
        batch_shape: the shape of the batch of distributions.
        event_shape: the shape of one event (one sample of one distribution).
        validate_args: check the parameters now, and values given to ``log_prob``; None takes
            the default (``Distribution.set_default_validate_args``, True unless changed).
    """

    has_rsample = False
    has_enumerate_support = False
    # the default for new distributions, a class attribute as in PyTorch (Pyro's settings read and
    # write ``Distribution._validate_args``); True unless Python runs with -O
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for distributions made from now on."""
        if value not in (True, False):
            raise ValueError(f"Distribution.set_default_validate_args: expected a bool, got {value!r}")
        Distribution._validate_args = value

    def __init__(
        self, batch_shape: tuple = (), event_shape: tuple = (), validate_args: bool | None = None
    ) -> None:
        self._batch_shape = gg.Size(batch_shape) if hasattr(gg, "Size") else tuple(batch_shape)
        self._event_shape = gg.Size(event_shape) if hasattr(gg, "Size") else tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(
                    f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                    "initialize the distribution with `validate_args=False` to turn off validation.",
                    stacklevel=user_stacklevel(),
                )
            for name, constraint in arg_constraints.items():
                if name not in self.__dict__ or constraints.is_dependent(constraint):
                    continue  # the form (probs or logits) not given, a computed one, or no check of its own
                value = getattr(self, name)
                if not constraints._t(constraint.check(value)).all():
                    raise ValueError(
                        f"{type(self).__name__}: expected parameter {name} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) to satisfy the constraint {constraint!r}, but found invalid "
                        f"values:\n{value}"
                    )

    # ------------------------------------------------------------ what a family declares
    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """Each parameter's constraint (a family sets it as a class attribute); PyTorch's base raises."""
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The constraint of the values (a family sets it); PyTorch's base raises."""
        raise NotImplementedError

    # ------------------------------------------------------------ shapes
    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape: tuple = ()) -> tuple:
        """``sample_shape + batch_shape + event_shape``."""
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)

    # ------------------------------------------------------------ sampling and densities
    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """Draw ``sample_shape`` batches of samples, recording no graph."""
        with gg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """A sample that is a differentiable function of the parameters (reparameterisation)."""
        raise NotImplementedError(f"{type(self).__name__}: rsample is not available (has_rsample=False)")

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))`` (PyTorch's deprecated form)."""
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log density (or log mass) at ``value``, one per event."""
        raise NotImplementedError(f"{type(self).__name__}: log_prob is not implemented")

    def entropy(self) -> Tensor:
        """The entropy of each distribution in the batch, shape ``batch_shape``."""
        raise NotImplementedError(f"{type(self).__name__}: entropy is not implemented")

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return self.entropy().exp()

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: cdf is not implemented")

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: icdf is not implemented")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: enumerate_support is not implemented")

    # ------------------------------------------------------------ moments
    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: mean is not implemented")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: mode is not implemented")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: variance is not implemented")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    # ------------------------------------------------------------ checks
    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """The instance ``expand`` fills: ``_instance`` when a subclass passes one, else a new object
        of ``type(self)`` (a subclass stays itself: Pyro's ``Normal`` expands to a Pyro ``Normal``).
        A subclass with its own ``__init__`` must define its own ``expand``, as in PyTorch."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom __init__ method "
                "must also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    def _fill_instance(self, cls: type, built: Any, _instance: Any = None) -> Any:
        """``built`` (a ``cls`` made by ``cls(...)`` in an ``expand``) moved into the instance that
        ``expand`` must return: ``_instance``, or a new object of ``type(self)``."""
        new = self._get_checked_instance(cls, _instance)
        if new is not built:
            vars(new).update(vars(built))
        return new

    def _validate_sample(self, value: Any) -> None:
        """Raise unless ``value`` is a Tensor whose shape broadcasts with the batch and event
        shapes and whose values lie in the support."""
        name = type(self).__name__
        if not isinstance(value, Tensor):
            raise ValueError(f"{name}.log_prob: expected value to be a Tensor, got {type(value).__name__}")
        event = tuple(self._event_shape)
        if event and tuple(value.shape[len(value.shape) - len(event) :]) != event:
            raise ValueError(
                f"{name}.log_prob: expected a value whose last dims are the event shape {event}, got shape "
                f"{tuple(value.shape)}"
            )
        try:
            np.broadcast_shapes(tuple(value.shape), tuple(self._batch_shape) + event)
        except ValueError:
            raise ValueError(
                f"{name}.log_prob: expected a value broadcastable to batch_shape + event_shape "
                f"{tuple(self._batch_shape) + event}, got shape {tuple(value.shape)}"
            ) from None
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{type(self)} does not define `support` to enable sample validation. Please initialize the "
                "distribution with `validate_args=False` to turn off validation.",
                stacklevel=user_stacklevel(),
            )
            return
        if support is not None and not constraints._t(support.check(value)).all():
            raise ValueError(
                f"{name}.log_prob: expected value within the support {support!r}, got values outside "
                f"it:\n{value}"
            )

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}: {tuple(getattr(self, k).shape) if getattr(self, k).numel() > 1 else getattr(self, k)}"
            for k in self.arg_constraints
            if k in self.__dict__
        )
        return f"{type(self).__name__}({params})"
