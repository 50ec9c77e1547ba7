"""Nothing lost, nothing half-done: fit never checkpoints non-finite weights, early stopping never
takes NaN as the best, resume works from any checkpoint the library writes (or says what is
missing), load_checkpoint is all or nothing, and an optimizer refuses another optimizer's state."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.optim as optim
from glassgrad import random as gg_random
from glassgrad.data import DataLoader, TensorDataset
from glassgrad.errors import CheckpointError
from glassgrad.serialization import load, save
from glassgrad.train import EarlyStopping, fit, load_checkpoint, save_checkpoint


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return TensorDataset(gg.tensor(X), gg.tensor(y))


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _finite(state) -> bool:
    return all(np.isfinite(v._data).all() for v in state.values())


class _PoisonedSGD(optim.SGD):
    """SGD whose update turns one weight into ``value`` at step ``at`` (finite loss and gradients)."""

    def __init__(self, params, at, value=np.nan):
        super().__init__(params, lr=0.01)
        self.at, self.value, self.steps = at, value, 0

    def step(self, closure=None):
        super().step(closure)
        self.steps += 1
        if self.steps == self.at:
            self.param_groups[0]["params"][2]._data[1, 3] = self.value  # '2.weight'


# ------------------------------------------------------------------ fit: no checkpoint of non-finite weights
@pytest.mark.parametrize("value, kind", [(np.nan, "nan"), (np.inf, "inf")])
def test_fit_stops_at_a_step_that_makes_weights_non_finite_and_keeps_the_last_good_file(
    tmp_path, value, kind
):
    model, path = _model(), tmp_path / "ckpt.safetensors"
    loader = DataLoader(_data(), batch_size=8)  # 4 steps per epoch: step 7 is in epoch 1
    opt = _PoisonedSGD(model.parameters(), at=7, value=value)
    with pytest.raises(FloatingPointError, match=rf"parameter '2\.weight' became {kind} .* epoch 1, step 2"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=3, checkpoint=path)
    kept = load(path)
    assert kept["epoch"] == 1 and _finite(kept["model"])


def test_fit_never_writes_non_finite_buffers_over_the_last_good_file(tmp_path):
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.register_buffer("seen", gg.zeros(1))

        def forward(self, x):
            self.seen._data += 1.0
            if self.seen._data[0] > 5:  # the second epoch (4 batches each)
                self.seen._data[0] = np.inf
            return self.fc(x)

    model, path = Counting(), tmp_path / "ckpt.safetensors"
    opt = optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(FloatingPointError, match=r"'seen' holds inf after epoch 1; not overwriting"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(_data(), batch_size=8), epochs=3, checkpoint=path)
    kept = load(path)
    assert kept["epoch"] == 1 and kept["model"]["seen"].tolist() == [4.0]


# ------------------------------------------------------------------ early stopping and NaN
def test_early_stopping_never_takes_nan_as_the_best():
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    with pytest.warns(RuntimeWarning, match="val_loss is nan at epoch 0; counted as no improvement"):
        assert not stopper.update(0, float("nan"), None)
    assert stopper.best is None and stopper.wait == 1
    assert not stopper.update(1, 0.5, None)  # a real value after the NaN is an improvement
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (0.5, 1, 0)
    with pytest.warns(RuntimeWarning):
        assert not stopper.update(2, float("nan"), None)
    assert stopper.best == 0.5
    with pytest.warns(RuntimeWarning):
        assert stopper.update(3, float("nan"), None)  # patience spent on NaNs: stop
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EarlyStopping(patience=1).update(0, 1.0, None)  # no warning for a number


# ------------------------------------------------------------------ resume from any checkpoint
def _fit(path, epochs, resume=None):
    gg.manual_seed(5)
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(_data(), batch_size=8, shuffle=True, generator=gg.Generator(1))
    return model, opt, loader, lambda: fit(model, nn.CrossEntropyLoss(), opt, loader, epochs, resume=resume)


def test_fit_resumes_from_save_checkpoint_without_history(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model, opt, loader, run = _fit(None, 2)
    run()
    save_checkpoint(path, model, opt, loader=loader, epoch=2)  # no history, no early_stopping
    resumed = _fit(None, 4, resume=path)[3]()
    full = _fit(None, 4)[3]()
    assert resumed.epochs == 2  # the epochs after the resume
    np.testing.assert_allclose(resumed.loss, full.loss[2:], rtol=1e-6)


def test_fit_resume_says_what_is_missing(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model, opt, loader, run = _fit(None, 1)
    save_checkpoint(path, model, opt, loader=loader)  # no epoch
    model, opt, loader, run = _fit(None, 3, resume=path)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(
        CheckpointError, match=r"fit: resume: .*ckpt\.safetensors: expected the number of epochs"
    ):
        run()
    assert all(np.array_equal(before[k]._data, v._data) for k, v in model.state_dict().items())
    save_checkpoint(path, model, None, loader=loader, epoch=1)  # no optimizer state
    with pytest.raises(
        CheckpointError, match=r"ckpt\.safetensors: expected a saved optimizer, the file has none"
    ):
        run()


# ------------------------------------------------------------------ load_checkpoint: all or nothing
def _objects(hidden=8, optimizer=optim.SGD, scheduler=optim.lr_scheduler.StepLR):
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    opt = optimizer(model.parameters(), lr=0.1, **({"momentum": 0.9} if optimizer is optim.SGD else {}))
    sched = scheduler(opt, 3) if scheduler is optim.lr_scheduler.StepLR else scheduler(opt, [2, 4])
    loader = DataLoader(_data(), batch_size=8, shuffle=True, generator=gg.Generator(3))
    return model, opt, sched, loader


def _snapshot(model, opt, sched, loader):
    return (
        {k: v._data.copy() for k, v in model.state_dict().items()},
        copy.deepcopy(opt.state_dict()),
        copy.deepcopy(sched.state_dict()),
        gg_random.get_rng_state(),
        loader.generator.get_state(),
    )


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, gg.Tensor | np.ndarray):
        return np.array_equal(np.asarray(getattr(a, "_data", a)), np.asarray(getattr(b, "_data", b)))
    return a == b


def _write(path, **change):
    model, opt, sched, loader = _objects(**change)
    for p in model.parameters():  # give the optimizer state: one step
        p.grad = gg.ones_like(p)
    opt.step()
    sched.step()
    save_checkpoint(path, model, opt, sched, loader, epoch=1)


def _corrupt_rng(path):
    _write(path)
    ckpt = load(path)
    assert ckpt["rng_state"].dtype == gg.uint8  # the state's bytes, as PyTorch's ByteTensor
    ckpt["rng_state"] = gg.tensor(list(b'{"state": {"state": "not a number", "inc": 1}}'), dtype=gg.uint8)
    save(ckpt, path)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: _write(p, hidden=5),
            r"model does not match the file: shape mismatch 0\.weight: expected \(8, 4\), got \(5, 4\)",
        ),
        (
            lambda p: _write(p, optimizer=optim.Adam),
            r"optimizer does not match the file: .*another optimizer type",
        ),
        (lambda p: _write(p, scheduler=optim.lr_scheduler.MultiStepLR), r"expected the state of a StepLR"),
        (_corrupt_rng, r"rng_state: expected a PCG64 state from get_state\(\)"),
    ],
    ids=["model", "optimizer", "scheduler", "rng"],
)
def test_load_checkpoint_checks_every_section_before_changing_anything(tmp_path, make, message):
    path = tmp_path / "ckpt.safetensors"
    make(path)
    gg.manual_seed(99)
    objects = _objects()
    for p in objects[0].parameters():  # state in the optimizer to be kept
        p.grad = gg.ones_like(p)
    objects[1].step()
    before = _snapshot(*objects)
    with pytest.raises(CheckpointError, match=message) as e:
        load_checkpoint(path, *objects)
    assert str(path) in str(e.value) and "_pcg64" not in str(e.value)
    assert _same(_snapshot(*objects), before)


def test_load_checkpoint_still_loads_a_file_that_fits(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    _write(path)
    objects = _objects()
    load_checkpoint(path, *objects)
    assert objects[2].last_epoch == 1 and len(objects[1].state) == 4


# ------------------------------------------------------------------ optimizer state of another type
def _state(cls, **kw):
    p = gg.ones(2, 3, requires_grad=True)
    opt = cls([p], lr=0.1, **kw)
    p.grad = gg.ones_like(p)
    opt.step()
    return opt.state_dict()


@pytest.mark.parametrize(
    "source, target",
    [
        (optim.SGD, optim.Adam),
        (optim.Adam, optim.SGD),
        (optim.RMSprop, optim.Adagrad),
        (optim.Adagrad, optim.RMSprop),
        (optim.Adam, optim.RMSprop),
    ],
)
def test_an_optimizer_refuses_another_optimizers_state(source, target):
    sd = _state(source, momentum=0.9) if source in (optim.SGD, optim.RMSprop) else _state(source)
    opt = target([gg.ones(2, 3, requires_grad=True)], lr=0.5)
    before = copy.deepcopy(opt.state_dict())
    with pytest.raises(ValueError, match=rf"{target.__name__}\.load_state_dict: .*another optimizer type"):
        opt.load_state_dict(sd)
    assert _same(opt.state_dict(), before)


def test_adam_and_adamw_share_their_state_as_in_pytorch():
    opt = optim.AdamW([gg.ones(2, 3, requires_grad=True)], lr=0.5)
    opt.load_state_dict(_state(optim.Adam))
    assert sorted(next(iter(opt.state.values()))) == ["exp_avg", "exp_avg_sq", "step"]


def test_an_optimizer_refuses_mismatched_param_groups():
    sd = _state(optim.SGD, momentum=0.9)
    two = optim.SGD([gg.ones(2, 3, requires_grad=True), gg.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="expected param group 0 with 2 params, got 1"):
        two.load_state_dict(sd)
    groups = optim.SGD(
        [{"params": [gg.ones(2, 3, requires_grad=True)]}, {"params": [gg.ones(1, requires_grad=True)]}],
        lr=0.1,
    )
    with pytest.raises(ValueError, match="expected 2 param groups, got 1"):
        groups.load_state_dict(sd)
    other_shape = optim.SGD([gg.ones(3, 2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"expected state 'momentum_buffer' of param 0 with shape \(3, 2\)"):
        other_shape.load_state_dict(sd)


# ------------------------------------------------------------------ corrupt RNG states
def test_a_corrupt_rng_state_is_a_clear_error():
    good = gg_random.rng_state_dict()
    junk = gg.tensor(list(b"\xff\x00 not json"), dtype=gg.uint8)
    bads = (None, {}, {**good, "bit_generator": "MT19937"}, {**good, "state": {"state": -1, "inc": 1}}, junk)
    for bad in (*bads, gg.ones(3)):
        with pytest.raises(ValueError, match=r"set_rng_state: expected a PCG64 state") as e:
            gg.set_rng_state(bad)
        assert "_pcg64" not in str(e.value) and ".pyx" not in str(e.value)
        with pytest.raises(ValueError, match=r"Generator\.set_state: expected a PCG64 state"):
            gg.Generator(0).set_state(bad)
    assert gg_random.rng_state_dict() == good  # unchanged
