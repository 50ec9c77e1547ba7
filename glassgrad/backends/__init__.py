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

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp"]


def _no() -> bool:
    return False


def _yes() -> bool:
    return True


cudnn = SimpleNamespace(
    enabled=True,
    deterministic=False,
    benchmark=False,
    allow_tf32=True,
    is_available=_no,
    version=lambda: None,
)
mps = SimpleNamespace(is_available=_no, is_built=_no)
cuda = SimpleNamespace(
    is_built=_no,
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
)
mkldnn = SimpleNamespace(enabled=True, is_available=_no)
openmp = SimpleNamespace(is_available=_yes)
