"""Losses given operands whose shapes do not broadcast end their error with PyTorch's own sentence,
"The size of tensor a (m) must match the size of tensor b (n) at non-singleton dimension d", with
PyTorch's operands in PyTorch's order (some losses take the target first): programs match on it."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import glassgrad as gg

_SENTENCE = re.compile(
    r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton dimension \d+"
)

# name -> (function name, shapes of the positional operands); each case's operands do not broadcast
CASES = {
    "mse_loss": ("mse_loss", [(3, 4), (2, 4)]),
    "kl_div": ("kl_div", [(3, 4), (2, 4)]),
    "poisson_nll_loss": ("poisson_nll_loss", [(3, 4), (2, 4)]),
    "soft_margin_loss": ("soft_margin_loss", [(3, 4), (2, 4)]),
    "multilabel_soft_margin_loss": ("multilabel_soft_margin_loss", [(3, 4), (2, 4)]),
    "hinge_embedding_loss": ("hinge_embedding_loss", [(3, 4), (2, 4)]),
    "cosine_embedding_loss_inputs": ("cosine_embedding_loss", [(3, 4), (2, 4), (3,)]),
    "cosine_embedding_loss_target": ("cosine_embedding_loss", [(3, 4), (3, 4), (2,)]),
    "margin_ranking_loss_inputs": ("margin_ranking_loss", [(3,), (2,), (3,)]),
    "margin_ranking_loss_target": ("margin_ranking_loss", [(3,), (3,), (2,)]),
    "margin_ranking_loss_late": ("margin_ranking_loss", [(1,), (3,), (2,)]),
    "pairwise_distance": ("pairwise_distance", [(3, 4), (2, 4)]),
    "triplet_margin_loss": ("triplet_margin_loss", [(3, 4), (3, 4), (5, 4)]),
    "gaussian_nll_loss": ("gaussian_nll_loss", [(3, 4), (2, 4), (3, 4)]),
    "cosine_similarity": ("cosine_similarity", [(3, 4), (2, 4)]),
}


def _message(lib, name, shapes):
    rng = np.random.default_rng(0)
    args = [lib.tensor(rng.uniform(0.1, 1.0, s)) for s in shapes]
    if name in ("cosine_embedding_loss", "margin_ranking_loss"):
        args[-1] = lib.ones(shapes[-1], dtype=args[0].dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as info:
            getattr(lib.nn.functional, name)(*args)
    return str(info.value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_shape_clash_ends_with_pytorchs_sentence(case, torch):
    name, shapes = CASES[case]
    expected = _SENTENCE.search(_message(torch, name, shapes))
    assert expected is not None, "PyTorch's message changed"
    got = _message(gg, name, shapes)
    assert got.startswith(name + ":")  # ours names the op and the shapes first
    assert got.endswith(expected.group(0))
