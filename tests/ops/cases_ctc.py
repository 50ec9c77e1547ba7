"""Gradcheck case for ops/ctc.py (ctc_loss).

PyTorch's CTC gradient is the gradient for logits behind a ``log_softmax`` (it assumes the
log-probabilities are normalised), so the case checks the loss of ``log_softmax(x)``, where that
gradient and the finite-difference one agree. Targets and lengths are constants.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from tests.ops.harness import case, values


@case("ctc_loss")
def _ctc_loss(draw):
    n = draw(st.integers(1, 3))
    classes = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    blank = int(rng.integers(0, classes))
    target_lengths = rng.integers(0, 4, size=n)
    labels = np.array([c for c in range(classes) if c != blank])
    targets = labels[rng.integers(0, len(labels), size=(n, max(1, target_lengths.max())))]
    # at least 2L + 1 steps: feasible even when every label repeats
    steps = int(2 * target_lengths.max() + 1 + draw(st.integers(0, 2)))
    input_lengths = np.array([draw(st.integers(2 * int(t) + 1, steps)) for t in target_lengths])
    x = values(draw, (steps, n, classes), -2.0, 2.0)
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    t, il, tl = (gg.tensor(a.astype(np.int64)) for a in (targets, input_lengths, target_lengths))
    return (lambda v: F.ctc_loss(F.log_softmax(v, 2), t, il, tl, blank=blank, reduction=reduction)), (x,)
