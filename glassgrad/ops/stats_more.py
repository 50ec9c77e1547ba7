"""``cov`` and ``corrcoef``, as ``torch.cov``/``torch.corrcoef``: composites of differentiable ops."""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["cov", "corrcoef"]


def _weights(name: str, w: Any, n: int) -> Tensor:
    if w.ndim > 1 or (w.ndim == 1 and w.shape[0] != n):
        raise ShapeError(f"cov: expected {name} of shape ({n},) (one per observation), got {tuple(w.shape)}")
    if name == "fweights" and w._data.dtype.kind not in "iu":
        raise DTypeError(f"cov: expected integral fweights, got {w.dtype}")
    if name == "aweights" and w._data.dtype.kind != "f":
        raise DTypeError(f"cov: expected floating-point aweights, got {w.dtype}")
    if w.numel() and bool((w < 0).any()):
        raise ArgumentError(f"cov: expected non-negative {name}")
    return w


def cov(input: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:  # noqa: A002
    """The covariance matrix of the variables in ``input``'s rows (observations in columns):
    C = (X − x̄)(w ∘ (X − x̄))ᴴ / (Σw − correction · Σ(w·a)/Σw), with w = fweights · aweights
    (frequency and importance weights), as PyTorch's.

    Shape:
        (V, N) -> (V, V); one variable (a 1-D input, or V = 1) -> a 0-d tensor.
    """
    import glassgrad as gg

    if input.ndim > 2:
        raise ShapeError(
            f"cov: expected a 1-D or 2-D input (variables x observations), got shape {input.shape}"
        )
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if x._data.dtype.kind == "b":  # PyTorch's RuntimeError (NumPy's would count the bools)
        raise DTypeError("cov(): bool dtype is not supported for input")
    if x._data.dtype.kind in "iub":
        x = x.to(gg.get_default_dtype())
    if aweights is not None and isinstance(aweights, Tensor):  # the result takes aweights' dtype too
        x = x.to(gg.promote_types(x.dtype, aweights.dtype))
    n = x.shape[1]
    w = None
    # the weights stay real for a complex input (PyTorch's norm is real; float() of a complex fails)
    wdt = x.real.dtype if x.is_complex() else x.dtype
    if fweights is not None:
        w = _weights("fweights", fweights, n).to(wdt)
    if aweights is not None:
        a = _weights("aweights", aweights, n).to(wdt)
        w = a if w is None else w * a
    if w is None:
        avg, w_sum = x.mean(1), n
        norm = n - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * a).sum() / w_sum
    if float(norm) <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0; the covariance is inf or nan",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        # +0 (not norm * 0, which is −0 for a negative norm and would flip the infinities' signs)
        norm = gg.zeros_like(norm) if isinstance(norm, Tensor) else 0
    xm = x - avg.unsqueeze(1)
    right = xm if w is None else xm * w
    c = xm @ (right.conj() if right.is_complex() else right).transpose(0, 1)
    c = c / norm
    # one variable (a 1-D input, or a single row) gives a 0-d result, as PyTorch's
    return c.reshape(()) if input.ndim < 2 or x.shape[0] == 1 else c


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    """Pearson's correlation coefficients of ``input``'s rows: cov / (σ_i σ_j), clipped to [−1, 1].

    Shape: as ``cov``'s.
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    if c.is_complex():
        import glassgrad as gg

        return gg.complex(c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
    return c.clamp(-1, 1)
