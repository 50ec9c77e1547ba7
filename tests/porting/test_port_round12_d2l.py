"""Port round 12: *Dive into Deep Learning* (d2l-ai/d2l-en, ``d2l/torch.py`` and its chapters).

The book builds nearly every model from lazy layers (``nn.LazyLinear``, ``nn.LazyConv2d``,
``nn.LazyBatchNorm2d``) and its ``Trainer`` makes the optimizer before the first batch, so the
placeholders must become the real parameters in place. These tests compare glassgrad's lazy layers
with PyTorch's: reprs before and after the first call, outputs and gradients from the same weights,
the optimizer built early, loading a state dict into a lazy model, and the errors PyTorch raises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn.parameter import is_lazy

from .helpers import assert_same


def _copy_params(ours, theirs) -> None:
    """PyTorch's (materialized) values into ours, name by name."""
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        mine[name].data = gg.tensor(p.detach().numpy().copy())


def _run_both(torch, ours, theirs, x):
    """Outputs of both and the gradients of ``(out * w).sum()`` for the input and every parameter."""
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    ours.eval()  # a dry run materializes ours (eval: batch norms keep their running stats)
    with gg.no_grad():
        ours(gg.tensor(x))
    ours.train()
    _copy_params(ours, theirs)  # PyTorch's weights into ours
    xg = gg.tensor(x, requires_grad=True)
    yg = ours(xg)
    w = np.linspace(-1, 1, yt.numel(), dtype=np.float32).reshape(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    (yg * gg.tensor(w)).sum().backward()
    assert_same(yg, yt.detach(), rtol=1e-5, atol=1e-5)
    assert_same(xg.grad, xt.grad, rtol=1e-5, atol=1e-5)
    grads_t = {n: p.grad for n, p in theirs.named_parameters()}
    for name, p in ours.named_parameters():
        assert_same(p.grad, grads_t[name], rtol=1e-5, atol=1e-5, path=name)


def test_lazy_linear_matches_torch(torch):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(ours) == repr(theirs) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    x = np.random.RandomState(0).randn(2, 5, 4).astype(np.float32)
    _run_both(torch, ours, theirs, x)
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
    assert repr(ours) == repr(theirs) == "Linear(in_features=4, out_features=3, bias=True)"
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape) == (3, 4)
    assert not ours._forward_pre_hooks


def test_lazy_linear_without_bias_and_its_init_range(torch):
    gg.manual_seed(0)
    ours = nn.LazyLinear(200, bias=False)
    ours(gg.ones(1, 16))
    assert ours.bias is None and tuple(ours.weight.shape) == (200, 16)
    # reset_parameters ran on the real shape: U(-1/sqrt(16), 1/sqrt(16)), as Linear(16, 200)
    w = ours.weight.detach().numpy()
    assert np.abs(w).max() <= 0.25 and w.std() > 0.1


def test_optimizer_built_before_the_first_call_trains_the_materialized_parameters(torch):
    """d2l's Trainer calls configure_optimizers before any batch: the placeholders it was given
    must be the parameters that get trained."""
    x = np.random.RandomState(1).randn(8, 4).astype(np.float32)
    results = []
    for lib in (gg, torch):
        model = lib.nn.Sequential(lib.nn.LazyLinear(2))
        placeholder = model[0].weight
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        model(lib.tensor(x))  # materializes
        assert model[0].weight is placeholder
        with lib.no_grad():
            model[0].weight.copy_(lib.ones(2, 4))
            model[0].bias.zero_()
        model(lib.tensor(x)).square().sum().backward()
        opt.step()
        results.append(model[0].weight.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    assert not np.allclose(results[0], 1.0)


def test_uninitialized_parameter_errors_match_torch(torch):
    for lib in (gg, torch):
        layer = lib.nn.LazyLinear(3)
        assert is_lazy(layer.weight) if lib is gg else lib.nn.parameter.is_lazy(layer.weight)
        assert repr(layer.weight) == "<UninitializedParameter>"
        layer.weight.data.normal_(0, 0.01)  # d2l does this before the first call: fills nothing
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            _ = layer.weight.shape
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            layer.weight.numel()
        assert layer.weight.requires_grad and layer.weight.dtype == lib.float32


@pytest.mark.parametrize("groups", [1, 2])
def test_lazy_conv2d_matches_torch(torch, groups):
    ours = nn.LazyConv2d(4, kernel_size=3, padding=1, stride=2, groups=groups)
    theirs = torch.nn.LazyConv2d(4, kernel_size=3, padding=1, stride=2, groups=groups)
    assert repr(ours) == repr(theirs)
    x = np.random.RandomState(2).randn(2, 6, 7, 7).astype(np.float32)
    _run_both(torch, ours, theirs, x)
    assert repr(ours) == repr(theirs) and type(ours) is nn.Conv2d


def test_lazy_conv_checks_groups_as_torch(torch):
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5))


