"""``Adafactor``: Adam-like steps with a factored second moment (one row and one column vector per
matrix instead of a full matrix), as ``torch.optim.Adafactor``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.optim.adam import lerp_
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.scalars import bump_step, lr_of, scalar_state
from glassgrad.tensor import Tensor

__all__ = ["Adafactor"]


def _mean_square(g: Any, axis: int) -> Any:
    """``norm(g, dim=axis, keepdim=True).square_().div_(g.size(axis))``: PyTorch's row/column means
    of g², taken through the norm as PyTorch does."""
    xp = array_module(g)
    return xp.sqrt((g * g).sum(axis=axis, keepdims=True)) ** 2 / g.shape[axis]


def _factor_shape(shape: tuple[int, ...], key: str) -> tuple[int, ...]:
    """The shape of a factor of a gradient of ``shape`` (..., R, C): ``row_var`` (..., R, 1),
    ``col_var`` (..., 1, C)."""
    return shape[:-1] + (1,) if key == "row_var" else shape[:-2] + (1, shape[-1])


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018) in PyTorch's form, as ``torch.optim.Adafactor``.

    For each parameter θ with gradient g, one ``step()`` does (t counts steps; state starts at zero)::

        β̂ ← t ** beta2_decay                     the weight of the new square (1 at t = 1)
        ρ ← min(γ, 1 / √t)
        α ← max(ε₂, ‖θ‖ / √numel(θ)) · ρ          a step relative to the parameter's scale
        θ ← θ (1 − γ λ)                           if λ ≠ 0          (λ = weight_decay)
        for a matrix (or stack of them, g of shape (..., R, C)):
            r ← lerp(r, mean of g² over C, β̂)     (..., R, 1)
            c ← lerp(c, mean of g² over R, β̂)     (..., 1, C)
            v ← r c / max(mean(r), ε₁)             the rank-1 estimate of E[g²]
        for a vector: v ← lerp(v, g², β̂)
        u ← g / √max(v, ε₁²)
        θ ← θ − α / max(1, ‖u‖ / (√numel(u) · d)) · u

    ε₁ defaults to the machine epsilon of θ's dtype. State: ``step``, and ``row_var``/``col_var``
    (matrices) or ``variance`` (vectors).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: γ, the upper bound of the relative step ρ.
        beta2_decay: the exponent of t giving β̂ (<= 0).
        eps: (ε₁ or None, ε₂).
        d: the clipping threshold on the update's RMS (>= 1).
        weight_decay: λ, decoupled (as AdamW's).
        foreach: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.

    Shape:
        Each gradient has its parameter's shape; ``row_var`` is (..., R, 1), ``col_var`` (..., 1, C).
    """

    _param_shaped_state = ("row_var", "col_var", "variance")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        # PyTorch's checks, in its order (a NaN fails each, as there)
        for ok, what, value in (
            (lr >= 0.0, "lr >= 0", lr),
            (beta2_decay <= 0.0, "beta2_decay <= 0", beta2_decay),
            (eps[0] is None or eps[0] >= 0.0, "eps[0] (epsilon1) >= 0 or None", eps[0]),
            (eps[1] >= 0.0, "eps[1] (epsilon2) >= 0", eps[1]),
            (d >= 1.0, "the clipping threshold d >= 1", d),
            (weight_decay >= 0.0, "weight_decay >= 0", weight_decay),
        ):
            if not ok:
                raise ValueError(f"Adafactor: expected {what}, got {value!r}")
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=eps,
            d=d,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _state_for(self, p: Tensor, g: Any) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            xp = array_module(g)
            state["step"] = scalar_state(0.0)
            if g.ndim > 1:
                for key in ("row_var", "col_var"):
                    state[key] = Tensor(xp.zeros(_factor_shape(g.shape, key), dtype=g.dtype), _wrap=True)
            else:
                state["variance"] = Tensor(xp.zeros_like(g), _wrap=True)
        return state

    def _cast_state(self, p: Tensor, index: int, key: str, value: Any) -> Any:
        """A loaded ``row_var``/``col_var`` is checked against its factor shape (the base class
        checks the parameter-shaped ``variance``)."""
        if key not in ("row_var", "col_var") or not hasattr(value, "__array__"):
            return super()._cast_state(p, index, key, value)
        arr = np.asarray(value._data if isinstance(value, Tensor) else value)
        expected = _factor_shape(tuple(p.shape), key)
        if arr.shape != expected:
            raise ShapeError(
                f"Adafactor.load_state_dict: expected state {key!r} of param {index} with shape "
                f"{expected}, got {arr.shape}"
            )
        return Tensor(arr.astype(p._data.dtype), _wrap=True)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, wd, d = lr_of(group["lr"]), group["weight_decay"], group["d"]
            eps1, eps2 = group["eps"]
            for p, g in self._grads(group):
                xp = array_module(p._data)
                if g.dtype.kind == "c":
                    raise RuntimeError("Adafactor does not support complex parameters")
                state = self._state_for(p, g)
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                e1 = float(np.finfo(p._data.dtype).eps) if eps1 is None else eps1
                beta2_t = t ** group["beta2_decay"]
                rho = min(lr, 1 / t**0.5)
                alpha = max(eps2, float(xp.linalg.norm(p._data.ravel())) / math.sqrt(p._data.size)) * rho
                if wd != 0:
                    p._data *= float(1 - lr * wd)
                if g.ndim > 1:
                    row, col = state["row_var"]._data, state["col_var"]._data
                    lerp_(row, _mean_square(g, -1), beta2_t, xp.empty_like(row))
                    lerp_(col, _mean_square(g, -2), beta2_t, xp.empty_like(col))
                    v = row @ col  # (..., R, 1) @ (..., 1, C): the rank-1 estimate
                    v /= xp.maximum(row.mean(axis=-2, keepdims=True), e1)
                else:
                    var = state["variance"]._data
                    lerp_(var, g * g, beta2_t, xp.empty_like(var))
                    v = var.copy()
                update = g / xp.sqrt(xp.maximum(v, e1 * e1))
                denom = max(1.0, float(xp.linalg.norm(update.ravel())) / (math.sqrt(update.size) * d))
                p._data -= float(alpha / denom) * update
        return loss
