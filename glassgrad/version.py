"""``torch.version``: the build facts PyTorch code reads, for a CPU-only library.

``torch.version.cuda`` / ``hip`` / ``xpu`` are ``None`` on PyTorch's CPU build, and code branches on
that (``torch.version.cuda.replace(...)`` fails there with ``AttributeError`` on ``None``, as here)."""

from __future__ import annotations

from glassgrad import __version__

cuda: str | None = None
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
git_version = "unknown"

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]
