"""``SGD``: stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.optim.optimizer import Optimizer, apply_weight_decay, refuse_differentiable, state_like

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    For each parameter θ with gradient g, one ``step()`` does::

        g ← −g                                 if maximize
        g ← g + λ θ                            if λ ≠ 0         (λ = weight_decay)
        if μ ≠ 0:                                               (μ = momentum, τ = dampening)
            b ← g                              at the first step
            b ← μ b + (1 − τ) g                at later steps
            g ← g + μ b  if nesterov  else  b
        θ ← θ − γ g                                             (γ = lr)

    Weight decay adds λθ, the gradient of the L2 penalty (λ/2)‖θ‖², so it is the same as adding
    that penalty to the loss. The momentum buffer b starts as the first gradient (not as zero),
    and ``state[p]["momentum_buffer"]`` holds it.

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        momentum: momentum factor μ (0 = plain SGD).
        dampening: τ, how much of the new gradient the buffer leaves out.
        weight_decay: λ, the L2 penalty coefficient.
        nesterov: use Nesterov's look-ahead momentum (needs μ > 0 and τ = 0).
        maximize: ascend the objective instead of descending it.
        foreach: accepted for PyTorch compatibility; there is one NumPy implementation.
        differentiable: must be False (glassgrad does not differentiate through optimizer steps).
        fused: accepted for PyTorch compatibility; ignored.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.

    Example:
        >>> import glassgrad as gg
        >>> from glassgrad.optim import SGD
        >>> w = gg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> w.grad = gg.tensor([0.5, -1.0])
        >>> opt.step()
        >>> w
        tensor([ 0.9500, -1.9000], requires_grad=True)
    """

    _param_shaped_state = ("momentum_buffer",)
    sparse_grads = "dense"  # a sparse .grad (Embedding(sparse=True)) steps as its dense form: sparse_grads.py
    complex_params = True  # every step is linear in g and θ: right for complex ones as written

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        refuse_differentiable("SGD", differentiable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and not (group["momentum"] > 0 and group["dampening"] == 0):
            raise ValueError(
                "SGD: expected momentum > 0 and dampening == 0 with nesterov=True, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
            # a parameter listed twice (PyTorch warns) starts from a fresh buffer at both entries in the
            # step that creates it, as PyTorch does (it reads every buffer before updating any)
            made: set[int] = set()
            for p, g in self._grads(group):
                if group["maximize"]:
                    g = -g
                g = apply_weight_decay(p, g, lr, wd)  # g ← g + λ θ
                if mu != 0:
                    state = self.state[p]
                    if (
                        "momentum_buffer" not in state or id(p) in made
                    ):  # b ← g (a copy, an array even for 0-d)
                        state["momentum_buffer"] = state_like(p, array_module(g).array(g))
                        made.add(id(p))
                    else:  # b ← μ b + (1 − τ) g, in place
                        b = state["momentum_buffer"]._data
                        b *= mu
                        b += (1 - tau) * g
                    b = state["momentum_buffer"]._data
                    g = g + mu * b if group["nesterov"] else b
                p._data -= lr * g
        return loss
