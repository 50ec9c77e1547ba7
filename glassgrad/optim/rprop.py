"""``Rprop``: per-coordinate step sizes that grow while the gradient keeps its sign and shrink when it flips."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.optim.optimizer import Optimizer, state_like
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step, number_lr
from glassgrad.optim.real_views import real_view
from glassgrad.optim.scalars import bump_step, scalar_state
from glassgrad.tensor import Tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), as ``torch.optim.Rprop``.

    For each parameter θ with gradient g, one ``step()`` does, coordinate by coordinate
    (the previous gradient g' starts at zero, the step size Δ at γ)::

        g ← −g                                  if maximize
        s ← sign(g · g')
        Δ ← clip(Δ η₊, Δmin, Δmax)              where s > 0: same sign, speed up
        Δ ← clip(Δ η₋, Δmin, Δmax)              where s < 0: the sign flipped, slow down ...
        g ← 0                                   ... and skip this coordinate's move (and its next s)
        θ ← θ − sign(g) Δ
        g' ← g

    A NaN gradient moves nothing (its sign counts as 0, as ``torch.sign``'s does).
    Only the sign of the gradient is used, never its size, which makes Rprop robust to badly
    scaled gradients but suits full-batch training only (minibatch noise flips signs at random).
    State: ``step`` (a float), ``prev`` (g'), ``step_size`` (Δ).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: γ, every coordinate's first step size.
        etas: (η₋, η₊), the factors that shrink and grow Δ, with 0 < η₋ < 1 < η₊.
        step_sizes: (Δmin, Δmax), the bounds of Δ.
        capturable, foreach: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("prev", "step_size")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            etas=etas,
            step_sizes=step_sizes,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr")
        etas, sizes = group["etas"], group["step_sizes"]
        if not isinstance(etas, tuple | list) or len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(
                f"Rprop: expected etas (eta_minus, eta_plus) with 0 < eta_minus < 1 < eta_plus, got {etas!r}"
            )
        if not isinstance(sizes, tuple | list) or len(sizes) != 2 or not 0 <= sizes[0] <= sizes[1]:
            raise ValueError(f"Rprop: expected step_sizes (min, max) with 0 <= min <= max, got {sizes!r}")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            (eta_minus, eta_plus), (size_min, size_max) = group["etas"], group["step_sizes"]
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state(p, group)
                bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): signs per part
                theta, g = real_view(p._data), real_view(g)
                prev, size = real_view(state["prev"]._data), real_view(state["step_size"]._data)
                with np.errstate(invalid="ignore"):  # 0 · inf: NaN, which counts as sign 0
                    s = xp.sign(g * prev)
                flipped = s < 0
                factor = xp.where(s > 0, eta_plus, xp.where(flipped, eta_minus, 1.0)).astype(size.dtype)
                size *= factor
                xp.clip(size, size_min, size_max, out=size)
                g = xp.where(flipped, 0, g)  # (a new array: the gradient itself is never changed)
                # sign(NaN) is 0 here, as torch.sign's: a NaN gradient leaves its coordinate alone
                theta -= ((g > 0).astype(size.dtype) - (g < 0).astype(size.dtype)) * size
                prev[...] = g
        return loss

    def _state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``p``'s state, made at its first step in PyTorch's order: ``step``, ``prev`` (zeros) and
        ``step_size`` (filled with the group's lr), shaped like ``p``."""
        state = self.state[p]
        if not state:
            xp = array_module(p._data)
            state["step"] = scalar_state(0.0)
            state["prev"] = state_like(p, xp.zeros_like(p._data))
            lr = float(group["lr"])  # a complex θ's parts each start at lr (lr + lr·i), as PyTorch's
            size0 = complex(lr, lr) if p._data.dtype.kind == "c" else lr
            state["step_size"] = state_like(p, xp.full_like(p._data, size0))
        return state

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_rprop`` there: Tensor
        ops with grad mode on (the sign of g times a clone of ``prev``, masked assignments), so the
        update is recorded; sign has a zero derivative, so the meta-gradient runs through θ only."""
        (eta_minus, eta_plus), (size_min, size_max) = group["etas"], group["step_sizes"]
        for p, g in differentiable_grads("Rprop", group):
            if not self.state[p]:  # PyTorch fills the step_size state with lr
                number_lr(group["lr"], "full_like", "'fill_value' (position 2)")
            state = self._state(p, group)
            bump_step(state)
            prev, step_size = state["prev"], state["step_size"]
            sign = g.mul(prev.clone()).sign()
            sign[sign.gt(0)] = eta_plus
            sign[sign.lt(0)] = eta_minus
            sign[sign.eq(0)] = 1
            step_size.mul_(sign).clamp_(size_min, size_max)
            g = g.clone()
            g[sign.eq(eta_minus)] = 0
            p.addcmul_(g.sign(), step_size, value=-1)
            prev.copy_(g)
