"""``optim.swa_utils`` against ``torch.optim.swa_utils``: the averaged weights and buffers after
several updates (SWA, EMA, custom rules, ``use_buffers`` both ways, a model with BatchNorm), the
state_dict keys and loading across libraries, SWALR's learning rates step by step, update_bn's
running statistics, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import swa_utils


def _models(torch):
    """The same small BatchNorm network in both libraries, with the same weights."""

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))

    ours, theirs = build(gg), build(torch)
    _load_from(theirs, ours, torch)
    return ours, theirs


def _numpy(sd):
    return {k: v.detach().numpy().copy() for k, v in sd.items()}


def _load_from(dst, src, torch):
    """Load ``src``'s state_dict into ``dst`` (either direction, through NumPy)."""
    lib = torch if isinstance(dst, torch.nn.Module) else gg
    dst.load_state_dict({k: lib.tensor(v) for k, v in _numpy(src.state_dict()).items()})


def _assert_same_state(ours, theirs):
    a, b = _numpy(ours.state_dict()), _numpy(theirs.state_dict())
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        if np.issubdtype(a[key].dtype, np.integer):
            assert np.array_equal(a[key], b[key]), key
        else:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)


def _train_a_little(ours, theirs, torch, rng):
    """New weights (the same in both) and a training forward, which moves BatchNorm's buffers."""
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        w = rng.standard_normal(p.shape).astype(np.float32)
        with gg.no_grad():
            p.copy_(gg.tensor(w))
        with torch.no_grad():
            q.copy_(torch.tensor(w))
    x = rng.standard_normal((6, 3)).astype(np.float32)
    ours(gg.tensor(x))
    theirs(torch.tensor(x))


AVERAGERS = {
    "swa-default": lambda S: {},
    "swa-avg_fn": lambda S: dict(avg_fn=S.get_swa_avg_fn()),
    "ema-avg_fn": lambda S: dict(avg_fn=S.get_ema_avg_fn(0.9)),
    "ema-multi": lambda S: dict(multi_avg_fn=S.get_ema_multi_avg_fn(0.8)),
    "custom": lambda S: dict(avg_fn=lambda avg, cur, n: 0.25 * avg + 0.75 * cur + n),
}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("name", AVERAGERS)
def test_averaged_model_matches_torch(torch, name, use_buffers):
    ours, theirs = _models(torch)
    avg_ours = swa_utils.AveragedModel(ours, use_buffers=use_buffers, **AVERAGERS[name](swa_utils))
    avg_theirs = torch.optim.swa_utils.AveragedModel(
        theirs, use_buffers=use_buffers, **AVERAGERS[name](torch.optim.swa_utils)
    )
    rng = np.random.default_rng(1)
    for _ in range(4):
        _train_a_little(ours, theirs, torch, rng)
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
        _assert_same_state(avg_ours, avg_theirs)
    assert avg_ours.n_averaged.dtype == gg.int64 and avg_ours.n_averaged.item() == 4
    # averaged weights differ from the last ones, and the model itself was not touched
    assert not np.allclose(avg_ours.module[0].weight.detach().numpy(), ours[0].weight.detach().numpy())
    _assert_same_state(ours, theirs)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    avg_ours.eval()
    avg_theirs.eval()
    np.testing.assert_allclose(
        avg_ours(gg.tensor(x)).detach().numpy(),
        avg_theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_swa_multi_avg_fn_matches_torch_on_float_weights(torch):
    # PyTorch's foreach SWA rule raises on integer buffers, so only the float weights are compared
    ours, theirs = _models(torch)
    avg_ours = swa_utils.AveragedModel(ours, multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    avg_theirs = torch.optim.swa_utils.AveragedModel(
        theirs, multi_avg_fn=torch.optim.swa_utils.get_swa_multi_avg_fn()
    )
    rng = np.random.default_rng(3)
    for _ in range(5):
        _train_a_little(ours, theirs, torch, rng)
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
    _assert_same_state(avg_ours, avg_theirs)


def test_use_buffers_false_keeps_the_latest_buffers_and_true_averages_them(torch):
    ours, _ = _models(torch)
    plain, averaged = swa_utils.AveragedModel(ours), swa_utils.AveragedModel(ours, use_buffers=True)
    rng = np.random.default_rng(4)
    means = []
    for _ in range(3):
        ours(gg.tensor(rng.standard_normal((6, 3)).astype(np.float32)))
        means.append(ours[1].running_mean.numpy().copy())
        plain.update_parameters(ours)
        averaged.update_parameters(ours)
    np.testing.assert_array_equal(plain.module[1].running_mean.numpy(), means[-1])
    np.testing.assert_allclose(averaged.module[1].running_mean.numpy(), np.mean(means, axis=0), rtol=1e-5)


def test_state_dict_keys_and_loading_across_libraries(torch):
    ours, theirs = _models(torch)
    avg_ours, avg_theirs = swa_utils.AveragedModel(ours), torch.optim.swa_utils.AveragedModel(theirs)
    assert list(avg_ours.state_dict()) == list(avg_theirs.state_dict())
    assert list(avg_ours.state_dict())[:2] == ["n_averaged", "module.0.weight"]
    rng = np.random.default_rng(5)
    for _ in range(2):
        _train_a_little(ours, theirs, torch, rng)
        avg_ours.update_parameters(ours)
    _load_from(avg_theirs, avg_ours, torch)  # glassgrad -> torch
    _assert_same_state(avg_ours, avg_theirs)
    _train_a_little(ours, theirs, torch, rng)
    avg_theirs.update_parameters(theirs)
    fresh = swa_utils.AveragedModel(ours)
    _load_from(fresh, avg_theirs, torch)  # torch -> glassgrad, n_averaged included
    assert fresh.n_averaged.item() == 3
    _assert_same_state(fresh, avg_theirs)


def test_averaged_model_copies_and_keeps_grad_flags():
    model = gg.nn.Linear(2, 2)
    avg = swa_utils.AveragedModel(model)
    assert avg.module.weight is not model.weight and avg.module.weight.requires_grad
    with gg.no_grad():
        avg.module.weight.fill_(7.0)
    assert not np.any(model.weight.detach().numpy() == 7.0)
    assert next(iter(avg.parameters())) is avg.module.weight  # an optimizer can train the average
    assert list(dict(avg.named_buffers())) == ["n_averaged"]


# ----------------------------------------------------------------------------------- SWALR
SWALR_CONFIGS = {
    "cos": dict(swa_lr=0.05, anneal_epochs=10),
    "linear": dict(swa_lr=0.05, anneal_epochs=7, anneal_strategy="linear"),
    "cos-lists": dict(swa_lr=[0.02, 0.3], anneal_epochs=5),
    "linear-lists": dict(swa_lr=(0.01, 0.2), anneal_epochs=12, anneal_strategy="linear"),
    "no-anneal": dict(swa_lr=0.03, anneal_epochs=0),
    "one-epoch": dict(swa_lr=0.03, anneal_epochs=1, anneal_strategy="linear"),
}


def _sgd_pair(torch):
    ours = [gg.tensor([1.0, 2.0], requires_grad=True), gg.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]

    def make(lib, ps):
        return lib.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.5}], momentum=0.9)

    return (make(gg, ours), ours), (make(torch, theirs), theirs)


