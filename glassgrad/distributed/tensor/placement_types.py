"""DTensor placements (PyTorch's ``torch.distributed.tensor.placement_types``): how a tensor is laid
out over one dimension of a ``DeviceMesh``. ``Shard(dim)`` splits it along ``dim``, ``Replicate()``
gives every process the whole of it, ``Partial(op)`` gives every process a term of a pending
reduction. In glassgrad's world of one process the one shard, the one replica and the one term
are each the whole tensor, so a placement changes no value; it is kept, compared and printed as
PyTorch's.

>>> Shard(0), Replicate(), Partial()
(Shard(dim=0), Replicate(), Partial(sum))
>>> str(Shard(1)), Shard(0) == Shard(0), Shard(0).is_shard(1)
('S(1)', True, False)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Placement", "Shard", "Replicate", "Partial", "_StridedShard"]


class Placement:
    """The base of the placements: what a ``DTensor`` holds over one mesh dimension."""

    __slots__ = ()

    def is_shard(self, dim: int | None = None) -> bool:
        return False

    def is_replicate(self) -> bool:
        return False

    def is_partial(self, reduce_op: str | None = None) -> bool:
        return False

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__}: placements are immutable (as PyTorch's), cannot set {name!r}"
        )


class Shard(Placement):
    """Split along tensor dimension ``dim`` over a mesh dimension (one piece per process)."""

    __slots__ = ("dim",)

    def __init__(self, dim: int) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Shard: expected an int tensor dimension, got {type(dim).__name__} {dim!r}")
        object.__setattr__(self, "dim", dim)

    def is_shard(self, dim: int | None = None) -> bool:
        return dim is None or dim == self.dim

    def __eq__(self, other: object) -> bool:
        return type(other) is Shard and other.dim == self.dim

    def __hash__(self) -> int:
        return hash(("Shard", self.dim))

    def __repr__(self) -> str:
        return f"Shard(dim={self.dim})"

    def __str__(self) -> str:
        return f"S({self.dim})"

    def __reduce__(self) -> tuple:
        return (Shard, (self.dim,))


class Replicate(Placement):
    """The whole tensor on every process of a mesh dimension."""

    __slots__ = ()

    def is_replicate(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return type(other) is Replicate

    def __hash__(self) -> int:
        return hash("Replicate")

    def __repr__(self) -> str:
        return "Replicate()"

    def __str__(self) -> str:
        return "R"

    def __reduce__(self) -> tuple:
        return (Replicate, ())


class Partial(Placement):
    """One term per process of a reduction (``reduce_op``: "sum", "avg", "max", "min") not yet done."""

    __slots__ = ("reduce_op",)

    def __init__(self, reduce_op: str = "sum") -> None:
        if not isinstance(reduce_op, str):
            raise TypeError(
                f"Partial: expected a reduce_op name such as 'sum', got {type(reduce_op).__name__}"
            )
        object.__setattr__(self, "reduce_op", reduce_op)

    def is_partial(self, reduce_op: str | None = None) -> bool:
        return reduce_op is None or reduce_op == self.reduce_op

    def __eq__(self, other: object) -> bool:
        return type(other) is Partial and other.reduce_op == self.reduce_op

    def __hash__(self) -> int:
        return hash(("Partial", self.reduce_op))

    def __repr__(self) -> str:
        return f"Partial({self.reduce_op})"

    def __str__(self) -> str:
        return f"P({self.reduce_op})"

    def __reduce__(self) -> tuple:
        return (Partial, (self.reduce_op,))


class _StridedShard(Placement):
    """PyTorch's private strided shard (``dim`` split in ``split_factor`` interleaved pieces), which
    FSDP2 plus tensor parallelism make and transformers names in ``isinstance`` checks. As PyTorch's,
    it is not a ``Shard`` (``is_shard()`` is False); over one process it changes no value either."""

    __slots__ = ("dim", "split_factor")

    def __init__(self, dim: int, *, split_factor: int = 1, sf: int | None = None) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(
                f"_StridedShard: expected an int tensor dimension, got {type(dim).__name__} {dim!r}"
            )
        factor = split_factor if sf is None else sf
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"_StridedShard: expected split_factor a positive int, got {factor!r}")
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "split_factor", factor)

    def __eq__(self, other: object) -> bool:
        return type(other) is _StridedShard and (other.dim, other.split_factor) == (
            self.dim,
            self.split_factor,
        )

    def __hash__(self) -> int:
        return hash(("_StridedShard", self.dim, self.split_factor))

    def __repr__(self) -> str:
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"

    def __str__(self) -> str:
        return f"_S({self.dim}, {self.split_factor})"

    def __reduce__(self) -> tuple:
        return (_rebuild_strided, (self.dim, self.split_factor))


def _rebuild_strided(dim: int, split_factor: int) -> _StridedShard:
    return _StridedShard(dim, split_factor=split_factor)
