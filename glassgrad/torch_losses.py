"""The losses PyTorch also has at its top level (``torch.kl_div``, ``torch.triplet_margin_loss``,
...): the ``nn.functional`` ones, with ATen's integer ``reduction`` (0 none, 1 mean, 2 sum) in
place of F's string. Left out, ``reduction`` is 0 (no reduction) here, where F's default is
"mean": PyTorch's top-level bindings do not reduce when reduction is left out, whatever their
stubs say (``torch.kl_div(a, t)`` is the unreduced loss in 2.13)."""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.tensor import Tensor

__all__ = [
    "triplet_margin_loss", "margin_ranking_loss", "cosine_embedding_loss", "hinge_embedding_loss",
    "kl_div", "poisson_nll_loss", "binary_cross_entropy_with_logits", "ctc_loss",
]  # fmt: skip

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(op: str, reduction: Any) -> str:
    if isinstance(reduction, bool) or not isinstance(reduction, int) or not 0 <= reduction <= 2:
        raise TypeError(
            f"{op}: expected reduction as ATen's int (0 none, 1 mean, 2 sum) at torch's top level, "
            f"got {reduction!r} (F.{op} takes the string)"
        )
    return _REDUCTIONS[reduction]


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Tensor:  # fmt: skip
    red = _reduction("triplet_margin_loss", reduction)
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=red)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:  # fmt: skip
    red = _reduction("margin_ranking_loss", reduction)
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=red)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:  # fmt: skip
    red = _reduction("cosine_embedding_loss", reduction)
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=red)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0) -> Tensor:  # noqa: A002
    return F.hinge_embedding_loss(
        input, target, margin, reduction=_reduction("hinge_embedding_loss", reduction)
    )


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False) -> Tensor:  # noqa: A002
    """``torch.kl_div``: reduction 1 is the elementwise mean (F's ``"mean"``, not ``"batchmean"``);
    left out it is 0, the unreduced loss (see the module's note). No warning about 'mean' here:
    PyTorch gives F's warning from F only."""
    red = _reduction("kl_div", reduction)
    loss = F.kl_div(input, target, reduction="none" if red == "mean" else red, log_target=log_target)
    return loss.mean() if red == "mean" else loss


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,  # noqa: A002
                     reduction: int) -> Tensor:  # fmt: skip
    red = _reduction("poisson_nll_loss", reduction)
    return F.poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps, reduction=red)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Any = None,  # noqa: A002
                                     pos_weight: Any = None, reduction: int = 0) -> Tensor:  # fmt: skip
    red = _reduction("binary_cross_entropy_with_logits", reduction)
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=red, pos_weight=pos_weight)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:  # fmt: skip
    red = _reduction("ctc_loss", reduction)
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, red, zero_infinity)