def _step(opt, params, lib):
    for p in params:
        p.grad = lib.ones_like(p)
    opt.step()


@pytest.mark.parametrize("name", SWALR_CONFIGS)
@pytest.mark.parametrize("warmup", [0, 4])
def test_swalr_learning_rates_match_torch(torch, name, warmup):
    (opt_ours, ps_ours), (opt_theirs, ps_theirs) = _sgd_pair(torch)
    if warmup:  # SWA usually starts after a cosine schedule: SWALR picks up from its lr
        pre = [
            lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)
            for lib, o in ((gg, opt_ours), (torch, opt_theirs))
        ]
        for _ in range(warmup):
            _step(opt_ours, ps_ours, gg)
            _step(opt_theirs, ps_theirs, torch)
            pre[0].step()
            pre[1].step()
    ours = swa_utils.SWALR(opt_ours, **SWALR_CONFIGS[name])
    theirs = torch.optim.swa_utils.SWALR(opt_theirs, **SWALR_CONFIGS[name])
    seen_ours, seen_theirs = [ours.get_last_lr()], [theirs.get_last_lr()]
    for _ in range(30):
        _step(opt_ours, ps_ours, gg)
        _step(opt_theirs, ps_theirs, torch)
        ours.step()
        theirs.step()
        seen_ours.append(ours.get_last_lr())
        seen_theirs.append(theirs.get_last_lr())
        assert [g["lr"] for g in opt_ours.param_groups] == [g["lr"] for g in opt_theirs.param_groups]
    assert seen_ours == seen_theirs
    assert [g["swa_lr"] for g in opt_ours.param_groups] == [g["swa_lr"] for g in opt_theirs.param_groups]
    for p, q in zip(ps_ours, ps_theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5)


def test_swalr_state_dict_round_trip(torch):
    (opt_ours, ps_ours), (opt_theirs, ps_theirs) = _sgd_pair(torch)
    ours = swa_utils.SWALR(opt_ours, swa_lr=0.05, anneal_epochs=8, anneal_strategy="linear")
    theirs = torch.optim.swa_utils.SWALR(opt_theirs, swa_lr=0.05, anneal_epochs=8, anneal_strategy="linear")
    for _ in range(3):
        _step(opt_ours, ps_ours, gg)
        _step(opt_theirs, ps_theirs, torch)
        ours.step()
        theirs.step()
    saved = ours.state_dict()
    assert "anneal_func" not in saved and saved["_anneal_strategy"] == "linear"
    assert set(saved) <= set(theirs.state_dict())
    other, ps_other = _sgd_pair(torch)[0]
    restored = swa_utils.SWALR(other, swa_lr=0.05, anneal_epochs=8)  # cos, overwritten by the load
    other.load_state_dict(opt_ours.state_dict())
    restored.load_state_dict(saved)
    for _ in range(8):
        _step(other, ps_other, gg)
        _step(opt_theirs, ps_theirs, torch)
        restored.step()
        theirs.step()
        assert restored.get_last_lr() == theirs.get_last_lr()


