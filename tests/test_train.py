"""fit / evaluate / accuracy / checkpoints: the loop equals a hand-written one, and resumes exactly."""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.optim as optim
from glassgrad.data import DataLoader, TensorDataset
from glassgrad.errors import CheckpointError
from glassgrad.serialization import load, save
from glassgrad.train import (
    Callback,
    EarlyStopping,
    History,
    StopTraining,
    accuracy,
    evaluate,
    fit,
    load_checkpoint,
    save_checkpoint,
)


# ------------------------------------------------------------------------------------ accuracy
def test_accuracy_multiclass_and_binary():
    logits = gg.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    assert accuracy(logits, gg.tensor([0, 1, 1, 0])) == 0.75
    probs = gg.tensor([[0.9], [0.2], [0.6], [0.4]])
    assert accuracy(probs, gg.tensor([[1.0], [0.0], [0.0], [0.0]])) == 0.75
    logit = gg.tensor([3.0, -1.0, 0.5, -0.2])  # outside [0, 1]: thresholded at 0
    assert accuracy(logit, gg.tensor([1.0, 0.0, 1.0, 0.0])) == 1.0
    with pytest.raises(ValueError, match="target"):
        accuracy(logits, gg.tensor([0, 1]))
    with pytest.raises(ValueError):
        accuracy(probs, gg.tensor([1.0, 0.0]))


def test_accuracy_matches_torch_argmax():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    out, tgt = rng.standard_normal((50, 7)).astype(np.float32), rng.integers(0, 7, 50)
    ref = (torch.tensor(out).argmax(1) == torch.tensor(tgt)).float().mean().item()
    assert accuracy(gg.tensor(out), gg.tensor(tgt)) == pytest.approx(ref)


# ------------------------------------------------------------------------------------ helpers
def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5).astype(np.int64)  # 3 classes
    return TensorDataset(gg.tensor(X), gg.tensor(y))


def _model(dropout=0.0):
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


# ------------------------------------------------------------------------------------ fit
def test_fit_equals_a_hand_written_loop():
    ds = _data()
    gg.manual_seed(1)
    model = _model(dropout=0.2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=16, shuffle=True), epochs=3)

    gg.manual_seed(1)
    ref = _model(dropout=0.2)
    ref_opt = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    loss_fn, losses = nn.CrossEntropyLoss(), []
    loader = DataLoader(ds, batch_size=16, shuffle=True)
    for _ in range(3):
        ref.train()
        total, n = 0.0, 0
        for x, y in loader:
            ref_opt.zero_grad()
            loss = loss_fn(ref(x), y)
            loss.backward()
            ref_opt.step()
            total, n = total + loss.item() * len(y), n + len(y)
        losses.append(total / n)
    assert hist.loss == losses
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a._data, b._data)


def test_history_records_everything():
    ds = _data()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=20), epochs=5,
               val_loader=DataLoader(ds, batch_size=60), scheduler=sched, metrics={"acc": accuracy})  # fmt: skip
    assert isinstance(hist, History) and hist.epochs == 5
    assert hist.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert len(hist.val_loss) == 5 and sorted(hist.metrics) == ["acc", "val_acc"]
    assert all(g > 0 for g in hist.grad_norm) and len(hist.epoch_time) == 5
    assert hist.loss[-1] < hist.loss[0]
    # val metrics equal an explicit evaluation of the final model
    final = evaluate(model, nn.CrossEntropyLoss(), DataLoader(ds, batch_size=7), {"acc": accuracy})
    assert final["loss"] == pytest.approx(hist.val_loss[-1], rel=1e-5)
    assert final["acc"] == pytest.approx(hist.metrics["val_acc"][-1])
    assert "History(5 epochs" in repr(hist)


def test_grad_norm_is_before_clipping_and_clipping_matches_manual():
    ds = _data()
    gg.manual_seed(0)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.5)
    hist = fit(
        model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=2, clip_grad_norm=0.01
    )
    gg.manual_seed(0)
    ref = _model()
    ref_opt = optim.SGD(ref.parameters(), lr=0.5)
    norms = []
    for _ in range(2):
        for x, y in DataLoader(ds, batch_size=60):
            ref_opt.zero_grad()
            nn.CrossEntropyLoss()(ref(x), y).backward()
            norms.append(nn.utils.clip_grad_norm_(ref.parameters(), 0.01).item())
            ref_opt.step()
    assert hist.grad_norm == pytest.approx(norms, rel=1e-6) and min(norms) > 0.01
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a._data, b._data)


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    ds, val = _data(), _data(seed=1)

    class ReduceLROnPlateau:  # a recorder, recognised by its name as fit does
        def __init__(self):
            self.got = []

        def step(self, metric):
            self.got.append(metric)

    rec = ReduceLROnPlateau()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=3,
               val_loader=DataLoader(val, batch_size=60), scheduler=rec)  # fmt: skip
    assert rec.got == hist.val_loss and hist.val_loss != hist.loss

    opt = optim.SGD(model.parameters(), lr=1e-7)  # too small to improve the loss
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=3,
               val_loader=DataLoader(val, batch_size=60), scheduler=sched)  # fmt: skip
    assert hist.lr == pytest.approx([1e-7, 1e-7, 5e-8])  # epoch 0 sets the best; epoch 1 does not beat it


