"""Round 34, YOLOX (Megvii-BaseDetection/YOLOX): distilled repros of what the detector leans on.

The tiny YOLOX (CSPDarknet + PAFPN + decoupled head) trains and infers with PyTorch's weights to
float64 rounding. Probing its multi-scale preprocess found float32 bilinear resizing ~2e-6 off
(source coordinates rounded twice where PyTorch fuses the multiply-add). The rest pin, each written
the way YOLOX writes it: SimOTA's dynamic-k matching (topk, int clamp, uint8 matching matrix, argmin
over multiply-matched columns), the head's grid decoding with ``Tensor.type()`` strings, IoU/GIoU,
BCE-with-logits and L1 losses, postprocess's ``new(shape)`` box rewrite, conv+BN fusion, and SGD with
YOLOX's three parameter groups (nesterov, weight decay on conv weights only)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _np(t):
    return t.detach().numpy()


def _dynamic_k(mod, cost, ious, n_gt):
    """YOLOX's SimOTA matching: (G, A) cost and IoUs -> (G, A) uint8 matching matrix."""
    matching = mod.zeros_like(cost, dtype=mod.uint8)
    topk_ious, _ = mod.topk(ious, min(10, ious.size(1)), dim=1)
    dynamic_ks = mod.clamp(topk_ious.sum(1).int(), min=1)
    for g in range(n_gt):
        _, pos = mod.topk(cost[g], k=dynamic_ks[g].item(), largest=False)
        matching[g][pos] = 1
    multiple = matching.sum(0) > 1
    if multiple.sum() > 0:
        _, argmin = mod.min(cost[:, multiple], dim=0)
        matching[:, multiple] *= 0
        matching[argmin, multiple] = 1
    fg = matching.sum(0) > 0
    return matching, fg, matching[:, fg].argmax(0), (matching * ious).sum(0)[fg]


def test_simota_dynamic_k_matching_matches_torch(torch):
    rng = np.random.RandomState(3)
    ious = rng.rand(3, 12) * 0.9
    cost = rng.rand(3, 12) * 5 - 3 * ious
    cost[:, 0] = [0.1, 0.2, 0.3]  # anchor 0 wanted by every box: argmin must settle it
    out = {}
    for mod in (torch, gg):
        res = _dynamic_k(mod, mod.tensor(cost), mod.tensor(ious), 3)
        out[mod] = [r.numpy() for r in res]
    for a, b in zip(out[torch], out[gg]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-14)
    assert out[gg][0][:, 0].tolist() == [1, 0, 0]


def _grid_decode(mod, out, stride):
    """YOLOX's get_output_and_grid: (N, 5+C, H, W) -> (N, H*W, 5+C) boxes in pixels."""
    n, ch, h, w = out.shape
    yv, xv = mod.meshgrid([mod.arange(h), mod.arange(w)], indexing="ij")
    grid = mod.stack((xv, yv), 2).view(1, 1, h, w, 2).type(out.type())
    out = out.view(n, 1, ch, h, w).permute(0, 1, 3, 4, 2).reshape(n, h * w, -1)
    grid = grid.view(1, -1, 2)
    out[..., :2] = (out[..., :2] + grid) * stride
    out[..., 2:4] = mod.exp(out[..., 2:4]) * stride
    return out, grid


def test_head_grid_decode_and_losses_match_torch(torch):
    rng = np.random.RandomState(0)
    raw = rng.randn(2, 8, 4, 4) * 0.5
    tgt = np.abs(rng.randn(5, 4)) * 8 + 2
    res = {}
    for mod in (torch, gg):
        x = mod.tensor(raw, requires_grad=True)
        out, grid = _grid_decode(mod, x.clone(), 8)
        assert grid.dtype == mod.float64 and x.type() == "torch.DoubleTensor"
        pred, t = out[0, :5, :4], mod.tensor(tgt)
        tl = mod.max(pred[:, :2] - pred[:, 2:] / 2, t[:, :2] - t[:, 2:] / 2)
        br = mod.min(pred[:, :2] + pred[:, 2:] / 2, t[:, :2] + t[:, 2:] / 2)
        en = (tl < br).type(tl.type()).prod(dim=1)
        inter = mod.prod(br - tl, 1) * en
        iou = inter / (mod.prod(pred[:, 2:], 1) + mod.prod(t[:, 2:], 1) - inter + 1e-16)
        bce = mod.nn.BCEWithLogitsLoss(reduction="none")
        obj = bce(out[..., 4:5].reshape(-1, 1), out.new_zeros((32, 1))).sum()
        l1 = mod.nn.L1Loss(reduction="none")(out[0, :5, :4], t).sum()
        loss = (1 - iou**2).sum() * 5.0 + obj + l1
        loss.backward()
        res[mod] = (_np(out), _np(loss), x.grad.numpy())
    for a, b in zip(res[torch], res[gg]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_postprocess_box_rewrite_and_class_pick_match_torch(torch):
    rng = np.random.RandomState(1)
    pred = np.concatenate([rng.rand(1, 6, 4) * 30, rng.rand(1, 6, 4)], axis=2)
    res = {}
    for mod in (torch, gg):
        p = mod.tensor(pred)
        corner = p.new(p.shape)
        corner[:, :, 0] = p[:, :, 0] - p[:, :, 2] / 2
        corner[:, :, 1] = p[:, :, 1] - p[:, :, 3] / 2
        corner[:, :, 2] = p[:, :, 0] + p[:, :, 2] / 2
        corner[:, :, 3] = p[:, :, 1] + p[:, :, 3] / 2
        p[:, :, :4] = corner[:, :, :4]
        img = p[0]
        conf, cls = mod.max(img[:, 5:8], 1, keepdim=True)
        mask = (img[:, 4] * conf.squeeze() >= 0.2).squeeze()
        det = mod.cat((img[:, :5], conf, cls.float()), 1)[mask]
        res[mod] = det.numpy()
    assert res[gg].dtype == res[torch].dtype == np.float64  # cat promotes cls.float()
    np.testing.assert_allclose(res[gg], res[torch], rtol=1e-6)


def _fuse(mod, conv, bn):
    """YOLOX's fuse_conv_and_bn (conv without bias)."""
    fused = mod.nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True
    ).requires_grad_(False)
    w_conv = conv.weight.clone().view(conv.out_channels, -1)
    w_bn = mod.diag(bn.weight.div(mod.sqrt(bn.eps + bn.running_var)))
    fused.weight.copy_(mod.mm(w_bn, w_conv).view(fused.weight.shape))
    b_conv = mod.zeros(conv.weight.size(0))
    b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(mod.sqrt(bn.running_var + bn.eps))
    fused.bias.copy_(mod.mm(w_bn, b_conv.reshape(-1, 1)).reshape(-1) + b_bn)
    return fused


