"""The constraints of ``torch.distributions.constraints`` that act over dims: ``independent``
(a base constraint over whole events), ``cat`` and ``stack`` (one constraint per slice or index
along a dim). Re-exported by ``distributions.constraints``."""

from __future__ import annotations

from typing import Any

import glassgrad as gg
from glassgrad.distributions.constraints import Constraint, _t
from glassgrad.tensor import Tensor

__all__ = ["cat", "stack"]


class _IndependentConstraint(Constraint):
    """``base_constraint`` on every entry of the last ``reinterpreted_batch_ndims`` dims, checked as
    one event (a Dirichlet's concentration: positive in every coordinate of the vector)."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"constraints.independent: expected base_constraint to be a Constraint, got "
                f"{type(base_constraint).__name__}"
            )
        if isinstance(reinterpreted_batch_ndims, bool) or not isinstance(reinterpreted_batch_ndims, int):
            raise TypeError(
                f"constraints.independent: expected reinterpreted_batch_ndims to be an int, got "
                f"{type(reinterpreted_batch_ndims).__name__}"
            )
        if reinterpreted_batch_ndims < 0:
            raise ValueError(
                f"constraints.independent: expected reinterpreted_batch_ndims >= 0, got {reinterpreted_batch_ndims}"
            )
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value: Any) -> Tensor:
        result = _t(self.base_constraint.check(value))
        n = self.reinterpreted_batch_ndims
        if result.dim() < n:
            raise ValueError(
                f"constraints.independent: expected value.dim() >= {self.event_dim}, got shape "
                f"{tuple(_t(value).shape)}"
            )
        return result.reshape(tuple(result.shape[: result.dim() - n]) + (-1,)).all(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


def _check_dim(op: str, dim: int, value: Tensor) -> None:
    if not -value.dim() <= dim < value.dim():
        raise IndexError(
            f"constraints.{op}: dim {dim} is out of range for a value of shape {tuple(value.shape)}"
        )


class _Cat(Constraint):
    """Constraints ``cseq`` on consecutive slices of ``lengths`` along ``dim`` (as ``torch.cat``)."""

    def __init__(self, cseq: Any, dim: int = 0, lengths: Any = None) -> None:
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("constraints.cat: expected every entry of cseq to be a Constraint")
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"constraints.cat: expected {len(self.cseq)} lengths, got {len(self.lengths)}")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        _check_dim("cat", self.dim, v)
        checks, start = [], 0
        for c, length in zip(self.cseq, self.lengths):
            checks.append(_t(c.check(v.narrow(self.dim, start, length))))
            start = start + length
        return gg.cat(checks, self.dim)


class _Stack(Constraint):
    """Constraint ``cseq[i]`` on index i along ``dim`` (as ``torch.stack``)."""

    def __init__(self, cseq: Any, dim: int = 0) -> None:
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("constraints.stack: expected every entry of cseq to be a Constraint")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        if self.dim + dim < 0:
            dim += 1
        return dim

    def check(self, value: Any) -> Tensor:
        v = _t(value)
        _check_dim("stack", self.dim, v)
        parts = [v.select(self.dim, i) for i in range(v.size(self.dim))]
        return gg.stack([_t(c.check(p)) for p, c in zip(parts, self.cseq)], self.dim)


cat = _Cat
stack = _Stack
