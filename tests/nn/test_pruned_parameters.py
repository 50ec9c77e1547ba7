"""Layers whose parameters were swapped for pruned ones (round 53, group fairseq).

PyTorch's ``Linear``, convolutions and batch norms read the shapes of the parameters they hold;
glassgrad's checked the constructor's sizes (``in_features``, ``in_channels``, ``num_features``)
and refused every call once a pruning step had replaced the parameters without them.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# fairseq's ``MultiheadAttention._adaptive_prune_heads`` swaps ``out_proj.weight`` for a narrower
# one and leaves ``out_proj.in_features`` as built; PyTorch's layers read the parameters' shapes,
# glassgrad's checked the constructor's sizes and refused every call.


def _pruned_layers(lib):
    nn = lib.nn
    ones = lambda *s: lib.tensor(np.ones(s), dtype=lib.float32)  # noqa: E731
    lin = nn.Linear(6, 4, bias=False)
    lin.weight = nn.Parameter(ones(4, 3))
    conv = nn.Conv2d(4, 6, 3, bias=False)
    conv.weight = nn.Parameter(ones(6, 2, 3, 3))
    grouped = nn.Conv1d(4, 6, 3, groups=2, bias=False)
    grouped.weight = nn.Parameter(ones(6, 1, 3))
    convt = nn.ConvTranspose2d(4, 6, 3, bias=False)
    convt.weight = nn.Parameter(ones(3, 6, 3, 3))
    bn = nn.BatchNorm1d(4)
    bn.weight, bn.bias = nn.Parameter(lib.ones(2)), nn.Parameter(lib.zeros(2))
    bn.running_mean, bn.running_var = lib.zeros(2), lib.ones(2)
    bare = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    return [
        (lin, (2, 3), (2, 6)),
        (conv, (1, 2, 5, 5), (1, 4, 5, 5)),
        (grouped, (1, 2, 5), (1, 4, 5)),
        (convt, (1, 3, 5, 5), (1, 4, 5, 5)),
        (bn, (3, 2), (3, 4)),
        (bare, (3, 2), None),
    ]


def test_layers_read_their_parameters_shapes_as_pytorch(torch):
    rng = np.random.default_rng(0)
    for (ours, good, bad), (theirs, _, _) in zip(_pruned_layers(gg), _pruned_layers(torch), strict=True):
        x = rng.standard_normal(good).astype(np.float32)
        np.testing.assert_allclose(
            ours(gg.tensor(x)).detach().numpy(),
            theirs(torch.tensor(x)).detach().numpy(),
            rtol=1e-5,
            atol=1e-5,
        )
        if bad is not None:
            with pytest.raises(RuntimeError):
                theirs(torch.ones(bad))
            with pytest.raises(RuntimeError, match=type(ours).__name__):
                ours(gg.ones(bad))


def test_fairseq_head_pruning_runs_as_pytorch(torch):
    """The pruning in short: keep heads 0 and 2 of 4 (8 features each) of a 32-wide attention
    output projection, then run the projection on the kept heads' features."""
    rng = np.random.default_rng(1)
    w, b, x = rng.standard_normal((32, 32)), rng.standard_normal(32), rng.standard_normal((5, 16))
    outs = []
    for lib in (torch, gg):
        proj = lib.nn.Linear(32, 32).double()
        with lib.no_grad():
            proj.weight.copy_(lib.tensor(w))
            proj.bias.copy_(lib.tensor(b))
        kept = lib.cat([proj.weight[:, 0:8], proj.weight[:, 16:24]], dim=-1).detach()
        proj.weight = lib.nn.Parameter(kept)
        assert proj.in_features == 32
        y = proj(lib.tensor(x))
        y.sum().backward()
        outs.append((y.detach().numpy(), proj.weight.grad.numpy()))
    for got, want in zip(outs[1], outs[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-13)