@pytest.mark.parametrize("name", ["LazyConv1d", "LazyConvTranspose2d"])
def test_other_lazy_convolutions_match_torch(torch, name):
    ours, theirs = getattr(nn, name)(3, kernel_size=3), getattr(torch.nn, name)(3, kernel_size=3)
    assert repr(ours) == repr(theirs)
    shape = (2, 5, 9) if name == "LazyConv1d" else (2, 5, 4, 4)
    _run_both(torch, ours, theirs, np.random.RandomState(3).randn(*shape).astype(np.float32))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dims", [2, 4])
def test_lazy_batchnorm_matches_torch(torch, dims):
    name = "LazyBatchNorm1d" if dims == 2 else "LazyBatchNorm2d"
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    shape = (6, 3) if dims == 2 else (4, 3, 5, 5)
    x = np.random.RandomState(4).randn(*shape).astype(np.float32) * 2 + 1
    _run_both(torch, ours, theirs, x)
    assert repr(ours) == repr(theirs)
    for buf in ("running_mean", "running_var", "num_batches_tracked"):
        assert_same(getattr(ours, buf), getattr(theirs, buf), rtol=1e-5, atol=1e-6, path=buf)
    ours.eval(), theirs.eval()
    assert_same(ours(gg.tensor(x)), theirs(torch.tensor(x)).detach(), rtol=1e-5, atol=1e-5)


def test_lazy_state_dict_and_load_as_torch(torch):
    """An uninitialized model saves its placeholders; a lazy model loads a trained one's state
    (d2l's read-write section: ``clone = MLP(); clone.load_state_dict(torch.load(...))``)."""
    net = nn.Sequential(nn.LazyLinear(5), nn.ReLU(), nn.LazyLinear(2))
    saved = net.state_dict()
    assert list(saved) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(is_lazy(v) for v in saved.values())
    x = gg.tensor(np.random.RandomState(5).randn(3, 4).astype(np.float32))
    y = net(x)
    clone = nn.Sequential(nn.LazyLinear(5), nn.ReLU(), nn.LazyLinear(2))
    clone.load_state_dict(net.state_dict())
    assert not any(is_lazy(p) for p in clone.parameters())
    assert_same(clone(x), y)
    assert repr(clone) == repr(net)
    # PyTorch: the same load, and the same result
    tnet = torch.nn.Sequential(torch.nn.LazyLinear(5), torch.nn.ReLU(), torch.nn.LazyLinear(2))
    tnet.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in net.state_dict().items()})
    assert_same(tnet(torch.tensor(x.numpy())).detach(), y.detach())
    assert repr(tnet) == repr(clone)


def test_lazy_module_mixin_import_path(torch):
    from glassgrad.nn.modules.lazy import LazyModuleMixin

    assert isinstance(nn.LazyLinear(2), LazyModuleMixin)
    assert isinstance(torch.nn.LazyLinear(2), torch.nn.modules.lazy.LazyModuleMixin)
    assert nn.UninitializedParameter is gg.nn.parameter.UninitializedParameter


# ---- torch.normal as a factory ---------------------------------------------------------------