# -------------------------------------------------------------------------------- update_bn
def _bn_models(torch):
    def build(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.Conv2d(2, 3, 3),
            nn.BatchNorm2d(3, momentum=0.3),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(12, 5),
            nn.BatchNorm1d(5),
        )

    ours, theirs = build(gg), build(torch)
    _load_from(theirs, ours, torch)
    return ours, theirs


@pytest.mark.parametrize("shape", ["tensors", "pairs", "dataloader"])
def test_update_bn_matches_torch(torch, shape):
    ours, theirs = _bn_models(torch)
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal((n, 2, 4, 4)).astype(np.float32) * 3 + 1 for n in (4, 7, 5)]
    for model, lib in ((ours, gg), (theirs, torch)):
        model(lib.tensor(xs[0]))  # stale statistics, which update_bn must throw away
        model.eval()
    if shape == "tensors":
        loaders = [gg.tensor(x) for x in xs], [torch.tensor(x) for x in xs]
    elif shape == "pairs":
        loaders = [(gg.tensor(x), 0) for x in xs], [(torch.tensor(x), 0) for x in xs]
    else:
        x, y = np.concatenate(xs), np.arange(16)
        loaders = (
            gg.utils.data.DataLoader(gg.utils.data.TensorDataset(gg.tensor(x), gg.tensor(y)), batch_size=6),
            torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=6
            ),
        )
    swa_utils.update_bn(loaders[0], ours)
    torch.optim.swa_utils.update_bn(loaders[1], theirs)
    _assert_same_state(ours, theirs)
    assert not ours.training and not ours[1].training
    assert (ours[1].momentum, ours[5].momentum) == (0.3, 0.1)


def test_update_bn_restores_training_mode_and_skips_models_without_batchnorm():
    model = gg.nn.Sequential(gg.nn.Linear(2, 2), gg.nn.BatchNorm1d(2))
    swa_utils.update_bn([gg.ones(3, 2)], model)
    assert model.training
    plain = gg.nn.Linear(2, 2).eval()
    swa_utils.update_bn([gg.ones(3, 2)], plain)
    assert not plain.training


# ----------------------------------------------------------------------------------- errors
ERRORS = {
    "strategy": (lambda S, o: S.SWALR(o, 0.1, anneal_strategy="exp"), "SWALR: expected anneal_strategy"),
    "negative-epochs": (lambda S, o: S.SWALR(o, 0.1, anneal_epochs=-1), "SWALR: expected anneal_epochs"),
    "float-epochs": (lambda S, o: S.SWALR(o, 0.1, anneal_epochs=2.5), "SWALR: expected anneal_epochs"),
    "swa_lr-list": (lambda S, o: S.SWALR(o, [0.1, 0.2, 0.3]), "SWALR: expected one swa_lr per param group"),
    "ema-decay": (lambda S, o: S.get_ema_avg_fn(1.5), r"get_ema_avg_fn: expected decay in \[0, 1\]"),
    "ema-multi-decay": (lambda S, o: S.get_ema_multi_avg_fn(-0.1), "get_ema_multi_avg_fn: expected decay"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(torch, name):
    make, message = ERRORS[name]
    (opt_ours, _), (opt_theirs, _) = _sgd_pair(torch)
    with pytest.raises(Exception) as theirs:
        make(torch.optim.swa_utils, opt_theirs)
    with pytest.raises(theirs.type, match=message):
        make(swa_utils, opt_ours)


def test_averaged_model_refuses_two_rules(torch):
    S = torch.optim.swa_utils
    with pytest.raises(AssertionError):
        S.AveragedModel(
            torch.nn.Linear(1, 1), avg_fn=S.get_swa_avg_fn(), multi_avg_fn=S.get_swa_multi_avg_fn()
        )
    with pytest.raises(
        AssertionError, match="AveragedModel: expected at most one of avg_fn and multi_avg_fn"
    ):
        swa_utils.AveragedModel(
            gg.nn.Linear(1, 1),
            avg_fn=swa_utils.get_swa_avg_fn(),
            multi_avg_fn=swa_utils.get_swa_multi_avg_fn(),
        )


def test_public_names_match_torch(torch):
    assert sorted(swa_utils.__all__) == sorted(torch.optim.swa_utils.__all__)
    assert optim.swa_utils is swa_utils and "swa_utils" in optim.__all__