def test_early_stopping_stops_and_restores_best():
    ds = _data()
    gg.manual_seed(0)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.0)  # the loss never improves after epoch 0
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=50,
               val_loader=DataLoader(ds, batch_size=60), early_stopping=3)  # fmt: skip
    assert hist.epochs == 4 and hist.stopped_early and hist.best_epoch == 0
    with pytest.raises(ValueError, match="val_loader"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=2, early_stopping=2)

    gg.manual_seed(0)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=5.0)  # too large: the train loss jumps around
    stopper = EarlyStopping(monitor="acc", patience=2, restore_best_weights=True)
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=10), epochs=30,
               metrics={"acc": accuracy}, early_stopping=stopper)  # fmt: skip
    assert stopper.mode == "max" and stopper.best == max(hist.metrics["acc"])
    np.testing.assert_array_equal(model.state_dict()["0.weight"]._data, stopper.best_state["0.weight"]._data)


def test_callbacks_and_stop_training():
    ds = _data()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    class Counter(Callback):
        def __init__(self):
            self.batches, self.begun, self.ended = 0, [], False

        def on_epoch_begin(self, epoch, logs):
            self.begun.append(epoch)

        def on_batch_end(self, step, logs):
            self.batches += 1

        def on_train_end(self, logs):
            self.ended = True

    def stop_after_two(epoch, logs):
        seen.append((epoch, round(logs["loss"], 6)))
        if epoch == 1:
            raise StopTraining

    counter = Counter()
    hist = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=20), epochs=10,
               callbacks=[counter, stop_after_two])  # fmt: skip
    assert hist.epochs == 2 and hist.stopped_early
    assert counter.begun == [0, 1] and counter.batches == 6 and counter.ended
    assert [e for e, _ in seen] == [0, 1]


def test_fit_errors():
    ds = _data()
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(FloatingPointError, match="loss became"), np.errstate(all="ignore"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=60), epochs=30)
    with pytest.raises(TypeError, match=r"\(inputs..., target\)"):
        fit(model, nn.CrossEntropyLoss(), opt, [gg.zeros(2, 4)], epochs=1)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, nn.CrossEntropyLoss(), opt, [], epochs=1)
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(model, nn.CrossEntropyLoss(), opt, [], epochs=1, scheduler_interval="batch")


def test_non_finite_loss_stops_before_the_step_so_the_weights_stay_finite():
    # The second batch holds an inf input: its loss is nan. fit must raise before stepping with
    # that loss's gradients, so the model keeps the (finite) weights after the first step.
    ds = _data(40)
    X, y = ds.tensors
    X._data[30, 0] = np.inf
    gg.manual_seed(0)
    model = _model()
    ref = _model()
    ref.load_state_dict(model.state_dict())
    opt, ref_opt = optim.SGD(model.parameters(), lr=0.1), optim.SGD(ref.parameters(), lr=0.1)
    with (
        pytest.raises(FloatingPointError, match="loss became nan at epoch 0, step 1"),
        np.errstate(all="ignore"),
    ):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(ds, batch_size=20), epochs=1)
    ref_opt.zero_grad()
    nn.CrossEntropyLoss()(ref(X[:20]), y[:20]).backward()
    ref_opt.step()
    for (name, p), q in zip(model.state_dict().items(), ref.state_dict().values(), strict=True):
        assert np.isfinite(p.numpy()).all(), name
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_non_finite_gradient_stops_before_the_step():
    gg.manual_seed(0)
    model = _model()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    model[0].weight.register_hook(lambda g: g * float("inf"))  # finite loss, inf/nan gradient
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="gradient norm became"), np.errstate(all="ignore"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(_data(), batch_size=20), epochs=1)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    # huge but finite gradients whose float32 norm overflows are not an error
    model = _model()
    model[0].weight.register_hook(lambda g: g * np.float32(1e25))
    with np.errstate(over="ignore"):
        hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0),
                   DataLoader(_data(), batch_size=20), epochs=1)  # fmt: skip
    assert hist.grad_norm == [np.inf]


