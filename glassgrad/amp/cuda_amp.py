"""``glassgrad.cuda.amp`` (PyTorch's deprecated ``torch.cuda.amp``): ``GradScaler()`` and
``autocast()`` warn ``FutureWarning`` as PyTorch does, then, there being no CUDA, warn again and
disable themselves: the scaler passes everything through and the region does nothing."""

from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec

from glassgrad.amp._deprecated import make_autocast, make_custom, make_grad_scaler
from glassgrad.amp.grad_scaler import OptState

__all__ = ["amp_definitely_not_available", "autocast", "custom_bwd", "custom_fwd", "GradScaler"]

autocast = make_autocast("cuda")
GradScaler = make_grad_scaler("cuda")
custom_fwd, custom_bwd = make_custom("cuda")


# ``torch.cuda.amp.grad_scaler``, PyTorch's deprecated module, with its two names (port round 24:
# labml_nn's adam_fp16 does ``from torch.cuda.amp import grad_scaler`` and subclasses its GradScaler)
grad_scaler = types.ModuleType(__name__ + ".grad_scaler", "torch.cuda.amp.grad_scaler: GradScaler, OptState.")
grad_scaler.GradScaler, grad_scaler.OptState = GradScaler, OptState
grad_scaler.__spec__ = ModuleSpec("glassgrad.cuda.amp.grad_scaler", None)  # find_spec finds it
sys.modules["glassgrad.cuda.amp.grad_scaler"] = grad_scaler
# A package, as torch.cuda.amp is, so its `grad_scaler` submodule imports by its dotted path.
__path__: list[str] = []


def amp_definitely_not_available() -> bool:
    """True: glassgrad has no CUDA."""
    from glassgrad import cuda

    return not cuda.is_available()
