"""``nn.LinearCrossEntropyOptions``: how ``F.linear_cross_entropy`` cuts the batch into chunks.

PyTorch's fields, defaults, validation and call-time resolution (``_adjust``): ``"auto"`` picks
``("accurate", "aspect_ratio")`` for float16 on the CPU and ``("compact", "aspect_ratio:2")``
otherwise; ``"aspect_ratio[:k]"`` sizes a chunk so that its ``(rows, classes)`` logits take about
the memory of the ``(N, in_features)`` input, divided by ``k``. In glassgrad the chunk size is
what matters: each chunk's logits are made in forward, dropped, and made again in backward.
``acc_policy`` is validated and kept; glassgrad computes in ``acc_dtype`` (float32 for float16
input under ``"auto"``, else the input's dtype) whatever the policy.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from glassgrad import dtypes

__all__ = ["LinearCrossEntropyOptions"]

_POLICIES = ("auto", "accurate", "balanced", "compact")


def _auto(dtype: Any) -> tuple[str, str]:
    """PyTorch's CPU picks: float16 input gets the accurate policy, anything else the fallback."""
    return ("accurate", "aspect_ratio") if dtype == dtypes.float16 else ("compact", "aspect_ratio:2")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Chunking of ``F.linear_cross_entropy``: the batch in chunks of ``batch_chunk_size`` rows (or
    a size from ``chunking_method``), so that the ``(N, C)`` logits are never whole in memory.

    >>> LinearCrossEntropyOptions(batch_chunk_size=64).batch_chunk_size
    64
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = str(self.chunking_method).partition(":")
            if not (name == "aspect_ratio" and (not sep or (factor.isdigit() and int(factor) > 0))):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and not isinstance(size, bool) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        allowed = (dtypes.float16, dtypes.float32, dtypes.float64)
        if self.acc_dtype is not None and self.acc_dtype not in allowed:
            raise ValueError(
                f"acc_dtype must be one of None, float16, float32, float64, got {self.acc_dtype!r}"
            )

    @staticmethod
    def _chunk_rows(num_batches: int, in_features: int, num_classes: int, method: str) -> int:
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        per_input = -(-num_classes // max(in_features, 1))  # logits row widths per input row width
        want = -(-num_batches // max(per_input, 1))
        rows = 1 << max(want - 1, 0).bit_length()  # the next power of two >= want
        return min(rows // factor, num_batches)

    def _adjust(
        self, num_batches: int, in_features: int, num_classes: int, dtype: Any, device: Any = None
    ) -> Any:
        """A copy with every ``"auto"`` and ``None`` resolved for this call (PyTorch's rules)."""
        policy, method = self.acc_policy, self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None  # an explicit size wins over the automatic choice
        auto_policy, auto_method = _auto(dtype)
        policy = auto_policy if policy == "auto" else policy
        method = auto_method if method == "auto" else method
        rows = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size, num_batches)
        if method is not None:
            rows = self._chunk_rows(num_batches, in_features, num_classes, method)
            if self.batch_chunk_size is not None and self.batch_chunk_size != rows:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method ('{method}') give "
                    f"different chunk sizes ({self.batch_chunk_size} vs {rows}); pass only one."
                )
        acc = self.acc_dtype
        if acc is None:
            acc = dtypes.float32 if self.acc_policy == "auto" and dtype == dtypes.float16 else dtype
        return dataclasses.replace(
            self, acc_policy=policy, chunking_method=method, batch_chunk_size=max(1, rows), acc_dtype=acc
        )
