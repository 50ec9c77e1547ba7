"""Weight initialisation, as ``torch.nn.init``: every function fills a tensor in place, outside the
graph, and returns it. Random draws come from ``glassgrad.random`` (``manual_seed`` repeats them).

The scale rules:

- Xavier/Glorot (for tanh/sigmoid): ``std = gain * sqrt(2 / (fan_in + fan_out))``.
- Kaiming/He (for ReLU): ``std = gain / sqrt(fan)``, ``gain = sqrt(2 / (1 + a^2))`` for leaky ReLU.
- A uniform on ``[-b, b]`` has ``std = b / sqrt(3)``, so uniform variants use ``b = sqrt(3) * std``.

``fan_in = size(1) * receptive``, ``fan_out = size(0) * receptive`` where ``receptive`` is the product
of the dims after the first two (the kernel of a conv weight ``(C_out, C_in, kH, kW)``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError
from glassgrad.random import Generator, check_floating, get_generator
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "dirac_",
    "sparse_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: sqrt(2);
    ``leaky_relu``: sqrt(2 / (1 + slope^2)) with slope ``param`` (default 0.01); ``selu``: 3/4.

    >>> round(calculate_gain("leaky_relu", 5 ** 0.5), 6)
    0.57735
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1  # (an int, as PyTorch's: f"{gain}" prints 1)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: expected a number for the negative slope, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)``; needs at least 2 dims."""
    if tensor.ndim < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor with at least 2 dims, got shape {tuple(tensor.shape)}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: expected mode 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():
        return tensor.copy_(values)


def _warn_if_empty(tensor: Tensor) -> bool:
    """PyTorch's warning for a Kaiming initialiser given a tensor with no elements (left as it is)."""
    if 0 not in tensor.shape:
        return False
    warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=user_stacklevel())
    return True


def _meta(tensor: Tensor) -> bool:
    """A tensor on the meta device has no values to fill: the random draws are skipped (the
    arguments are still checked), as PyTorch's initialisers leave a meta tensor as it is."""
    return isinstance(tensor, Tensor) and tensor.is_meta


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b): ``Tensor.uniform_`` without grad, so with its checks (a float
    tensor; ``a <= b``), as PyTorch's."""
    if _meta(tensor):
        return tensor
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples of N(mean, std^2): ``Tensor.normal_`` without grad, so with its checks (a
    float tensor; ``std >= 0``), as PyTorch's."""
    if _meta(tensor):
        return tensor
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill with N(mean, std^2) samples redrawn until they lie in [a, b] (bounds in absolute units).

    Rejection sampling, vectorised over the tensor: each round redraws only the rejected entries.
    As PyTorch: ``a == b`` fills with ``a``, and a mean more than 2 std outside [a, b] warns; where
    [a, b] holds under 1e-6 of the mass PyTorch's inverse-CDF draws pile up at a bound, here an error.
    """
    check_floating("trunc_normal_", tensor._data.dtype, "f")
    if a > b:  # (a RuntimeError too, as PyTorch's uniform_ raises)
        raise ArgumentError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    lo, hi = (a - mean) / (std * math.sqrt(2)), (b - mean) / (std * math.sqrt(2))  # (std 0: PyTorch's error)
    if a == b:
        return constant_(tensor, a)
    accept = 0.5 * (math.erf(hi) - math.erf(lo))
    if accept < 1e-6:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds only {accept:.2e} of N({mean}, {std}^2)")
    if _meta(tensor):
        return tensor
    rng = get_generator(generator)
    xp = array_module(tensor._data)
    out = rng.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():  # rounds, not elements: each round shrinks the rejected set by `accept`
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, xp.asarray(out))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (``Tensor.fill_``: a value the dtype cannot hold, NaN into an int tensor, is refused)."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal of a rectangular matrix too)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, array_module(tensor._data).eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``.

    ``nn.Linear`` uses ``a = sqrt(5)``, which makes ``b = 1 / sqrt(fan_in)``.
    """
    if _warn_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)``."""
    if _warn_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013), via QR of a Gaussian.

    The tensor is viewed as ``(size(0), numel / size(0))``; rows are orthonormal when there are
    fewer rows than columns, columns otherwise. The signs of R's diagonal fix Q's sign ambiguity so
    that Q is uniformly distributed.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: expected a tensor with at least 2 dims, got shape {tuple(tensor.shape)}"
        )
    check_floating("orthogonal_", tensor._data.dtype)
    if tensor.numel() == 0 or _meta(tensor):
        return tensor
    xp = array_module(tensor._data)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = get_generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T  # (rows, cols) -> (cols, rows): QR wants a tall matrix
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))  # (tall, short) * (short,)
    if rows < cols:
        q = q.T  # (cols, rows) -> (rows, cols)
    return _fill(tensor, (gain * q).reshape(tensor.shape))  # (rows, cols) -> tensor.shape


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the identity map on as many
    input channels as there are output channels per group (each group's ``d``-th filter is 1 at
    the kernel centre of input channel ``d``, else 0).
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {tuple(tensor.shape)}"
        )
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups={groups}")
    xp = array_module(tensor._data)
    per_group = tensor.shape[0] // groups
    n = min(per_group, tensor.shape[1])
    out = xp.zeros(tensor.shape)
    d = xp.arange(n)
    rows = (xp.arange(groups)[:, None] * per_group + d).reshape(-1)  # (groups * n,)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    out[(rows, xp.tile(d, groups), *centre)] = 1
    return _fill(tensor, out)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    """Fill a 2-D tensor with N(0, std^2) samples, then zero ``ceil(sparsity * rows)`` random rows of
    every column (Martens 2010), as ``torch.nn.init.sparse_``."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    check_floating("sparse_", tensor._data.dtype)
    if _meta(tensor):
        return tensor
    gen = get_generator(generator)
    values = gen.normal(0.0, std, (rows, cols))
    zeros = math.ceil(sparsity * rows)
    picked = gen.random((rows, cols)).argsort(axis=0)[:zeros]  # a random permutation per column
    values[picked, array_module(values).arange(cols)] = 0
    return _fill(tensor, values)


def _make_deprecate(meth: Any) -> Any:
    """The old name without the trailing underscore (``xavier_uniform``), as PyTorch keeps it: calls
    ``meth`` after a FutureWarning with PyTorch's words."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated, as in PyTorch; use ``{new_name}``."
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)


# PyTorch's private helpers behind the public initialisers, which programs call directly
# (GRU4Rec's init_parameter_matrix calls _no_grad_uniform_); every initialiser here runs without grad.
def _no_grad_uniform_(tensor: Tensor, a: float, b: float, generator: Generator | None = None) -> Tensor:
    return uniform_(tensor, a, b, generator)


def _no_grad_normal_(tensor: Tensor, mean: float, std: float, generator: Generator | None = None) -> Tensor:
    return normal_(tensor, mean, std, generator)


def _no_grad_trunc_normal_(
    tensor: Tensor, mean: float, std: float, a: float, b: float, generator: Generator | None = None
) -> Tensor:
    return trunc_normal_(tensor, mean, std, a, b, generator)


def _no_grad_fill_(tensor: Tensor, val: float) -> Tensor:
    return constant_(tensor, val)


def _no_grad_zero_(tensor: Tensor) -> Tensor:
    return zeros_(tensor)
