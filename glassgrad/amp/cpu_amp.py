"""PyTorch's deprecated ``torch.cpu.amp`` (to be wired as ``glassgrad.cpu.amp``): ``GradScaler()``
and ``autocast()`` warn ``FutureWarning`` as PyTorch does, then are ``amp.GradScaler("cpu")`` and
``amp.autocast("cpu")`` (bfloat16 by default; glassgrad casts nothing, see ``autocast_mode``)."""

from __future__ import annotations

from glassgrad.amp._deprecated import make_autocast, make_grad_scaler

__all__ = ["autocast", "GradScaler"]

autocast = make_autocast("cpu")
GradScaler = make_grad_scaler("cpu")
