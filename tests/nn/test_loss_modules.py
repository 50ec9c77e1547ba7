"""Loss modules against PyTorch: constructor arguments, buffers, reprs, outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn

RNG = np.random.default_rng(2)
REDUCTIONS = ["mean", "sum", "none"]


def f32(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return RNG.uniform(low, high, shape).astype(np.float32)


def check(ours, theirs, input_: np.ndarray, target: np.ndarray, target_grad: bool = False, tol: float = 1e-5):
    """Same loss and same gradients (input, and target when ``target_grad``) in both libraries."""
    torch = pytest.importorskip("torch")
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    gi = gg.tensor(input_, requires_grad=True)
    ti = torch.tensor(input_, requires_grad=True)
    float_target = target.dtype.kind == "f"
    gt = gg.tensor(target, requires_grad=target_grad and float_target)
    tt = torch.tensor(target, requires_grad=target_grad and float_target)
    out, tout = ours(gi, gt), theirs(ti, tt)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol, rtol=tol)
    upstream = RNG.standard_normal(out.shape).astype(np.float32)
    out.backward(gg.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(gi.grad._data, ti.grad.numpy(), atol=tol, rtol=tol)
    if target_grad and float_target:
        np.testing.assert_allclose(gt.grad._data, tt.grad.numpy(), atol=tol, rtol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {}),
     ("HuberLoss", {"delta": 0.3})],
)  # fmt: skip
def test_regression_losses(torch, name, kwargs, reduction):
    ours = getattr(nn, name)(reduction=reduction, **kwargs)
    theirs = getattr(torch.nn, name)(reduction=reduction, **kwargs)
    check(ours, theirs, f32(4, 5), f32(4, 5), target_grad=True)
    check(ours, theirs, f32(3), f32(3), target_grad=True)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's notice
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_loss(torch, reduction, log_target):
    ours = nn.KLDivLoss(reduction=reduction, log_target=log_target)
    theirs = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)
    logp = torch.log_softmax(torch.from_numpy(f32(4, 6)), -1).numpy()
    q = torch.softmax(torch.from_numpy(f32(4, 6)), -1).numpy()
    check(ours, theirs, logp, np.log(q) if log_target else q, target_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss(torch, reduction, weighted):
    w = f32(3, 4, low=0.1, high=2.0) if weighted else None
    ours = nn.BCELoss(weight=None if w is None else gg.tensor(w), reduction=reduction)
    theirs = torch.nn.BCELoss(weight=None if w is None else torch.from_numpy(w), reduction=reduction)
    probs = f32(3, 4, low=0.02, high=0.98)
    target = RNG.integers(0, 2, (3, 4)).astype(np.float32)
    target[0, :2] = [0.3, 0.8]  # soft targets too
    check(ours, theirs, probs, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("weighted", "pos"), [(False, False), (True, False), (False, True), (True, True)])
def test_bce_with_logits_loss(torch, reduction, weighted, pos):
    w = f32(4, low=0.1, high=2.0) if weighted else None
    pw = f32(4, low=0.5, high=3.0) if pos else None
    ours = nn.BCEWithLogitsLoss(
        weight=None if w is None else gg.tensor(w),
        reduction=reduction,
        pos_weight=None if pw is None else gg.tensor(pw),
    )
    theirs = torch.nn.BCEWithLogitsLoss(
        weight=None if w is None else torch.from_numpy(w),
        reduction=reduction,
        pos_weight=None if pw is None else torch.from_numpy(pw),
    )
    logits = f32(5, 4, low=-6.0, high=6.0)
    logits[0, :2] = [-40.0, 40.0]  # stable at large |x|
    check(ours, theirs, logits, RNG.integers(0, 2, (5, 4)).astype(np.float32))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_nll_loss(torch, reduction, weighted, ignore_index):
    w = f32(5, low=0.2, high=2.0) if weighted else None
    ours = nn.NLLLoss(
        weight=None if w is None else gg.tensor(w), ignore_index=ignore_index, reduction=reduction
    )
    theirs = torch.nn.NLLLoss(
        weight=None if w is None else torch.from_numpy(w), ignore_index=ignore_index, reduction=reduction
    )
    logp = torch.log_softmax(torch.from_numpy(f32(6, 5)), 1).numpy()
    target = np.array([0, 1, 4, 1, 3, 2], dtype=np.int64)
    check(ours, theirs, logp, target)
    logp3 = torch.log_softmax(torch.from_numpy(f32(2, 5, 3)), 1).numpy()  # (N, C, d1)
    check(ours, theirs, logp3, RNG.integers(0, 5, (2, 3)).astype(np.int64))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"label_smoothing": 0.1},
        {"ignore_index": 2},
        {"weight": True},
        {"weight": True, "label_smoothing": 0.2},
    ],
)
def test_cross_entropy_loss_with_class_ids(torch, reduction, kwargs):
    kwargs = dict(kwargs)
    w = f32(4, low=0.2, high=2.0) if kwargs.pop("weight", False) else None
    ours = nn.CrossEntropyLoss(weight=None if w is None else gg.tensor(w), reduction=reduction, **kwargs)
    theirs = torch.nn.CrossEntropyLoss(
        weight=None if w is None else torch.from_numpy(w), reduction=reduction, **kwargs
    )
    logits = f32(6, 4, low=-5, high=5)
    logits[0] = [100.0, -100.0, 50.0, 0.0]  # large logits: log-softmax must stay finite
    check(ours, theirs, logits, np.array([0, 1, 2, 3, 2, 1], dtype=np.int64))
    check(ours, theirs, f32(2, 4, 3), RNG.integers(0, 4, (2, 3)).astype(np.int64))  # (N, C, d1)
    check(ours, theirs, f32(4), np.array(3, dtype=np.int64))  # unbatched (C,)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
def test_cross_entropy_loss_with_probabilities(torch, reduction, label_smoothing):
    ours = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    probs = torch.softmax(torch.from_numpy(f32(5, 3)), 1).numpy()
    check(ours, theirs, f32(5, 3), probs)


def test_loss_constructor_validation_and_buffers():
    with pytest.raises(
        ValueError, match=r"MSELoss: expected reduction in \('none', 'mean', 'sum'\), got 'avg'"
    ):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="batchmean"):
        nn.L1Loss(reduction="batchmean")
    # PyTorch builds these and refuses the argument at forward (round 66)
    x, t = gg.zeros(2, 3), gg.tensor([0, 1])
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)(x, t)
    with pytest.raises(ValueError, match="delta > 0"):
        nn.HuberLoss(delta=0.0)(x, x)
    ce = nn.CrossEntropyLoss(weight=gg.tensor([1.0, 2.0]))
    assert list(ce.state_dict()) == ["weight"] and ce.weight.tolist() == [1.0, 2.0]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=gg.tensor([3.0]))
    assert list(bce.state_dict()) == ["pos_weight"]
    assert nn.NLLLoss(weight=np.array([1.0, 2.0], np.float32)).weight.tolist() == [1.0, 2.0]


def test_legacy_size_average_and_reduce_map_to_reduction():
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.NLLLoss(None, True).reduction == "mean"


def test_loss_module_in_a_training_step():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    loss_fn = nn.CrossEntropyLoss()
    x = gg.tensor(f32(8, 3))
    y = gg.tensor(RNG.integers(0, 2, 8).astype(np.int64))
    loss = loss_fn(model(x), y)
    assert loss.shape == () and loss.requires_grad
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
