"""Round 63, CIFAR model zoos (weiaicunzai/pytorch-cifar100's models and train/test scripts,
bearpaw/pytorch-classification's ``models/cifar`` and ``cifar.py`` loop): every model ran unchanged
and matched PyTorch from PyTorch's weights. Pinned here, written fresh after their patterns: the
``torch.cuda`` memory names the scripts print under ``args.gpu`` (``memory_summary`` was missing),
the warm-up scheduler chained with ``MultiStepLR.step(epoch)``, the stochastic-depth survival draw,
the top-k accuracy helpers (and the ``view`` of a transposed slice they fail on in both), and the
ResNeXt init that writes through ``state_dict()`` tensors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


# ---- torch.cuda memory names on a machine without a GPU ---------------------------------------


def _cuda_memory_script(lib):
    c = lib.cuda
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = [c.memory_cached(), c.max_memory_cached(0), c.memory_stats_as_nested_dict()]
    out.append(sorted({w.category.__name__ for w in caught}))
    for kw in ({}, {"abbreviated": True}, {"device": 0}):
        try:
            c.memory_summary(**kw)
        except KeyError as e:  # what PyTorch's CPU build raises, key and all
            out.append(("KeyError", e.args))
    return out


def test_cuda_memory_names_answer_as_pytorch_cpu(torch):
    assert _cuda_memory_script(gg) == _cuda_memory_script(torch)


def test_reset_max_memory_cached_warns_and_resets_nothing():
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        assert gg.cuda.reset_max_memory_cached() is None
    assert gg.cuda.max_memory_reserved() == 0


# ---- train.py: WarmUpLR (an _LRScheduler subclass) then MultiStepLR.step(epoch) ---------------


def _warmup_multistep_lrs(lib, iters_per_epoch=3, warm=1, epochs=6):
    class WarmUpLR(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, total_iters, last_epoch=-1):
            self.total_iters = total_iters
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return [b * self.last_epoch / (self.total_iters + 1e-8) for b in self.base_lrs]

    w = lib.nn.Parameter(lib.tensor(np.linspace(-1.0, 1.0, 4)))
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=5e-4)
    train_sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.2)
    warm_sched = WarmUpLR(opt, iters_per_epoch * warm)
    lrs, weights = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch)'s deprecation warning, in both
        for epoch in range(1, epochs + 1):
            if epoch > warm:
                train_sched.step(epoch)
            for _ in range(iters_per_epoch):
                opt.zero_grad()
                (w * w).sum().backward()
                opt.step()
                lrs.append(opt.param_groups[0]["lr"])
                if epoch <= warm:
                    warm_sched.step()
            weights.append(w.detach().numpy().copy())
    return lrs, np.stack(weights), train_sched.last_epoch, warm_sched.get_last_lr()


def test_warmup_then_multistep_epoch_steps_match(torch):
    lt, wt, et, gt = _warmup_multistep_lrs(torch)
    lg, wg, eg, gg_last = _warmup_multistep_lrs(gg)
    np.testing.assert_allclose(lg, lt, rtol=1e-15, atol=0)
    np.testing.assert_allclose(wg, wt, rtol=1e-14, atol=1e-16)
    assert (eg, gg_last) == (et, gt)


# ---- stochasticdepth.py: the survival draw and torch.equal on a 0-d float ---------------------


@pytest.mark.parametrize("p", [0.0, 1, 1.0])
def test_stochastic_depth_certain_survival(torch, p):
    for _, lib in _libs(torch):
        var = lib.bernoulli(lib.tensor(p).float())
        assert var.dtype == lib.float32 and tuple(var.shape) == ()
        assert lib.equal(var, lib.tensor(1).float().to(var.device)) is (p == 1)


def test_stochastic_depth_survival_rate():
    gg.manual_seed(63)
    draws = [gg.equal(gg.bernoulli(gg.tensor(0.75).float()), gg.tensor(1).float()) for _ in range(4000)]
    assert abs(np.mean(draws) - 0.75) < 0.03  # 4.4 standard deviations


# ---- top-k accuracy (bearpaw utils/eval.py, cifar100 test.py / eval_training) -----------------


def _accuracies(lib, out, target):
    output, labels = lib.tensor(out), lib.tensor(target)
    _, pred = output.topk(3, 1, True, True)
    pred = pred.t()
    correct = pred.eq(labels.view(1, -1).expand_as(pred))
    res = [correct[:k].reshape(-1).float().sum(0).mul_(100.0 / len(target)) for k in (1, 3)]
    _, pred5 = output.topk(3, 1, largest=True, sorted=True)
    c = pred5.eq(labels.view(labels.size(0), -1).expand_as(pred5)).float()
    total = 0.0
    _, preds = output.max(1)
    total += preds.eq(labels).sum()  # a Python float plus an int64 count: a float32 tensor
    return [r.item() for r in res] + [
        c[:, :3].sum().item(),
        c[:, :1].sum().item(),
        str(total.dtype)[-7:],
        total.item(),
    ]


def test_topk_accuracy_helpers_match(torch):
    rng = np.random.default_rng(63)
    out = rng.standard_normal((7, 10)).astype(np.float32)
    target = rng.integers(0, 10, 7)
    target[:3] = out[:3].argmax(1)
    assert _accuracies(gg, out, target) == _accuracies(torch, out, target)


def test_view_of_transposed_topk_slice_raises_runtime_error(torch):
    # eval.py's correct[:k].view(-1) on the transposed comparison fails in PyTorch 2 and here alike
    out = np.arange(12, dtype=np.float32).reshape(3, 4)
    for _, lib in _libs(torch):
        _, pred = lib.tensor(out).topk(2, 1, True, True)
        correct = pred.t().eq(lib.tensor([3, 3, 0]).view(1, -1).expand_as(pred.t()))
        with pytest.raises(RuntimeError, match="view"):
            correct[:2].view(-1)


# ---- bearpaw resnext.py: init through state_dict() tensors ------------------------------------


def _resnext_style_init(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_reduce = nn.Conv2d(3, 8, 1, bias=False)
            self.bn_reduce = nn.BatchNorm2d(8)
            self.classifier = nn.Linear(8, 4)
            for key in self.state_dict():
                if key.split(".")[-1] == "weight":
                    if "conv" in key:
                        nn.init.kaiming_normal_(self.state_dict()[key], mode="fan_out")
                    if "bn" in key:
                        self.state_dict()[key][...] = 1
                elif key.split(".")[-1] == "bias":
                    self.state_dict()[key][...] = 0

    b = Block()
    return {k: v.detach().numpy().copy() for k, v in b.named_parameters()}


def test_init_through_state_dict_reaches_parameters(torch):
    got = _resnext_style_init(gg)
    ref = _resnext_style_init(torch)
    for k in ("bn_reduce.weight", "bn_reduce.bias", "classifier.bias"):
        np.testing.assert_array_equal(got[k], ref[k])
    assert np.all(got["bn_reduce.weight"] == 1) and np.all(got["classifier.bias"] == 0)
    assert np.all(got["conv_reduce.weight"] != 0)
