"""Round 55, EfficientDet (rwightman/efficientdet-pytorch on the real timm).

The detector, its anchor labeller, losses, post-processing, data pipeline, evaluator and
checkpoint scripts ran unchanged. One difference was found in its training script's gradient
clipping: ``train_epoch`` hands ``model.parameters()`` (a generator) to
``dispatch_clip_grad`` on every batch, so from the second batch on the clip gets an empty
iterable. With ``--clip-mode value`` PyTorch 2.13's ``clip_grad_value_`` raises a
``RuntimeError`` there (its foreach kernel refuses an empty list, and so for parameters that have
no gradient); glassgrad clipped nothing and went on silently. It now raises too, with a message
that names the op and the likely cause.

The other tests pin the patterns EfficientDet is built from (written fresh here): its one-hot of
labels with negatives masked out through ``scatter``, the focal loss with label smoothing, the
masked Huber box loss, and the BiFPN's fast-attention fusion of resampled feature maps, each
against PyTorch in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

# ---- clip_grad_value_ with nothing to clip ------------------------------------------------------


def _nothing_to_clip(lib):
    p = lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
    lin = lib.nn.Linear(2, 2)
    return {
        "empty list": lambda: [],
        "empty tuple": lambda: (),
        "used-up generator": lambda: (lambda g: (list(g), g)[1])(lin.parameters()),
        "parameters without gradients": lambda: [p],
        "a tensor without a gradient": lambda: p,
    }


def test_clip_grad_value_refuses_nothing_to_clip_as_torch(torch):
    for lib in (torch, gg):
        for case, make in _nothing_to_clip(lib).items():
            with pytest.raises(RuntimeError) as info:
                lib.nn.utils.clip_grad_value_(make(), 1.0)
            if lib is gg:
                assert info.value.args[0].startswith("clip_grad_value_: nothing to clip"), case


def test_clip_grad_value_message_names_the_cause():
    lin = gg.nn.Linear(2, 2)
    params = lin.parameters()
    list(params)
    with pytest.raises(RuntimeError, match="empty iterable .*already used up"):
        gg.nn.utils.clip_grad_value_(params, 0.5)
    with pytest.raises(RuntimeError, match=r"2 parameter\(s\), none with a gradient"):
        gg.nn.utils.clip_grad_value_(list(lin.parameters()), 0.5)


def test_clip_grad_value_some_gradients_missing_matches_torch(torch):
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 4)) * 3
    out = []
    for lib in (gg, torch):
        a = lib.nn.Parameter(lib.zeros(3, 4, dtype=lib.float64))
        b = lib.nn.Parameter(lib.zeros(2, dtype=lib.float64))  # no gradient: skipped
        a.grad = lib.tensor(g)
        assert lib.nn.utils.clip_grad_value_((q for q in [a, b]), 1.5) is None
        assert b.grad is None
        out.append(a.grad.numpy())
    np.testing.assert_array_equal(out[0], out[1])


def test_effdet_style_clip_with_a_fresh_list_each_batch(torch):
    """The fix for the program: a list of the parameters clips every batch in both libraries."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 5))
    xs = [rng.standard_normal((4, 5)) * 4 for _ in range(3)]
    res = []
    for lib in (gg, torch):
        lin = lib.nn.Linear(5, 3, dtype=lib.float64)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w0))
            lin.bias.zero_()
        opt = lib.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
        clip_params = list(lin.parameters())
        for x in xs:
            opt.zero_grad()
            (lin(lib.tensor(x)) ** 2).sum().backward()
            lib.nn.utils.clip_grad_value_(clip_params, 0.5)
            opt.step()
        res.append([p.detach().numpy() for p in lin.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


# ---- EfficientDet's loss and fusion patterns against PyTorch ------------------------------------


def _one_hot(lib, x, num_classes):
    x_non_neg = (x >= 0).unsqueeze(-1)
    onehot = lib.zeros(x.shape + (num_classes,), dtype=lib.float64)
    return onehot.scatter(-1, x.unsqueeze(-1) * x_non_neg, 1) * x_non_neg


def _focal(lib, logits, targets, alpha, gamma, normalizer, smoothing):
    p = logits.sigmoid()
    one_minus = 1.0 - targets
    p_t = targets * p + one_minus * (1.0 - p)
    alpha_factor = targets * alpha + one_minus * (1.0 - alpha)
    mod = (1.0 - p_t) ** gamma
    targets = targets * (1.0 - smoothing) + 0.5 * smoothing
    ce = lib.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (1 / normalizer) * alpha_factor * mod * ce


def _huber(lib, inp, target, delta, weights):
    abs_err = (inp - target).abs()
    quadratic = lib.clamp(abs_err, max=delta)
    return ((0.5 * quadratic.pow(2) + delta * (abs_err - quadratic)) * weights).sum()


def _detection_loss(lib, cls_out, box_out, cls_t, box_t, npos):
    normalizer = npos.sum() + 1.0
    oh = _one_hot(lib, cls_t, 3).view(*cls_t.shape[:3], -1)
    cls_loss = _focal(lib, cls_out.permute(0, 2, 3, 1), oh, 0.25, 1.5, normalizer, 0.1)
    cls_loss = cls_loss.view(*cls_t.shape, 3) * (cls_t != -2).unsqueeze(-1)
    bt = box_t
    box_loss = _huber(lib, box_out.permute(0, 2, 3, 1), bt, 0.1, bt != 0.0) / (normalizer * 4.0)
    return cls_loss.sum() + 50.0 * box_loss


def test_effdet_detection_loss_matches_torch_float64(torch):
    rng = np.random.default_rng(2)
    b, h, w, a = 2, 4, 5, 3
    cls_out = rng.standard_normal((b, a * 3, h, w)) * 2
    box_out = rng.standard_normal((b, a * 4, h, w)) * 0.3
    cls_t = rng.integers(-2, 3, (b, h, w, a))
    box_t = rng.standard_normal((b, h, w, a * 4)) * 0.2 * (rng.random((b, h, w, a * 4)) < 0.4)
    npos = np.array([3.0, 5.0])
    res = []
    for lib in (gg, torch):
        co = lib.tensor(cls_out, requires_grad=True)
        bo = lib.tensor(box_out, requires_grad=True)
        loss = _detection_loss(lib, co, bo, lib.tensor(cls_t), lib.tensor(box_t), lib.tensor(npos))
        loss.backward()
        res.append([loss.detach().numpy(), co.grad.numpy(), bo.grad.numpy()])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15)


def _fast_attn_fuse(lib, nodes, weights, eps=1e-4):
    """BiFPN's ``FpnCombine(weight_method='fastattn')`` after resampling to one size."""
    F = lib.nn.functional
    big = nodes[0]
    up = F.interpolate(nodes[1], scale_factor=2.0, mode="nearest")
    down = F.max_pool2d(F.pad(nodes[2], (0, 1, 0, 1)), kernel_size=3, stride=2)
    stacked = lib.stack([big, up, down], dim=-1)
    ew = lib.relu(weights)
    return (stacked * (ew / (ew.sum() + eps))).sum(dim=-1)


def test_bifpn_fast_attention_fusion_matches_torch_float64(torch):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(s) for s in ((2, 4, 8, 8), (2, 4, 4, 4), (2, 4, 16, 16))]
    wts = np.array([0.7, -0.2, 1.3])  # a negative weight: relu makes it 0, as in effdet
    res = []
    for lib in (gg, torch):
        ts = [lib.tensor(x, requires_grad=True) for x in xs]
        wt = lib.tensor(wts, requires_grad=True)
        out = _fast_attn_fuse(lib, ts, wt)
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy(), *[t.grad.numpy() for t in ts], wt.grad.numpy()])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)


def test_bifpn_fast_attention_fusion_gradcheck():
    rng = np.random.default_rng(4)
    shapes = ((1, 2, 4, 4), (1, 2, 2, 2), (1, 2, 8, 8))
    xs = [gg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    wt = gg.tensor(np.array([0.5, 0.9, 1.1]), requires_grad=True)
    assert gradcheck(lambda a, b, c, w: _fast_attn_fuse(gg, [a, b, c], w), (*xs, wt), eps=1e-6, atol=1e-6)


def test_focal_loss_gradcheck_broadcast_normalizer():
    rng = np.random.default_rng(5)
    logits = gg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    targets = gg.tensor((rng.random((2, 3, 4)) < 0.3).astype(np.float64))
    normalizer = gg.tensor(np.array([[[2.0]], [[3.0]]]), requires_grad=True)  # (2, 1, 1) broadcast
    assert gradcheck(
        lambda x, n: _focal(gg, x, targets, 0.25, 1.5, n, 0.05).sum(),
        (logits, normalizer),
        eps=1e-6,
        atol=1e-6,
    )
