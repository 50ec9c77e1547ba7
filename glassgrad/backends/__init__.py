"""``glassgrad.backends``: PyTorch's backend switches, accepted so that scripts which set them port.

glassgrad has one backend (NumPy on the CPU), so the flags change nothing: ``cudnn`` and ``mps``
report unavailable; ``cudnn.deterministic``/``cudnn.benchmark`` and the TF32 switches can be set
and read back. glassgrad's results are deterministic for a given seed either way.

>>> import glassgrad as gg
>>> gg.backends.cudnn.deterministic = True
>>> gg.backends.mps.is_available()
False
"""

from __future__ import annotations

import sys
from types import ModuleType, SimpleNamespace
from typing import Any

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp", "cpu"]


def _no() -> bool:
    return False


def _yes() -> bool:
    return True


def _module(name: str, **attrs: Any) -> ModuleType:
    """A real submodule, so that ``import torch.backends.cudnn as cudnn`` ports as well as
    attribute access; registered in ``sys.modules`` under its dotted name."""
    mod = ModuleType(f"{__name__}.{name}")
    mod.__dict__.update(attrs)
    sys.modules[mod.__name__] = mod
    return mod


cudnn = _module(
    "cudnn",
    enabled=True,
    deterministic=False,
    benchmark=False,
    allow_tf32=True,
    is_available=_no,
    version=lambda: None,
)
mps = _module("mps", is_available=_no, is_built=_no)
cuda = _module(
    "cuda",
    is_built=_no,
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
)
mkldnn = _module("mkldnn", enabled=True, is_available=_no)
openmp = _module("openmp", is_available=_yes)


def _cpu_capability() -> str:
    """PyTorch's ATen vector ISA; glassgrad's kernels are NumPy's, so "DEFAULT" (the value
    PyTorch gives without a vectorized build). torchvision's v2 ``resize`` reads it to pick
    its native uint8 path (port round 37)."""
    return "DEFAULT"


cpu = _module("cpu", get_cpu_capability=_cpu_capability)

# torch.backends.cuda's scaled-dot-product-attention switches: the same table that
# glassgrad.nn.attention.sdpa_kernel sets (nn/functional/sdpa_backend.py; port round 5)
from glassgrad.nn.functional import sdpa_backend as _sdpa  # noqa: E402

# sdp_kernel: the deprecated context manager over those switches (gpt-fast's generate.py; round 32)
_SDPA_NAMES = (*_sdpa.SWITCHES, "sdp_kernel")

for _name in _SDPA_NAMES:
    setattr(cuda, _name, getattr(_sdpa, _name))
