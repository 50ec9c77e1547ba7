"""Round 27, vision transformers (docs/porting.md): Swin Transformer (microsoft/Swin-Transformer),
MLP-Mixer, Perceiver and DeiT. Swin's training log prints its AdamW with two parameter groups
(weight decay and none, optimizer.py's ``set_weight_decay``) and its ``main.py`` wraps the model in
``DistributedDataParallel(model, broadcast_buffers=False)``; each is held to PyTorch here, with
distilled float64 parity checks of the model code the programs share (shifted-window attention with
a relative position bias, DeiT's soft distillation loss)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

# ----------------------------------------------------------------------------- optimizer printing


def _swin_groups(lib):
    """optimizer.py's set_weight_decay and get_finetune_param_groups on a tiny model."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.LayerNorm(4))
    has_decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if len(p.shape) == 1 or name.endswith(".bias") else has_decay).append(p)
    plain = lib.optim.AdamW(
        [{"params": has_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, weight_decay=0.05
    )
    finetune = lib.optim.AdamW(
        [
            {
                "group_name": "layer_0_decay",
                "weight_decay": 0.05,
                "params": has_decay,
                "lr": 5e-4,
                "lr_scale": 0.5,
            },
            {
                "group_name": "layer_1_no_decay",
                "weight_decay": 0.0,
                "params": no_decay,
                "lr": 1e-3,
                "lr_scale": 1.0,
            },
        ],
        lr=1e-3,
    )
    return plain, finetune


def test_optimizer_repr_of_several_groups_prints_as_pytorch(torch):
    ours, theirs = _swin_groups(glassgrad), _swin_groups(torch)
    for a, b in zip(ours, theirs, strict=True):
        assert repr(a) == repr(b)
    assert "\n\nParameter Group 1\n" in repr(ours[0])  # a blank line before every later group


def test_optimizer_repr_of_one_group_has_no_blank_line(torch):
    for lib in (glassgrad, torch):
        text = repr(lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1))
        assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n") and "\n\n" not in text


# ----------------------------------------------------------------------------- DDP keywords


def _ddp_keywords(lib, store):
    dist = lib.distributed
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
    try:
        net = lib.nn.Linear(2, 2)
        out = []
        for kw in (
            {},
            {"broadcast_buffers": False},
            {"broadcast_buffers": True, "forward_sync_buffers": False},
            {"forward_sync_buffers": False, "find_unused_parameters": True},
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ddp = lib.nn.parallel.DistributedDataParallel(net, **kw)
            # the first sentence, which filters match; the rest is in our own words
            out.append([(w.category, str(w.message).split(".")[0], w.filename) for w in caught])
            out.append((ddp.broadcast_buffers, ddp.forward_sync_buffers, ddp.find_unused_parameters))
        ddp.broadcast_buffers = True
        out.append((ddp.forward_sync_buffers, ddp.require_backward_grad_sync, ddp.static_graph))
        with pytest.raises(TypeError) as e:
            lib.nn.parallel.DistributedDataParallel(net, broadcast_bufers=False)
        out.append(str(e.value))
    finally:
        dist.destroy_process_group()
    return out


def test_ddp_broadcast_buffers_warns_and_keywords_are_checked_as_pytorch(torch, tmp_path):
    ours = _ddp_keywords(glassgrad, tmp_path / "ours")
    theirs = _ddp_keywords(torch, tmp_path / "theirs")
    assert ours == theirs
    assert ours[2][0][0] is FutureWarning and ours[2][0][2] == __file__  # the user's line


def test_ddp_accepts_pytorchs_bucket_keywords(tmp_path):
    dist = glassgrad.distributed
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 's'}", rank=0, world_size=1)
    try:
        net = glassgrad.nn.Linear(2, 1)
        ddp = glassgrad.nn.parallel.DistributedDataParallel(
            net, bucket_cap_mb=25, gradient_as_bucket_view=True, static_graph=True, init_sync=False
        )
        assert ddp.gradient_as_bucket_view and ddp.static_graph and ddp.module is net
    finally:
        dist.destroy_process_group()


# ----------------------------------------------------------------------------- model parity


def _window_attention(lib, x, table, qkv_w, shift):
    """Swin's SwinTransformerBlock attention on a (B, H, W, C) map: cyclic shift, 2x2 windows, a
    relative position bias gathered from ``table`` by an index built with meshgrid, the shifted
    windows' -100 mask, softmax, and the reverse shift. Returns (B, H, W, C)."""
    B, H, W, C = x.shape
    ws, heads = 2, 2
    coords = lib.stack(lib.meshgrid([lib.arange(ws), lib.arange(ws)], indexing="ij"))
    flat = lib.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    index = rel.sum(-1)
    img_mask = lib.zeros((1, H, W, 1), dtype=x.dtype)
    cnt = 0
    for h in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for w in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img_mask[:, h, w, :] = cnt
            cnt += 1

    def partition(t):
        b = t.shape[0]
        t = t.view(b, H // ws, ws, W // ws, ws, -1).permute(0, 1, 3, 2, 4, 5).contiguous()
        return t.view(-1, ws * ws, t.shape[-1])

    mask_windows = partition(img_mask).squeeze(-1)
    mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
    mask = mask.masked_fill(mask != 0, (-100.0)).masked_fill(mask == 0, 0.0)
    windows = partition(lib.roll(x, shifts=(-shift, -shift), dims=(1, 2)))
    n = windows.shape[1]
    qkv = (windows @ qkv_w.t()).reshape(-1, n, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * (C // heads) ** -0.5, qkv[1], qkv[2]
    attn = q @ k.transpose(-2, -1)
    bias = table[index.view(-1)].view(n, n, -1).permute(2, 0, 1).contiguous()
    attn = attn + bias.unsqueeze(0)
    nw = mask.shape[0]
    attn = attn.view(-1, nw, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
    out = (attn.view(-1, heads, n, n).softmax(dim=-1) @ v).transpose(1, 2).reshape(-1, n, C)
    out = out.view(B, H // ws, W // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, C)
    return lib.roll(out, shifts=(shift, shift), dims=(1, 2))


def _run_window_attention(lib, arrays):
    x, table, qkv_w = (lib.tensor(a, requires_grad=True) for a in arrays)
    out = _window_attention(lib, x, table, qkv_w, shift=1)
    (out * out).sum().backward()
    return [t.detach().numpy() for t in (out, x.grad, table.grad, qkv_w.grad)]


def test_swin_shifted_window_attention_matches_pytorch_float64(torch):
    rng = np.random.default_rng(27)
    arrays = (rng.standard_normal((2, 4, 4, 4)), rng.standard_normal((9, 2)), rng.standard_normal((12, 4)))
    for a, b in zip(
        _run_window_attention(glassgrad, arrays), _run_window_attention(torch, arrays), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def _deit_soft_distillation(lib, student, teacher, labels, tau=2.0, alpha=0.5):
    """losses.py's DistillationLoss('soft') over a label-smoothed cross entropy."""
    s = lib.tensor(student, requires_grad=True)
    F = lib.nn.functional
    kd = (
        F.kl_div(
            F.log_softmax(s / tau, dim=1),
            F.log_softmax(lib.tensor(teacher) / tau, dim=1),
            reduction="sum",
            log_target=True,
        )
        * (tau * tau)
        / s.numel()
    )
    base = lib.nn.CrossEntropyLoss(label_smoothing=0.1)(s, lib.tensor(labels))
    loss = base * (1 - alpha) + kd * alpha
    loss.backward()
    return loss.item(), s.grad.numpy()


def test_deit_soft_distillation_loss_matches_pytorch_float64(torch):
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), np.array([0, 4, 2]))
    (la, ga), (lb, gb) = _deit_soft_distillation(glassgrad, *args), _deit_soft_distillation(torch, *args)
    assert la == pytest.approx(lb, rel=1e-13)
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-15)


def test_ddp_positional_arguments_in_pytorchs_order(torch, tmp_path):
    """DistributedDataParallel's arguments by position, as PyTorch's signature orders them."""
    out = []
    for lib in (glassgrad, torch):
        dist = lib.distributed
        dist.init_process_group("gloo", init_method=f"file://{tmp_path / lib.__name__}", rank=0, world_size=1)
        try:
            net = lib.nn.Linear(2, 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                ddp = lib.nn.parallel.DistributedDataParallel(net, None, None, 0, True, True, None, 25, True)
            out.append((ddp.find_unused_parameters, ddp.static_graph, ddp.gradient_as_bucket_view))
        finally:
            dist.destroy_process_group()
    assert out[0] == out[1] == (True, False, False)
