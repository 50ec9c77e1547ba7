"""``nn.AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2017), PyTorch's layout.

The classes are split by ``cutoffs`` into a shortlist of the frequent ones and clusters of rarer
ones. The *head* (a ``Linear`` to ``shortlist + n_clusters`` outputs) scores every shortlist class
and one entry per cluster; cluster ``i``'s *tail* (two bias-free ``Linear`` layers through a
``in_features // div_value ** (i + 1)`` bottleneck) scores the classes inside it. A class of
cluster ``i`` has log-probability ``log p_head(cluster i) + log p_tail_i(class)``, so a batch pays
the full softmax only over the head and over the clusters its targets fall in.

State-dict keys as PyTorch's: ``head.weight`` (``head.bias`` with ``head_bias=True``),
``tail.<i>.0.weight``, ``tail.<i>.1.weight``. The loop over clusters is the only Python loop.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from glassgrad.nn import functional as F
from glassgrad.nn.container import ModuleList, Sequential
from glassgrad.nn.linear import Linear
from glassgrad.nn.module import Module
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax over ``n_classes`` classes of ``in_features`` inputs (see the module docstring).

    ``forward(input, target)`` returns ``(output, loss)``: ``output`` (N,) the target's
    log-probability per row, ``loss`` their negative mean. ``log_prob(input)`` gives (N, n_classes)
    log-probabilities, ``predict(input)`` the most likely class per row.

    Shape:
        input (N, in_features) with target (N,) of class indices, or (in_features,) with a 0-d target.

    >>> import glassgrad as gg
    >>> asm = AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
    >>> out = asm(gg.randn(3, 8), gg.tensor([0, 5, 9]))
    >>> tuple(out.output.shape), tuple(asm.log_prob(gg.randn(3, 8)).shape)
    ((3,), (3, 10))
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Any,
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                "order, where each value is between 1 and n_classes-1"
            )
        kw = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, **kw), Linear(hidden, size, bias=False, **kw)
                )
            )

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:  # noqa: A002 - PyTorch's name
        if target.dim() == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input.dim() != 2:
                raise RuntimeError(
                    f"1D target tensor expects 2D input tensors, but found inputs with size {input.shape}"
                )
        elif target.dim() == 0:
            if input.dim() != 1:
                raise RuntimeError(
                    f"0D target tensor expects 1D input tensors, but found inputs with size {input.shape}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target.dim() > 0
        x = input if batched else input.unsqueeze(0)
        t = (target if batched else target.unsqueeze(0))._data.astype(np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{t.min()}, {t.max()}] were found. "
            )
        head_entry = np.minimum(t, self.shortlist_size)  # a rare class: its cluster's head entry
        local = x.new_zeros(t.shape[0])  # each row's log-probability inside its cluster (0: shortlist)
        for i in range(self.n_clusters):
            lo, hi = self.cutoffs[i], self.cutoffs[i + 1]
            rows = np.flatnonzero((t >= lo) & (t < hi))
            if rows.size == 0:
                continue
            head_entry[rows] = self.shortlist_size + i
            idx = Tensor(rows, _wrap=True)
            logp = F.log_softmax(self.tail[i](x.index_select(0, idx)), dim=1)
            picked = logp.gather(1, Tensor((t[rows] - lo)[:, None], _wrap=True)).squeeze(1)
            local = local.index_add(0, idx, picked)
        head_logp = F.log_softmax(self.head(x), dim=1)
        output = local + head_logp.gather(1, Tensor(head_entry[:, None], _wrap=True)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        """(N, n_classes) log-probabilities: the shortlist's from the head, each cluster's as its
        head entry plus the tail's log-softmax."""
        head_logp = F.log_softmax(head_output, dim=1)
        parts = [head_logp[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            entry = head_logp[:, self.shortlist_size + i].unsqueeze(1)
            parts.append(F.log_softmax(self.tail[i](x), dim=1) + entry)
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002
        """log p(class | input) for every class: (N, n_classes), or (n_classes,) for a 1-D input."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self._full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """The most likely class per row: the head's argmax when it is a shortlist class, else the
        argmax over every class (as PyTorch, which skips the tails when no row needs them)."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        out = head_output.argmax(dim=1)
        rare = out._data >= self.shortlist_size
        if rare.any():
            rows = Tensor(np.flatnonzero(rare), _wrap=True)
            full = self._full_log_prob(x.index_select(0, rows), head_output.index_select(0, rows))
            out = out.clone()
            out[rows] = full.argmax(dim=1)
        return out if batched else out.squeeze(0)
