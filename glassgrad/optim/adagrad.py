"""``Adagrad``: per-coordinate step sizes that shrink with the sum of past squared gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half
from glassgrad.optim.half_steps import adagrad_half, half_step_ok
from glassgrad.optim.optimizer import Optimizer, state_like
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step, number_lr
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of, scalar_state
from glassgrad.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For each parameter θ with gradient g, one ``step()`` does (s starts at
    ``initial_accumulator_value``)::

        t ← t + 1
        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0          (λ = weight_decay)
        γₜ ← γ / (1 + (t − 1) η)                                  (γ = lr, η = lr_decay)
        s ← s + g²                              sum of squared gradients, never forgets
        θ ← θ − γₜ g / (√s + ε)

    Coordinates with large past gradients take small steps, rare ones large steps; since s only
    grows, the steps shrink for good (RMSprop and Adam replace the sum by a running mean).
    State: ``step`` (a 0-d tensor) and ``sum`` (s), created in the constructor from the
    constructor's ``initial_accumulator_value``, as PyTorch does (a group's own value is ignored,
    as in PyTorch; a parameter of a group added later gets its state at its first step).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        lr_decay: η, decays the learning rate as γ / (1 + (t − 1) η).
        weight_decay: λ, the L2 penalty coefficient.
        initial_accumulator_value: the starting value of s.
        eps: ε, added to the denominator.
        foreach: accepted for PyTorch compatibility; ignored.
        fused: float16 parameters step in float32, rounded once, as PyTorch's fused kernel.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("sum",)
    complex_params = True  # stepped through real views, as PyTorch's view_as_real
    sparse_grads = "dense"  # a sparse .grad (Embedding(sparse=True)) steps as its dense form: sparse_grads.py

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")  # PyTorch's words
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> None:
        """``p``'s state as PyTorch's constructor makes it: ``step`` 0, ``sum`` filled with the
        constructor's ``initial_accumulator_value`` (laid out as ``p``)."""
        init = self.defaults["initial_accumulator_value"]
        # a complex θ's sum is its real view's: both parts start at the value (init + init·i)
        fill = array_module(p._data).full_like(
            p._data, complex(init, init) if p._data.dtype.kind == "c" else init
        )
        self.state[p].update(step=scalar_state(0.0), sum=state_like(p, fill))

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, lr_decay, eps, wd = lr_of(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]
            fused = group.get("fused")
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self.state[p]
                if not state:
                    self._init_state(p)
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): a sum per part
                theta, g = real_view(p._data), real_view(g)
                s = real_view(state["sum"]._data)
                lr_t, eps_t, wd_t = float(lr / (1 + (t - 1) * lr_decay)), eps, wd
                # float16: PyTorch's single-tensor ops, each rounded once (half_steps.py)
                if theta.dtype is HALF and half_step_ok(group, theta, g, s):
                    adagrad_half(theta, axpy_half(g, theta, wd) if wd else g, s, lr_t, eps)
                    continue
                halves = (theta, s) if fused and theta.dtype is HALF else None
                if halves is not None:
                    # PyTorch's fused kernel reads float16 into float32 and rounds each result once,
                    # with its step size, eps and decay taken as float16 first (its kernel's scalar_t)
                    theta, g, s = theta.astype(np.float32), g.astype(np.float32), s.astype(np.float32)
                    lr_t, eps_t, wd_t = (float(np.float16(x)) for x in (lr_t, eps, wd))
                g = decay_array(theta, g, lr, wd_t, False)  # g ← g + λ θ
                s += g * g
                theta -= lr_t * (g / (xp.sqrt(s) + eps_t))
                if halves is not None:
                    halves[0][...], halves[1][...] = theta, s
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_adagrad`` there: Tensor
        ops with grad mode on (``std`` a new tensor, not ``sum``'s square root changed in place)."""
        lr, lr_decay, eps = number_lr(group["lr"], "addcdiv_", "'value'"), group["lr_decay"], group["eps"]
        for p, g in differentiable_grads("Adagrad", group):
            if not self.state[p]:
                self._init_state(p)
            state = self.state[p]
            t = bump_step(state)
            state["sum"].addcmul_(g, g, value=1)
            p.addcdiv_(g, state["sum"].sqrt() + eps, value=-float(lr / (1 + (t - 1) * lr_decay)))
