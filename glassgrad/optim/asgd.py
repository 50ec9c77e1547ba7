"""``ASGD``: SGD with a decaying step and a running (Polyak-Ruppert) average of the iterates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.ops.half_precision import HALF, axpy_half
from glassgrad.optim.half_steps import asgd_half, half_step_ok
from glassgrad.optim.optimizer import Optimizer, scalar_state
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), as ``torch.optim.ASGD``.

    For each parameter θ with gradient g, one ``step()`` does (η starts at γ, μ at 1)::

        t ← t + 1
        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0           (λ = weight_decay)
        θ ← θ (1 − ζ η) − η g                   an SGD step with extra decay ζ = lambd
        x̄ ← x̄ + μ (θ − x̄)                       the running average of θ (x̄ ← θ while μ = 1)
        η ← γ / (1 + ζ γ t)^α                   the next step size
        μ ← 1 / max(1, t − t₀)                  averaging starts after t₀ steps

    The parameters follow the plain (decaying-step) SGD iterates; the average x̄, which converges
    faster on convex problems, is kept in ``state[p]["ax"]`` for the user to copy into the model
    at the end (as in PyTorch, the optimizer never does it). State: ``step`` (a float), ``eta``
    (η) and ``mu`` (μ) (0-d tensors of the default dtype, as in PyTorch, so rounded alike),
    ``ax`` (x̄).

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: γ, the first step size.
        lambd: ζ, the decay term (also sets how fast η decays).
        alpha: α, the power of η's decay.
        t0: t₀, the step at which averaging starts.
        weight_decay: λ, the L2 penalty coefficient.
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; ``ax`` does too.
    """

    _param_shaped_state = ("ax",)
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "weight_decay")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, lambd, alpha, t0, wd = (group[k] for k in ("lr", "lambd", "alpha", "t0", "weight_decay"))
            lr = lr_of(lr)  # a tensor lr: eta is computed in its dtype, as PyTorch's
            for p, g in self._grads(group):
                state = self._state_of(p, "ax", eta=lr, mu=1.0)
                t = bump_step(state)
                eta, mu = float(state["eta"]._data), float(state["mu"]._data)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's)
                theta, g = real_view(p._data), real_view(g)
                ax = real_view(state["ax"]._data)
                # float16: PyTorch's single-tensor ops, each rounded once (half_steps.py)
                if theta.dtype is HALF and half_step_ok(group, theta, g, ax):
                    asgd_half(theta, axpy_half(g, theta, wd) if wd else g, ax, lambd, eta, mu)
                    _next_eta_mu(state, lr, lambd, alpha, t0, t)
                    continue
                g = decay_array(theta, g, lr, wd, False)  # g ← g + λ θ
                theta *= 1 - lambd * eta
                theta -= eta * g
                if mu != 1:
                    ax += (theta - ax) * mu
                else:
                    ax[...] = theta
                _next_eta_mu(state, lr, lambd, alpha, t0, t)
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_asgd`` there: Tensor ops
        with grad mode on, η and μ read as numbers (no path through them)."""
        lr, lambd, alpha, t0 = lr_of(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        for p, g in differentiable_grads("ASGD", group):
            state = self._state_of(p, "ax", eta=lr, mu=1.0)
            t = bump_step(state)
            eta, mu, ax = float(state["eta"]._data), state["mu"], state["ax"]
            p.mul_(1 - lambd * eta)
            p.add_(g, alpha=-eta)
            if float(mu._data) != 1:
                ax.add_(p.sub(ax).mul_(mu))
            else:
                ax.copy_(p)
            _next_eta_mu(state, lr, lambd, alpha, t0, t)


def _next_eta_mu(state: dict[str, Any], lr: Any, lambd: float, alpha: float, t0: float, t: float) -> None:
    """η ← γ / (1 + ζ γ t)^α and μ ← 1 / max(1, t − t₀), in place in ``state``'s 0-d tensors. PyTorch
    makes a tensor of the new values (a float rounds to the default dtype, a tensor lr's eta keeps
    lr's), then stores them in the state's dtype (which a loaded state_dict has changed to the
    parameter's)."""
    base = 1 + lambd * lr * t
    # (PyTorch's pow of a 0-d float32 tensor rounds the double power; NumPy's powf may not)
    eta = lr / (type(base)(float(base) ** alpha) if isinstance(base, np.generic) else base**alpha)
    state["eta"]._data[...] = eta if isinstance(eta, np.generic) else scalar_state(eta)._data
    state["mu"]._data[...] = scalar_state(1 / max(1, t - t0))._data
