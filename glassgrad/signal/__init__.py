"""``torch.signal``: signal-processing helpers under PyTorch's names; for now its one submodule,
:mod:`glassgrad.signal.windows` (SciPy-style window functions), an attribute after
``import glassgrad`` as ``torch.signal`` is after ``import torch``."""

from __future__ import annotations

from glassgrad.signal import windows

__all__ = ["windows"]
