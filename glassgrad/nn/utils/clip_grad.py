"""``torch.nn.utils.clip_grad``: the module path of the gradient-clipping functions (defined in
``glassgrad.nn.utils``), which programs import by it; PyTorch names the two helpers there with a
leading underscore."""

from __future__ import annotations

from glassgrad.nn.utils import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from glassgrad.nn.utils import clip_grads_with_norm_ as _clip_grads_with_norm_  # noqa: F401
from glassgrad.nn.utils import get_total_norm as _get_total_norm  # noqa: F401

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]
