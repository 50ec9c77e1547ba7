"""Activation functions: thin, PyTorch-named wrappers over the primitives in ``ops.activation``.

Every function keeps PyTorch's signature. ``inplace=True`` writes the result into the input, as
PyTorch (``in_place``: the rules of ``relu_`` and the other in-place methods), so that a script
which reads the input afterwards sees the same values as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.ops import activation as _A
from glassgrad.ops import softmax as _SM
from glassgrad.ops import unary as _U
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "relu",
    "relu6",
    "hardtanh",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "step",
    "in_place",
]


def in_place(input: Tensor, op: str, fn: Any, *args: Any) -> Tensor:  # noqa: A002
    """PyTorch's ``inplace=True``: ``input`` takes ``fn(input, *args)``'s values and returns itself,
    as ``input.relu_()``: recorded on a non-leaf, written through to its base and other views
    (their graphs rebased), refused (``GraphError``) on a leaf that requires grad and, while
    recording, on a piece of split/chunk/unbind (``Tensor._update``).
    Never a new tensor that leaves the input as it was (a different forward value than PyTorch's)."""
    return input._update(op + "_", fn, *args)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's names
    """max(x, 0), with relu'(0) = 0.

    Shape:
        input: (*); returns (*).

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.relu(gg.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    return in_place(input, "relu", _A.relu) if inplace else _A.relu(input)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 outside and at the bounds.

    The bounds get gradient 0, as in PyTorch, so ``relu6'(0) = 0`` agrees with ``relu'(0) = 0``.

    Shape:
        input: (*); returns (*).
    """
    if inplace:
        return in_place(input, "hardtanh", _A.hardtanh, min_val, max_val)
    return _A.hardtanh(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6) = hardtanh(x, 0, 6).

    Shape:
        input: (*); returns (*).
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, negative_slope * x otherwise.

    Shape:
        input: (*); returns (*).
    """
    if inplace:
        return in_place(input, "leaky_relu", _A.leaky_relu, negative_slope, True)  # saves its result
    return _A.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    Shape:
        input: (*); returns (*).
    """
    if inplace:  # True: elu_ saves its result, as PyTorch
        return in_place(input, "elu", _A.elu, alpha, True)
    return _A.elu(input, alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x) (Phi the standard normal CDF); ``approximate='tanh'`` uses the tanh formula.

    Shape:
        input: (*); returns (*).
    """
    return _A.gelu(input, approximate)  # (checks approximate: PyTorch's RuntimeError)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (also called swish).

    Shape:
        input: (*); returns (*).
    """
    return in_place(input, "silu", _A.silu) if inplace else _A.silu(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x)).

    Shape:
        input: (*); returns (*).
    """
    return _A.sigmoid(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """The hyperbolic tangent.

    Shape:
        input: (*); returns (*).
    """
    return _U.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """(1 / beta) * log(1 + exp(beta * x)); x itself where beta * x > threshold.

    Shape:
        input: (*); returns (*).
    """
    return _A.softplus(input, beta, threshold)


def _implicit_dim(name: str, input: Tensor, dim: Any) -> Any:  # noqa: A002
    """PyTorch's legacy choice when ``dim`` is omitted (0 for 0-, 1- and 3-d input, else 1), with
    its deprecation warning: old tutorials call ``F.log_softmax(x)``, and they port."""
    if dim is not None:
        return dim
    chosen = 0 if input.ndim in (0, 1, 3) else 1
    # Opens with PyTorch's words: programs silence this with filterwarnings(message="Implicit dim...").
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated ({name}: implicit dimension "
        f"choice is deprecated since it follows the input's rank; chose dim={chosen} for this "
        f"{input.ndim}-d input); pass dim= explicitly",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return chosen


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim`` (stable: the max is subtracted first).

    Args:
        input: the scores.
        dim: the axis that sums to one; omitted, PyTorch's legacy choice with its warning.
        dtype: cast the input to this dtype first.

    Shape:
        input: (*); returns (*).
    """
    dim = _implicit_dim("softmax", input, dim)
    return _SM.softmax(input, dim, dtype)


def log_softmax(
    input: Tensor,  # noqa: A002
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """x - logsumexp(x) along ``dim``: the log of softmax, without forming softmax (no log(0)).

    Shape:
        input: (*); returns (*).
    """
    dim = _implicit_dim("log_softmax", input, dim)
    return _SM.log_softmax(input, dim, dtype)


def step(input: Tensor) -> Tensor:  # noqa: A002
    """The perceptron's step: 1 where x >= 0, else 0, in x's dtype; a constant (no gradient).

    Shape:
        input: (*); returns (*).
    """
    return _A.step(input)
