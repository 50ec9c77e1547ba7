"""``Muon``: momentum whose update is orthogonalised by a Newton–Schulz iteration, for 2-D weights,
as ``torch.optim.Muon``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.optim.adam import lerp_
from glassgrad.optim.optimizer import Optimizer, state_like
from glassgrad.optim.scalars import lr_of

__all__ = ["Muon", "zeropower_via_newtonschulz"]

# Keller Jordan's quintic coefficients and step count, PyTorch's defaults
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def zeropower_via_newtonschulz(g: Any, coefficients: tuple, steps: int, eps: float) -> Any:
    """About the orthogonal factor U Vᵀ of ``g = U S Vᵀ`` ``(A, B)``: ``steps`` rounds of the quintic
    X ← a X + (b G + c G²) X with G = X Xᵀ, from X = g / ‖g‖ (X taken wide, B ≥ A, so that G is the
    small Gram matrix). The coefficients push every singular value towards 1 fast rather than
    exactly: they end up roughly in [0.5, 1.5], which is what Muon wants. PyTorch runs this in
    bfloat16; glassgrad, which has no bfloat16, in the gradient's own dtype."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if g.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    xp = array_module(g)
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g
    x = x / max(float(xp.linalg.norm(x)), eps)
    for _ in range(steps):
        gram = x @ x.T  # (A, A)
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def adjusted_lr(lr: float, how: str | None, shape: tuple) -> float:
    """The step size for a ``shape = (A, B)`` weight: √max(1, A / B) × lr ("original", Keller
    Jordan's, the default) or 0.2 √max(A, B) × lr ("match_rms_adamw", Moonshot's: an update of
    AdamW's RMS, so AdamW's lr and weight decay carry over)."""
    rows, cols = shape[:2]
    if how is None or how == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if how == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    r"""Muon (Keller Jordan, 2024), as ``torch.optim.Muon``: for the 2-D weights of hidden layers.

    For each parameter θ ``(A, B)`` with gradient g, one ``step()`` does (B starts at zero)::

        B ← μ B + (1 − μ) g                         (momentum as an average: lerp)
        U ← (1 − μ) g + μ B   if nesterov  else  B
        O ← NS(U)                                   (≈ the orthogonal factor of U, see below)
        θ ← θ (1 − γ λ)                             (decoupled weight decay)
        θ ← θ − γ' O                                (γ' = γ √max(1, A/B), or 0.2 γ √max(A, B))

    Orthogonalising gives every direction of the update the same size, whatever the gradient's
    spectrum: ``zeropower_via_newtonschulz`` does it with five rounds of a quintic polynomial
    instead of an SVD. Biases, embeddings and other non-2-D parameters belong to another optimizer
    (AdamW). PyTorch runs the iteration in bfloat16, glassgrad in the parameter's dtype, so updates
    agree to bfloat16's precision (about 3 digits), not to the last bit. State: ``momentum_buffer``.

    Args:
        params: 2-D Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        weight_decay: λ, decoupled (AdamW's kind).
        momentum: μ.
        nesterov: use the Nesterov look-ahead U.
        ns_coefficients: (a, b, c) of the Newton–Schulz quintic.
        eps: floor of ‖U‖ before normalising.
        ns_steps: rounds of the iteration (fewer than 100).
        adjust_lr_fn: None or "original" (γ √max(1, A/B)), or "match_rms_adamw" (0.2 γ √max(A, B)).

    Shape:
        Each parameter and its gradient ``(A, B)``; the momentum buffer too.
    """

    _param_shaped_state = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=ns_coefficients,
            eps=eps,
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "weight_decay", "momentum")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, wd, mu = lr_of(group["lr"]), group["weight_decay"], group["momentum"]
            for p, g in self._grads(group):
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = state_like(p, array_module(g).zeros_like(g))
                buf, scratch = state["momentum_buffer"]._data, array_module(g).empty_like(g)
                lerp_(buf, g, 1 - mu, scratch)  # B ← B + (1 − μ)(g − B), rounded as PyTorch's lerp
                update = buf
                if group["nesterov"]:
                    update = g.copy()
                    lerp_(update, buf, mu, scratch)  # U ← g + μ (B − g)
                ortho = zeropower_via_newtonschulz(
                    update, group["ns_coefficients"], group["ns_steps"], group["eps"]
                )
                p._data *= float(1 - lr * wd)
                p._data -= float(adjusted_lr(lr, group["adjust_lr_fn"], p.shape)) * ortho.astype(
                    p._data.dtype
                )
        return loss
