"""Ready-made fuzzers for common operator shapes (``torch.utils.benchmark.op_fuzzers``)."""

from __future__ import annotations

from glassgrad.utils.benchmark.op_fuzzers import binary

__all__ = ["binary"]
