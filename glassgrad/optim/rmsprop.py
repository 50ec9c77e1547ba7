"""``RMSprop``: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half
from glassgrad.optim.adam import lerp_
from glassgrad.optim.half_steps import half_step_ok, rmsprop_half
from glassgrad.optim.optimizer import Optimizer, state_like
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, scalar_state
from glassgrad.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton, 2012), as ``torch.optim.RMSprop``.

    For each parameter θ with gradient g, one ``step()`` does (all state starts at zero)::

        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0         (λ = weight_decay)
        v ← α v + (1 − α) g²                    running mean of g²
        if centered:
            ḡ ← α ḡ + (1 − α) g                 running mean of g
            d ← √(v − ḡ²) + ε                   a running standard deviation of g
        else:
            d ← √v + ε                          a running root-mean-square of g
        if μ > 0:                               (μ = momentum)
            b ← μ b + g / d
            θ ← θ − γ b
        else:
            θ ← θ − γ g / d

    Note ε is added outside the square root (as in PyTorch; some texts put it inside).
    State: ``step`` (a float), ``square_avg`` (v), and ``momentum_buffer`` (b) / ``grad_avg`` (ḡ)
    when used.

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        alpha: α, the decay rate of the running averages.
        eps: ε, added to the denominator.
        weight_decay: λ, the L2 penalty coefficient.
        momentum: μ.
        centered: normalise by the variance of g instead of its second moment.
        capturable, foreach: accepted for PyTorch compatibility; ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf (real) parameters can be differentiated through, as PyTorch's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    _param_shaped_state = ("square_avg", "momentum_buffer", "grad_avg")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, alpha, eps, wd, mu = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
            lr = float(lr)  # (a one-element tensor lr, as PyTorch takes)
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state(p, group)
                bump_step(state)
                if group["maximize"]:
                    g = -g
                # a complex θ steps as its view_as_real pair (PyTorch's): moments per part, not of z²
                theta, g = real_view(p._data), real_view(g)
                v = real_view(state["square_avg"]._data)
                if theta.dtype is HALF:
                    # the buffers this step reads (a loaded state may hold others too)
                    g_avg = real_view(state["grad_avg"]._data) if group["centered"] else None
                    buf = real_view(state["momentum_buffer"]._data) if mu > 0 else None
                    if half_step_ok(group, theta, g, v, *(x for x in (g_avg, buf) if x is not None)):
                        # PyTorch's single-tensor ops, each rounded once (half_steps.py)
                        g = axpy_half(g, theta, wd) if wd else g
                        rmsprop_half(theta, g, v, g_avg, buf, alpha, eps, mu, lr)
                        continue
                g = decay_array(theta, g, lr, wd, False)  # g ← g + λ θ
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    g_avg = real_view(state["grad_avg"]._data)
                    lerp_(g_avg, g, 1 - alpha, xp.empty_like(g_avg))  # ḡ ← α ḡ + (1 − α) g, as PyTorch
                    d = xp.sqrt(v - g_avg * g_avg) + eps
                else:
                    d = xp.sqrt(v) + eps
                if mu > 0:
                    b = real_view(state["momentum_buffer"]._data)
                    b *= mu
                    b += g / d
                    theta -= lr * b
                else:
                    theta -= lr * (g / d)
        return loss

    def _state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``p``'s state, made at its first step in PyTorch's order: ``step``, ``square_avg``, then
        ``momentum_buffer`` (momentum > 0) and ``grad_avg`` (centered), zeros shaped like ``p``."""
        state = self.state[p]
        if not state:
            xp = array_module(p._data)
            state["step"] = scalar_state(0.0)
            state["square_avg"] = state_like(p, xp.zeros_like(p._data))
            if group["momentum"] > 0:
                state["momentum_buffer"] = state_like(p, xp.zeros_like(p._data))
            if group["centered"]:
                state["grad_avg"] = state_like(p, xp.zeros_like(p._data))
        return state

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_rmsprop``: Tensor ops
        with grad mode on, so the update of non-leaf (real) parameters is recorded."""
        lr, alpha, eps, mu = (group[k] for k in ("lr", "alpha", "eps", "momentum"))
        lr = float(lr.detach()) if isinstance(lr, Tensor) else lr  # PyTorch's alpha=-lr: no path to lr
        for p, grad in differentiable_grads("RMSprop", group):
            state = self._state(p, group)
            state["step"] += 1
            square_avg = state["square_avg"]
            square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
            if group["centered"]:
                grad_avg = state["grad_avg"]
                grad_avg.lerp_(grad, 1 - alpha)
                avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg = avg.add(eps)
            if mu > 0:
                buf = state["momentum_buffer"]
                buf.mul_(mu).addcdiv_(grad, avg)
                p.add_(buf, alpha=-lr)
            else:
                p.addcdiv_(grad, avg, value=-lr)