def _convbn(mod, sd):
    conv = mod.nn.Conv2d(3, 4, 3, 2, 1, bias=False)
    bn = mod.nn.BatchNorm2d(4, eps=1e-3, momentum=0.03)
    blk = mod.nn.Sequential(conv, bn, mod.nn.SiLU())
    blk.load_state_dict({k: mod.tensor(v) for k, v in sd.items()})
    return blk


def test_conv_bn_train_groups_then_fuse_match_torch(torch):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(4), torch.nn.SiLU()
    )
    sd = {k: v.numpy().copy() for k, v in ref.state_dict().items()}
    sd["1.weight"] = np.linspace(0.5, 1.5, 4).astype(np.float32)
    sd["1.bias"] = np.linspace(-0.2, 0.2, 4).astype(np.float32)
    x = np.random.RandomState(0).rand(2, 3, 8, 8).astype(np.float32)
    res = {}
    for mod in (torch, gg):
        blk = _convbn(mod, sd)
        pg0, pg1, pg2 = [], [], []
        for k, v in blk.named_modules():
            if hasattr(v, "bias") and isinstance(v.bias, mod.nn.Parameter):
                pg2.append(v.bias)
            if isinstance(v, mod.nn.BatchNorm2d) or "bn" in k:
                pg0.append(v.weight)
            elif hasattr(v, "weight") and isinstance(v.weight, mod.nn.Parameter):
                pg1.append(v.weight)
        opt = mod.optim.SGD(pg0, lr=0.1, momentum=0.9, nesterov=True)
        opt.add_param_group({"params": pg1, "weight_decay": 5e-4})
        opt.add_param_group({"params": pg2})
        for _ in range(2):
            opt.zero_grad()
            (blk(mod.tensor(x)) ** 2).mean().backward()
            opt.step()
        blk.eval()
        with mod.no_grad():
            fused = _fuse(mod, blk[0], blk[1])
            res[mod] = [_np(p) for p in blk.parameters()] + [
                _np(blk[1].running_var),
                _np(blk(mod.tensor(x))),
                _np(mod.nn.functional.silu(fused(mod.tensor(x)))),
            ]
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1, 1]
    for a, b in zip(res[torch], res[gg]):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(res[gg][-1], res[gg][-2], rtol=1e-4, atol=1e-5)


def test_multiscale_bilinear_resize_float32_matches_torch_to_rounding(torch):
    # YOLOX's preprocess resizes a float32 batch to a random multiple of 32; PyTorch's kernel
    # rounds (i + 0.5) * scale - 0.5 once (a fused multiply-add), and rounding twice moved the
    # weights by ~2e-6 (1.7e-6 in the output, 5e-6 in the gradient on this 64 -> 96 resize)
    x = np.random.RandomState(0).rand(2, 3, 64, 64).astype(np.float32)
    w = np.linspace(0, 1, 2 * 3 * 96 * 96, dtype=np.float32).reshape(2, 3, 96, 96)
    res = {}
    for mod in (torch, gg):
        xi = mod.tensor(x, requires_grad=True)
        y = mod.nn.functional.interpolate(xi, size=(96, 96), mode="bilinear", align_corners=False)
        (y * mod.tensor(w)).sum().backward()
        res[mod] = (_np(y), xi.grad.numpy())
    np.testing.assert_allclose(res[gg][0], res[torch][0], rtol=0, atol=2.5e-7)
    np.testing.assert_allclose(res[gg][1], res[torch][1], rtol=0, atol=1e-6)
