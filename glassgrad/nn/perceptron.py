"""Rosenblatt's perceptron: a threshold unit and its learning rule (not gradient descent).

The unit computes ``y_hat = step(w . x + b)`` (1 if ``w . x + b >= 0`` else 0). The rule visits the
samples one at a time and, on a mistake, moves the weights toward the sample's correct side::

    w <- w + lr * (y - y_hat) * x
    b <- b + lr * (y - y_hat)

If a line separates the two classes the rule stops making mistakes after finitely many updates
(the perceptron convergence theorem). If none does (XOR) it cycles forever; ``fit`` then stops
after ``max_epochs`` and reports that it did not converge.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.errors import ShapeError
from glassgrad.nn import functional as F
from glassgrad.nn.module import Module, Parameter
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["Perceptron", "PerceptronResult", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """The perceptron rule still made mistakes after ``max_epochs`` epochs."""


class PerceptronResult(NamedTuple):
    """What :meth:`Perceptron.fit` did.

    Attributes:
        converged: an epoch went by without a single mistake.
        epochs: epochs run (the last one is the mistake-free one when ``converged``).
        errors: mistakes (= updates) in each epoch.
    """

    converged: bool
    epochs: int
    errors: list[int]


class Perceptron(Module):
    """A single threshold unit ``step(x W^T + b)`` trained by the perceptron learning rule.

    Its parameters have ``nn.Linear(in_features, 1)``'s names and shapes, so weights move between
    the two. They start at zero (the classic choice: the rule needs no random start).

    Args:
        in_features: size of each input.

    Shape:
        - input: ``(N, in_features)`` (or ``(in_features,)``).
        - output: ``(N, 1)`` (or ``(1,)``) of 0.0 / 1.0, in the input's dtype.

    >>> import glassgrad as gg
    >>> from glassgrad.datasets import logic_gate
    >>> X, y = logic_gate("and")
    >>> p = Perceptron(2)
    >>> p.fit(X, y).converged
    True
    >>> p(X).flatten().tolist()
    [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        if not isinstance(in_features, int) or in_features < 1:
            raise ValueError(f"Perceptron: expected in_features >= 1, got {in_features!r}")
        self.in_features = in_features
        self.weight = Parameter(np.zeros((1, in_features), dtype=np.float32))
        self.bias = Parameter(np.zeros((1,), dtype=np.float32))

    def reset_parameters(self) -> None:
        with no_grad():
            self.weight.zero_()
            self.bias.zero_()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.shape[-1:] != (self.in_features,):
            raise ShapeError(f"Perceptron: expected input (N, {self.in_features}), got {tuple(input.shape)}")
        return F.step(F.linear(input, self.weight, self.bias))

    def _step(self, z: np.ndarray) -> np.ndarray:
        # The same threshold as forward (F.step), so fit's predictions are forward's.
        return F.step(Tensor(z, _wrap=True))._data

    def fit(self, X: Any, y: Any, lr: float = 1.0, max_epochs: int = 100) -> PerceptronResult:
        """Run the perceptron rule, one sample at a time, until an epoch has no mistake.

        The loop over samples is the algorithm (each update changes the next prediction); the work
        inside a sample is vectorised over the features.

        Args:
            X: inputs, ``(N, in_features)``.
            y: targets 0 or 1, ``(N,)`` or ``(N, 1)``.
            lr: step size of each update.
            max_epochs: give up after this many passes over the data.

        Returns:
            A :class:`PerceptronResult`; when it did not converge a :class:`ConvergenceWarning`
            is issued as well (no exception: failing on XOR is the lesson).
        """
        Xa = np.asarray(X._data if isinstance(X, Tensor) else X, dtype=self.weight._data.dtype)
        ya = np.asarray(y._data if isinstance(y, Tensor) else y, dtype=self.weight._data.dtype)
        if Xa.ndim != 2 or Xa.shape[1] != self.in_features or ya.reshape(-1).shape[0] != Xa.shape[0]:
            raise ShapeError(
                f"Perceptron.fit: expected X (N, {self.in_features}) and y (N,) or (N, 1), "
                f"got {Xa.shape} and {ya.shape}"
            )
        ya = ya.reshape(-1)  # (N, 1) -> (N,)
        if not np.isin(ya, (0.0, 1.0)).all():
            raise ValueError(f"Perceptron.fit: expected targets 0 or 1, got values {np.unique(ya).tolist()}")
        w = self.weight._data[0].copy()  # (in_features,)
        b = self.bias._data.copy()  # (1,)
        errors: list[int] = []
        for _ in range(max_epochs):
            mistakes = 0
            for xi, yi in zip(Xa, ya):
                y_hat = self._step(xi @ w + b)  # (1,)
                delta = lr * (yi - y_hat[0])
                if delta != 0.0:
                    w += delta * xi
                    b += delta
                    mistakes += 1
            errors.append(mistakes)
            if mistakes == 0:
                break
        with no_grad():
            self.weight.copy_(w[None, :])  # (in_features,) -> (1, in_features)
            self.bias.copy_(b)
        converged = bool(errors) and errors[-1] == 0
        if not converged:
            warnings.warn(
                f"Perceptron.fit: still {errors[-1] if errors else 'untested'} mistakes after {max_epochs} "
                "epochs; the classes may not be linearly separable (XOR is not)",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )
        return PerceptronResult(converged, len(errors), errors)
