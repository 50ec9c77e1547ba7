"""Real views of complex parameters for the optimizers that step them as PyTorch does.

PyTorch's Adam-family optimizers run their update on ``view_as_real(p)`` (and the same view of the
gradient and of each state tensor): a complex parameter is two real coordinates per element, each
with its own moment estimates. These helpers give that view of a NumPy array without a copy, so an
update written for real arrays, applied in place, changes the complex parameter and its state.
"""

from __future__ import annotations

from typing import Any

__all__ = ["real_view", "decay_array"]


def real_view(a: Any) -> Any:
    """``a`` itself when real; for a complex array of shape ``(...)`` a float view ``(..., 2)``
    (real, imaginary) sharing its memory, as ``torch.view_as_real``."""
    if a.dtype.kind != "c":
        return a
    # the new unit axis makes the last axis contiguous whatever a's strides, so the view is legal
    return a[..., None].view(a.real.dtype)


def decay_array(theta: Any, g: Any, lr: float, wd: float, decoupled: bool) -> Any:
    """Weight decay λ = ``wd`` on the array ``theta``: ``θ ← θ (1 − γ λ)`` in place if ``decoupled``,
    else returns ``g + λ θ`` (a new array: ``g`` may be the parameter's own ``.grad``)."""
    if wd == 0:
        return g
    if hasattr(wd, "_data"):  # a one-element Tensor weight_decay: its value, as PyTorch's alpha=
        wd = float(wd.detach())
    if decoupled:
        theta *= float(1 - lr * wd)  # (a tensor lr: in its dtype, see scalars.lr_of)
        return g
    return g + wd * theta
