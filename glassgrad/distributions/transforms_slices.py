"""``CatTransform`` and ``StackTransform``: transforms applied slice by slice along one dim
(``torch.distributions.transforms``' names); re-exported by ``distributions.transforms``."""

from __future__ import annotations

from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions.transforms import Transform, _sum_rightmost
from glassgrad.tensor import Tensor

__all__ = ["CatTransform", "StackTransform"]


class CatTransform(Transform):
    """Apply ``tseq[i]`` to the i-th slice (``lengths[i]`` long, default 1) along ``dim`` and
    concatenate; the Jacobian terms are concatenated along ``dim`` (or summed when ``dim`` lies
    inside the event)."""

    def __init__(self, tseq: list, dim: int = 0, lengths: Any = None, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise ValueError("CatTransform: expected a sequence of Transforms")
        super().__init__(cache_size=cache_size)
        self.transforms = [t.with_cache(cache_size) for t in tseq]
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(
                f"CatTransform: expected {len(self.transforms)} lengths, got {len(self.lengths)}"
            )
        self.dim = dim
        self.event_dim = max((t.event_dim for t in self.transforms), default=0)

    @property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size=cache_size)

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    def _slices(self, op: str, *tensors: Tensor) -> list:
        for t in tensors:
            if not -t.ndim <= self.dim < t.ndim or t.shape[self.dim] != self.length:
                raise ValueError(
                    f"CatTransform.{op}: expected a tensor with {self.length} entries along dim {self.dim}, "
                    f"got shape {tuple(t.shape)}"
                )
        starts = np.cumsum([0] + self.lengths[:-1])
        return [[t.narrow(self.dim, int(s), n) for t in tensors] for s, n in zip(starts, self.lengths)]

    def _call(self, x: Tensor) -> Tensor:
        return gg.cat([t(xs) for t, (xs,) in zip(self.transforms, self._slices("__call__", x))], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return gg.cat([t.inv(ys) for t, (ys,) in zip(self.transforms, self._slices("inv", y))], self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        terms = [
            _sum_rightmost(t.log_abs_det_jacobian(xs, ys), self.event_dim - t.event_dim)
            for t, (xs, ys) in zip(self.transforms, self._slices("log_abs_det_jacobian", x, y))
        ]
        # dim counted from the right among the Jacobian terms' dims (the event dims are summed)
        dim = (self.dim - x.ndim if self.dim >= 0 else self.dim) + self.event_dim
        return gg.cat(terms, dim) if dim < 0 else sum(terms[1:], terms[0])


class StackTransform(Transform):
    """Apply ``tseq[i]`` to index i along ``dim`` and stack the results (and the Jacobian terms)."""

    def __init__(self, tseq: list, dim: int = 0, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise ValueError("StackTransform: expected a sequence of Transforms")
        super().__init__(cache_size=cache_size)
        self.transforms = [t.with_cache(cache_size) for t in tseq]
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size=cache_size)

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    def _pieces(self, op: str, z: Tensor) -> list:
        if not -z.ndim <= self.dim < z.ndim or z.shape[self.dim] != len(self.transforms):
            raise ValueError(
                f"StackTransform.{op}: expected a tensor with {len(self.transforms)} entries along dim "
                f"{self.dim}, got shape {tuple(z.shape)}"
            )
        return [z.select(self.dim, i) for i in range(len(self.transforms))]

    def _call(self, x: Tensor) -> Tensor:
        return gg.stack([t(xi) for t, xi in zip(self.transforms, self._pieces("__call__", x))], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return gg.stack([t.inv(yi) for t, yi in zip(self.transforms, self._pieces("inv", y))], self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        pairs = zip(
            self.transforms, self._pieces("log_abs_det_jacobian", x), self._pieces("log_abs_det_jacobian", y)
        )
        return gg.stack([t.log_abs_det_jacobian(xi, yi) for t, xi, yi in pairs], self.dim)