def test_evaluate_restores_training_mode():
    model = _model(dropout=0.5)
    model.train()
    evaluate(model, nn.CrossEntropyLoss(), DataLoader(_data(), batch_size=30))
    assert model.training
    model.eval()
    evaluate(model, None, DataLoader(_data(), batch_size=30), {"acc": accuracy})
    assert not model.training


def test_progress_bar(capsys):
    pytest.importorskip("tqdm")
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, DataLoader(_data(), batch_size=60), epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err
    fit(model, nn.CrossEntropyLoss(), opt, DataLoader(_data(), batch_size=60), epochs=2)  # not a TTY: silent
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------------------------ resume
def _run(ds, epochs, *, generator_seed=None, checkpoint=None, resume=None, scheduler=True):
    """Fresh objects; the model's init draws from the global RNG seeded here."""
    gg.manual_seed(123)
    model = _model(dropout=0.3)  # dropout draws from the global RNG every step
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9) if scheduler else None
    gen = None if generator_seed is None else gg.Generator(generator_seed)
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=gen)
    hist = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs, scheduler=sched,
               checkpoint=checkpoint, resume=resume, metrics={"acc": accuracy})  # fmt: skip
    return hist, model


@pytest.mark.parametrize("generator_seed", [None, 7])
def test_resume_from_checkpoint_gives_identical_losses(tmp_path, generator_seed):
    ds = _data(50)
    full, full_model = _run(ds, 6, generator_seed=generator_seed)
    path = tmp_path / "ckpt.safetensors"
    first, _ = _run(ds, 3, generator_seed=generator_seed, checkpoint=path)
    assert first.loss == full.loss[:3]
    gg.manual_seed(999)  # disturb the global RNG: the checkpoint's state must win
    resumed, resumed_model = _run(ds, 6, generator_seed=generator_seed, checkpoint=path, resume=path)
    assert resumed.loss == full.loss  # exact equality, epochs 3-5 included
    assert resumed.lr == full.lr and resumed.metrics == full.metrics
    for a, b in zip(full_model.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    ckpt = load(path)
    assert ckpt["epoch"] == 6 and set(ckpt["model"]) == set(full_model.state_dict())
    assert len(ckpt["loader_generators"]) == (0 if generator_seed is None else 1)


def test_resume_true_starts_fresh_without_a_file(tmp_path):
    ds = _data(30)
    a, _ = _run(ds, 2)
    b, _ = _run(ds, 2, checkpoint=tmp_path / "none.safetensors", resume=True)
    assert a.loss == b.loss and os.path.exists(tmp_path / "none.safetensors")
    c, _ = _run(ds, 3, checkpoint=tmp_path / "none.safetensors", resume=True)
    assert c.loss[:2] == a.loss and len(c.loss) == 3


def test_manual_loop_resume_with_save_and_load_checkpoint(tmp_path):
    """A plain PyTorch-style loop: N steps, save, FRESH objects, load, continue == uninterrupted."""
    ds = _data(40)

    def make():
        model = _model(dropout=0.25)
        opt = optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.01)
        sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
        loader = DataLoader(ds, batch_size=8, shuffle=True, generator=gg.Generator(3))
        return model, opt, sched, loader

    def epoch(model, opt, sched, loader):
        out = []
        for x, y in loader:
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(x), y)
            loss.backward()
            opt.step()
            out.append(loss.item())
        sched.step()
        return out

    gg.manual_seed(5)
    objs = make()
    straight = [epoch(*objs) for _ in range(4)]

    gg.manual_seed(5)
    objs = make()
    part = [epoch(*objs) for _ in range(2)]
    save_checkpoint(tmp_path / "c.safetensors", *objs, epoch=2, note="half way")
    gg.manual_seed(42)  # fresh objects built from a different seed
    fresh = make()
    ckpt = load_checkpoint(tmp_path / "c.safetensors", *fresh)
    assert ckpt["epoch"] == 2 and ckpt["note"] == "half way"
    rest = [epoch(*fresh) for _ in range(2)]
    assert part + rest == straight


def test_load_checkpoint_errors(tmp_path):
    model, opt = _model(), None
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "missing", model)
    save({"a": gg.ones(1)}, tmp_path / "x")
    with pytest.raises(CheckpointError, match="save_checkpoint"):
        load_checkpoint(tmp_path / "x", model)
    save_checkpoint(tmp_path / "m", model)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="optimizer"):
        load_checkpoint(tmp_path / "m", model, opt)
    loader = DataLoader(_data(), batch_size=4, shuffle=True, generator=gg.Generator(0))
    with pytest.raises(CheckpointError, match="generator"):
        load_checkpoint(tmp_path / "m", model, loader=loader)