def test_normal_numbers_form_takes_requires_grad_as_torch(torch):
    """d2l's ``LinearRegressionScratch``: ``torch.normal(0, sigma, (n, 1), requires_grad=True)``
    is a leaf that trains; the tensor form refuses factory keywords in both libraries."""
    for lib in (gg, torch):
        w = lib.normal(0, 0.01, (3, 1), requires_grad=True)
        assert w.requires_grad and w.is_leaf and w.grad_fn is None and tuple(w.shape) == (3, 1)
        assert abs(float(w.detach().abs().max())) < 0.1
        (w * 2).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 1), 2.0, dtype=np.float32))
        assert lib.normal(0.0, 1.0, (2,), dtype=lib.float64, requires_grad=True).dtype == lib.float64
        assert not lib.normal(0.0, 1.0, (2,)).requires_grad
        with pytest.raises(TypeError):
            lib.normal(lib.zeros(2), 1.0, requires_grad=True)
        with pytest.raises(TypeError):
            lib.normal(lib.zeros(2), 1.0, dtype=lib.float64)


def test_uninitialized_state_dict_loads_into_an_uninitialized_model_as_torch(torch):
    """Placeholders load placeholders (nothing to copy) in both; a placeholder into a built layer
    is an error in both; a deep copy of a lazy model is lazy."""
    import copy

    for lib in (gg, torch):
        lazy = lib.nn.Sequential(lib.nn.LazyLinear(2))
        other = lib.nn.Sequential(lib.nn.LazyLinear(2))
        result = other.load_state_dict(lazy.state_dict())
        assert not result.missing_keys and not result.unexpected_keys
        assert repr(other[0]) == "LazyLinear(in_features=0, out_features=2, bias=True)"
        assert tuple(other(lib.ones(1, 3)).shape) == (1, 2)
        with pytest.raises(RuntimeError):
            lib.nn.Sequential(lib.nn.Linear(3, 2)).load_state_dict(lazy.state_dict())
        twin = copy.deepcopy(lazy)
        assert type(twin[0].weight).__name__ == "UninitializedParameter"
        assert twin[0].weight is not lazy[0].weight


# ---- lr_scheduler classes live in lr_scheduler, as PyTorch's -----------------------------------


def test_schedulers_name_lr_scheduler_as_their_module_as_torch(torch):
    """d2l's ``train`` (chapter_optimization/lr-scheduler) steps a built-in schedule only when
    ``scheduler.__module__ == lr_scheduler.__name__``; otherwise it calls it as a function."""
    from torch.optim import lr_scheduler as torch_lr_scheduler

    from glassgrad.optim import lr_scheduler

    names = [n for n in torch_lr_scheduler.__all__ if isinstance(getattr(torch_lr_scheduler, n), type)]
    assert "MultiStepLR" in names
    for name in [*names, "_LRScheduler"]:
        if hasattr(lr_scheduler, name):
            assert getattr(lr_scheduler, name).__module__ == lr_scheduler.__name__, name
            assert getattr(torch_lr_scheduler, name).__module__ == torch_lr_scheduler.__name__, name
    opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.5)
    scheduler = lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.5)
    assert scheduler.__module__ == lr_scheduler.__name__
    opt.step()
    scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.25


# ---- meshgrid without indexing warns as PyTorch ----------------------------------------------


def test_meshgrid_without_indexing_warns_once_as_torch(torch):
    """d2l's ``show_trace_2d`` calls ``meshgrid`` without ``indexing``: PyTorch warns (once per
    process) that it will be required, and uses "ij"."""
    import glassgrad.ops.meshgrid as meshgrid_module

    a, b = np.arange(3.0, dtype=np.float32), np.arange(4.0, dtype=np.float32)
    meshgrid_module._meshgrid_warned[0] = False  # this process may have warned already
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        ours = gg.meshgrid(gg.tensor(a), gg.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = gg.meshgrid(gg.tensor(a), gg.tensor(b))  # once only
        explicit = gg.meshgrid(gg.tensor(a), gg.tensor(b), indexing="xy")
        theirs_xy = torch.meshgrid(torch.tensor(a), torch.tensor(b), indexing="xy")
    theirs = torch.meshgrid(torch.tensor(a), torch.tensor(b), indexing="ij")
    for o, g, t in zip(ours, again, theirs):
        assert_same(o, t)
        assert_same(g, t)
    for o, t in zip(explicit, theirs_xy):
        assert_same(o, t)
