"""Round 26, self-supervised vision (DINO, CLIP, ConvNeXt): DINO's ``MultiCropWrapper`` groups the
crops by resolution with ``torch.unique_consecutive``, its ``utils.has_batchnorms`` names
``nn.SyncBatchNorm`` (and ``main_dino`` calls ``convert_sync_batchnorm``), and CLIP's
``AttentionPool2d`` calls ``F.multi_head_attention_forward`` on its own q/k/v Linear weights.
glassgrad had none of the three."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
import glassgrad.nn as gnn
import glassgrad.nn.functional as gF

UC_CASES = [
    ([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]], None),
    ([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]], 0),
    ([[1, 1, 2], [1, 1, 2]], 1),
    ([[1, 1, 2], [1, 1, 2]], -1),
    ([1.0, float("nan"), float("nan"), 2.0, 2.0], None),
    ([], None),
    (3, None),
]


@pytest.mark.parametrize(("values", "dim"), UC_CASES)
def test_unique_consecutive_matches_torch(torch, values, dim):
    a = np.array(values)
    got = glassgrad.unique_consecutive(glassgrad.tensor(a), return_inverse=True, return_counts=True, dim=dim)
    want = torch.unique_consecutive(torch.tensor(a), return_inverse=True, return_counts=True, dim=dim)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    alone = glassgrad.tensor(a).unique_consecutive(dim=dim)  # the Tensor method, output alone
    np.testing.assert_array_equal(alone.numpy(), torch.unique_consecutive(torch.tensor(a), dim=dim).numpy())


def test_unique_consecutive_returns_what_was_asked(torch):
    x = [5, 5, 6, 5]
    got = glassgrad.unique_consecutive(glassgrad.tensor(x), return_counts=True)
    want = torch.unique_consecutive(torch.tensor(x), return_counts=True)
    assert len(got) == len(want) == 2
    assert got[1].tolist() == want[1].tolist() == [2, 1, 1]


def test_dino_multicrop_grouping(torch):
    """MultiCropWrapper's idiom: cumulative counts of runs of equal crop sizes."""
    sizes = [224, 224, 96, 96, 96, 96]
    got = glassgrad.cumsum(glassgrad.unique_consecutive(glassgrad.tensor(sizes), return_counts=True)[1], 0)
    want = torch.cumsum(torch.unique_consecutive(torch.tensor(sizes), return_counts=True)[1], 0)
    assert got.tolist() == want.tolist() == [2, 6]


def test_sync_batchnorm_is_batchnorm_in_a_world_of_one(torch):
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    g, t = gnn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)  # no process group: PyTorch's plain batch norm
    assert repr(g) == repr(t)
    np.testing.assert_allclose(
        g(glassgrad.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-5
    )
    np.testing.assert_allclose(g.running_var.numpy(), t.running_var.numpy(), rtol=1e-6)
    assert list(g.state_dict()) == list(t.state_dict())


def test_convert_sync_batchnorm_shares_parameters(torch):
    def build(nn):
        return nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm1d(4)))

    g, t = build(gnn), build(torch.nn)
    bn_weight = g[1].weight
    g2, t2 = gnn.SyncBatchNorm.convert_sync_batchnorm(g), torch.nn.SyncBatchNorm.convert_sync_batchnorm(t)
    assert repr(g2) == repr(t2)
    assert g2[1].weight is bn_weight
    assert isinstance(g2[2][0], gnn.SyncBatchNorm)
    assert [n for n, _ in g2.named_parameters()] == [n for n, _ in t2.named_parameters()]


@pytest.mark.parametrize("separate", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multi_head_attention_forward_matches_torch(torch, separate, need_weights):
    rng = np.random.default_rng(1)
    L, N, E, H = 5, 2, 8, 2
    arrays = {
        "x": rng.standard_normal((L, N, E)),
        "q": rng.standard_normal((E, E)),
        "k": rng.standard_normal((E, E)),
        "v": rng.standard_normal((E, E)),
        "in_w": rng.standard_normal((3 * E, E)),
        "in_b": rng.standard_normal(3 * E),
        "out_w": rng.standard_normal((E, E)),
        "out_b": rng.standard_normal(E),
    }
    mask = np.triu(np.full((L, L), -np.inf), 1)

    def run(lib, F):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        out, w = F.multi_head_attention_forward(
            t["x"], t["x"], t["x"], E, H,
            None if separate else t["in_w"], t["in_b"], None, None, False, 0.0, t["out_w"], t["out_b"],
            training=False, need_weights=need_weights, attn_mask=lib.tensor(mask),
            use_separate_proj_weight=separate, q_proj_weight=t["q"], k_proj_weight=t["k"], v_proj_weight=t["v"],
        )  # fmt: skip
        out.sum().backward()
        grads = {k: (v.grad.numpy() if v.grad is not None else None) for k, v in t.items()}
        return out.detach().numpy(), None if w is None else w.detach().numpy(), grads

    go, gw, gg = run(glassgrad, gF)
    to, tw, tg = run(torch, torch.nn.functional)
    np.testing.assert_allclose(go, to, rtol=1e-10, atol=1e-10)
    assert (gw is None) == (tw is None)
    if tw is not None:
        np.testing.assert_allclose(gw, tw, rtol=1e-10, atol=1e-12)
    for k in arrays:
        assert (gg[k] is None) == (tg[k] is None), k
        if tg[k] is not None:
            np.testing.assert_allclose(gg[k], tg[k], rtol=1e-8, atol=1e-10, err_msg=k)
