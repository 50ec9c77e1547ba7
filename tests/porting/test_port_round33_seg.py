"""Round 33, seg group: DeepLabV3+ (VainF/DeepLabV3Plus-Pytorch) and RetinaNet (yhenon/pytorch-retinanet).

Both import ``torch.utils.model_zoo`` (the Xception backbone and RetinaNet's ``model.py``) to fetch
pretrained backbones with ``model_zoo.load_url``; the module was missing. The other tests distil
what the programs do (ASPP pooling branch, FocalLoss over ``ignore_index``, the poly LR schedule,
RetinaNet's anchor-target assignment and box decoding), checked against PyTorch.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn


def test_model_zoo_load_url_is_the_hub_loader(torch):
    # xception.py / retinanet/model.py: `import torch.utils.model_zoo as model_zoo`
    model_zoo = importlib.import_module("glassgrad.utils.model_zoo")
    import torch.utils.model_zoo as theirs

    assert model_zoo.load_url is gg.hub.load_state_dict_from_url
    assert theirs.load_url is torch.hub.load_state_dict_from_url
    assert "load_url" in model_zoo.__all__


def test_model_zoo_load_url_reads_a_cached_checkpoint(tmp_path):
    # model.load_state_dict(model_zoo.load_url(url, model_dir='.'), strict=False), from a file:// URL
    from glassgrad.utils import model_zoo

    src = nn.Conv2d(3, 4, 3, bias=False)
    path = tmp_path / "resnet18-5c106cde.pth"
    gg.save(src.state_dict(), str(path))
    cache = tmp_path / "cache"
    sd = model_zoo.load_url(path.as_uri(), model_dir=str(cache))
    assert (cache / path.name).exists()
    dst = nn.Conv2d(3, 4, 3, bias=False)
    dst.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(dst.weight.detach().numpy(), src.weight.detach().numpy())


def _aspp_pool(lib, x, conv_w):
    # _deeplab.ASPPPooling: global pool, 1x1 conv, BN, ReLU, bilinear back to the map's size
    y = lib.nn.functional.adaptive_avg_pool2d(x, 1)
    y = lib.nn.functional.conv2d(y, conv_w)
    y = lib.nn.functional.relu(y)
    return lib.nn.functional.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def test_aspp_pooling_and_focal_loss_match_torch(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 5, 7))
    w = rng.standard_normal((3, 6, 1, 1))
    labels = rng.integers(0, 3, size=(2, 5, 7))
    labels[:, 0] = 255  # ignore_index rows

    def run(lib):
        xt = lib.tensor(x, requires_grad=True)
        logits = _aspp_pool(lib, xt, lib.tensor(w)) * xt[:, :3]
        # utils/loss.py FocalLoss(gamma=2, ignore_index=255, size_average=True)
        ce = lib.nn.functional.cross_entropy(logits, lib.tensor(labels), reduction="none", ignore_index=255)
        pt = lib.exp(-ce)
        loss = (1 * (1 - pt) ** 2 * ce).mean()
        loss.backward()
        return loss.detach().numpy(), xt.grad.numpy()

    (l1, g1), (l2, g2) = run(gg), run(torch)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


def _poly_lrs(lib, steps):
    class PolyLR(lib.optim.lr_scheduler._LRScheduler):  # utils/scheduler.py
        def __init__(self, optimizer, max_iters, power=0.9, last_epoch=-1, min_lr=1e-6):
            self.power, self.max_iters, self.min_lr = power, max_iters, min_lr
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return [
                max(b * (1 - self.last_epoch / self.max_iters) ** self.power, self.min_lr)
                for b in self.base_lrs
            ]

    a, b = lib.nn.Linear(2, 2), lib.nn.Linear(2, 1)
    opt = lib.optim.SGD(
        [{"params": a.parameters(), "lr": 0.001}, {"params": b.parameters(), "lr": 0.01}],
        lr=0.01,
        momentum=0.9,
        weight_decay=1e-4,
    )
    sched = PolyLR(opt, 6, power=0.9)
    seen = []
    for _ in range(steps):
        opt.step()
        sched.step()
        seen.append([g["lr"] for g in opt.param_groups])
    state = sched.state_dict()
    return seen, state["last_epoch"], state["base_lrs"]


def test_poly_lr_schedule_follows_the_poly_rule():
    # hand-derived: lr_e = max(base * (1 - e / max_iters) ** 0.9, min_lr), per param group
    # (PyTorch's first optimizer step costs seconds of imports, so no torch run here)
    seen, last_epoch, base_lrs = _poly_lrs(gg, 6)
    want = [[max(b * (1 - e / 6) ** 0.9, 1e-6) for b in (0.001, 0.01)] for e in range(1, 7)]
    np.testing.assert_allclose(np.array(seen), np.array(want), rtol=1e-15)
    assert (last_epoch, base_lrs) == (6, [0.001, 0.01])
    assert seen[-1] == [1e-6, 1e-6]  # at max_iters the min_lr floor holds


def _retina_targets(lib, anchors, annot, cls):
    # retinanet/losses.py: IoU, masked target assignment, alpha/focal weights
    a, b = lib.tensor(anchors), lib.tensor(annot)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iw = lib.min(lib.unsqueeze(a[:, 2], dim=1), b[:, 2]) - lib.max(lib.unsqueeze(a[:, 0], 1), b[:, 0])
    ih = lib.min(lib.unsqueeze(a[:, 3], dim=1), b[:, 3]) - lib.max(lib.unsqueeze(a[:, 1], 1), b[:, 1])
    iw, ih = lib.clamp(iw, min=0), lib.clamp(ih, min=0)
    ua = lib.clamp(lib.unsqueeze((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), dim=1) + area - iw * ih, min=1e-8)
    iou_max, iou_arg = lib.max(iw * ih / ua, dim=1)
    c = lib.clamp(lib.tensor(cls, requires_grad=True), 1e-4, 1.0 - 1e-4)
    targets = lib.ones(c.shape) * -1
    targets[lib.lt(iou_max, 0.4), :] = 0
    pos = lib.ge(iou_max, 0.5)
    assigned = b[iou_arg, :]
    targets[pos, :] = 0
    targets[pos, assigned[pos, 4].long()] = 1
    alpha = lib.where(
        lib.eq(targets, 1.0), lib.ones(targets.shape) * 0.25, 1.0 - lib.ones(targets.shape) * 0.25
    )
    fw = alpha * lib.pow(lib.where(lib.eq(targets, 1.0), 1.0 - c, c), 2.0)
    bce = -(targets * lib.log(c) + (1.0 - targets) * lib.log(1.0 - c))
    loss = lib.where(lib.ne(targets, -1.0), fw * bce, lib.zeros(c.shape))
    total = loss.sum() / lib.clamp(pos.sum().float(), min=1.0)
    return targets.numpy(), float(total.detach()), str(total.dtype).split(".")[-1]


def test_retinanet_target_assignment_matches_torch(torch):
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 20, size=(40, 2))
    anchors = np.concatenate([xy, xy + rng.uniform(4, 12, size=(40, 2))], 1).astype(np.float32)
    annot = np.array([[2, 2, 10, 10, 1], [5, 8, 15, 18, 0]], dtype=np.float32)
    cls = rng.uniform(0, 1, size=(40, 3)).astype(np.float32)
    ours, theirs = _retina_targets(gg, anchors, annot, cls), _retina_targets(torch, anchors, annot, cls)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert math.isclose(ours[1], theirs[1], rel_tol=1e-6)
    assert ours[2] == theirs[2] == "float32"


def test_retinanet_empty_detection_accumulators_match_torch(torch):
    # model.py inference: start from torch.Tensor([]) / .long(), cat per-class results onto them
    def run(lib):
        scores, idx = lib.Tensor([]), lib.Tensor([]).long()
        keep = lib.tensor([2, 0])
        s = lib.tensor([0.3, 0.9, 0.6])
        scores = lib.cat((scores, s[keep]))
        idx = lib.cat((idx, lib.tensor([1] * keep.shape[0])))
        return scores.numpy(), str(scores.dtype), idx.numpy(), str(idx.dtype)

    ours, theirs = run(gg), run(torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[2], theirs[2])
    assert ours[1].split(".")[-1] == theirs[1].split(".")[-1] == "float32"
    assert ours[3].split(".")[-1] == theirs[3].split(".")[-1] == "int64"


def test_hub_and_model_zoo_re_export_tqdm(torch):
    """torchvision's downloaders do ``from torch.hub import tqdm``."""
    import glassgrad.hub
    import glassgrad.utils.model_zoo

    assert glassgrad.utils.model_zoo.tqdm is glassgrad.hub.tqdm
    assert torch.utils.model_zoo.tqdm is torch.hub.tqdm
    import io

    with glassgrad.hub.tqdm(total=3, file=io.StringIO()) as bar:
        bar.update(2)
    assert bar.n == 2
