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
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType, SimpleNamespace
from typing import Any

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp", "cpu", "mha", "opt_einsum"]

# PyTorch's global-flag freeze: after disable_global_flags() the cudnn switches may only change
# inside cudnn.flags(...). The state lives in this dict, not in a module global: PyTorch's functions
# read a globals dict that is not the ``torch.backends`` module object's, so a program's
# ``torch.backends.__allow_nonbracketed_mutation_flag = True`` (MONAI's set_determinism) unfreezes
# nothing there, and nothing here either (port round 38).
_FLAGS = {"mutable": True}


def disable_global_flags() -> None:
    """Forbid setting ``torch.backends.cudnn`` switches outside ``cudnn.flags(...)``."""
    _FLAGS["mutable"] = False


def flags_frozen() -> bool:
    """Whether ``disable_global_flags()`` is in force (False until it is called)."""
    return not _FLAGS["mutable"]


@contextmanager
def _allow_mutation() -> Iterator[None]:
    """PyTorch's ``__allow_nonbracketed_mutation``: the switches are settable inside."""
    old = _FLAGS["mutable"]
    _FLAGS["mutable"] = True
    try:
        yield
    finally:
        _FLAGS["mutable"] = old


def _no() -> bool:
    return False


def _yes() -> bool:
    return True


def _module(name: str, **attrs: Any) -> ModuleType:
    """A real submodule, so that ``import torch.backends.cudnn as cudnn`` ports as well as
    attribute access; registered in ``sys.modules`` under its dotted name, with a module spec,
    so that ``importlib.util.find_spec`` finds it as PyTorch's (Lightning asks it; port round 44:
    a spec of None made it raise ValueError)."""
    mod = ModuleType(f"{__name__}.{name}")
    mod.__spec__ = ModuleSpec(mod.__name__, None)
    mod.__dict__.update(attrs)
    sys.modules[mod.__name__] = mod
    return mod


_CUDNN_FLAGS = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")


class _CudnnModule(ModuleType):
    """``torch.backends.cudnn``: its switches refuse a plain assignment while the global flags
    are frozen, as PyTorch's ``CudnnModule`` does."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CUDNN_FLAGS and flags_frozen():
            raise RuntimeError(
                f"not allowed to set {self.__name__} flags after disable_global_flags; "
                "please use flags() context manager instead"
            )
        super().__setattr__(name, value)


@contextmanager
def _cudnn_flags(
    enabled: bool = False,
    benchmark: bool = False,
    benchmark_limit: int = 10,
    deterministic: bool = False,
    allow_tf32: bool = True,
    fp32_precision: str = "none",
    depthwise_kernel: str = "auto",
) -> Iterator[None]:
    """``torch.backends.cudnn.flags(...)``: set the switches for the block, then restore them
    (accepted under frozen global flags, as PyTorch's)."""
    new = (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    with _allow_mutation():
        old = tuple(getattr(cudnn, name) for name in _CUDNN_FLAGS)
        for name, value in zip(_CUDNN_FLAGS, new, strict=True):
            setattr(cudnn, name, value)
    try:
        yield
    finally:
        with _allow_mutation():
            for name, value in zip(_CUDNN_FLAGS, old, strict=True):
                setattr(cudnn, name, value)


cudnn = _module(
    "cudnn",
    enabled=True,
    deterministic=False,
    benchmark=False,
    benchmark_limit=10,
    allow_tf32=True,
    is_available=_no,
    version=lambda: None,
    flags=_cudnn_flags,
)
cudnn.__class__ = _CudnnModule
mps = _module("mps", is_available=_no, is_built=_no)
cuda = _module(
    "cuda",
    is_built=_no,
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
)
_MKLDNN_FLAGS = ("enabled", "deterministic", "allow_tf32")


@contextmanager
def _mkldnn_flags(
    enabled: bool = False, deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none"
) -> Iterator[None]:
    """``torch.backends.mkldnn.flags(...)``: set the switches for the block, then restore them.
    PyTorch's tests run a conv with and without oneDNN this way; glassgrad has one kernel, so the
    switches are only kept and read back."""
    old = tuple(getattr(mkldnn, name) for name in _MKLDNN_FLAGS)
    for name, value in zip(_MKLDNN_FLAGS, (enabled, deterministic, allow_tf32), strict=True):
        setattr(mkldnn, name, value)
    try:
        yield
    finally:
        for name, value in zip(_MKLDNN_FLAGS, old, strict=True):
            setattr(mkldnn, name, value)


mkldnn = _module(
    "mkldnn", enabled=True, deterministic=False, allow_tf32=True, is_available=_no, flags=_mkldnn_flags
)
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

# torch.backends.opt_einsum: einsum's path-search switches (port round 56)
from glassgrad.backends import opt_einsum  # noqa: E402

# torch.backends.mha: whether MultiheadAttention and the Transformer encoder may take PyTorch's
# inference fast paths, whose results glassgrad reproduces (nn/transformer_fastpath.py)
from glassgrad.nn import transformer_fastpath as _fastpath  # noqa: E402

mha = _module(
    "mha",
    get_fastpath_enabled=_fastpath.get_fastpath_enabled,
    set_fastpath_enabled=_fastpath.set_fastpath_enabled,
)
