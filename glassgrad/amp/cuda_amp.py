"""``glassgrad.cuda.amp`` (PyTorch's deprecated ``torch.cuda.amp``): ``GradScaler()`` and
``autocast()`` warn ``FutureWarning`` as PyTorch does, then, there being no CUDA, warn again and
disable themselves: the scaler passes everything through and the region does nothing."""

from __future__ import annotations

from glassgrad.amp._deprecated import make_autocast, make_custom, make_grad_scaler

__all__ = ["amp_definitely_not_available", "autocast", "custom_bwd", "custom_fwd", "GradScaler"]

autocast = make_autocast("cuda")
GradScaler = make_grad_scaler("cuda")
custom_fwd, custom_bwd = make_custom("cuda")


def amp_definitely_not_available() -> bool:
    """True: glassgrad has no CUDA."""
    from glassgrad import cuda

    return not cuda.is_available()
