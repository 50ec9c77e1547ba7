"""F.mse_loss, l1_loss, smooth_l1_loss, huber_loss, kl_div: PyTorch parity (values and gradients
w.r.t. input and target, float32 and float64, every reduction and option) and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from tests.nn.test_functional_parity import DTYPES, REDUCTIONS, Const, check

SHAPES = [(), (7,), (4, 3), (2, 3, 4)]


def _pair(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    y = rng.standard_normal(shape) * 2
    if x.size > 2:
        y.flat[0] = x.flat[0]  # a zero difference: l1's gradient there is 0, as in PyTorch
        y.flat[1] = x.flat[1] + 0.5  # exactly |d| = 0.5, the smooth/huber switch for beta 0.5
    return x, y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("smooth_l1_loss", {"beta": 3.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.5}),
        ("huber_loss", {"delta": 2.5}),
    ],
)
def test_regression_loss_parity(torch, dtype, reduction, shape, name, kwargs):
    TF = torch.nn.functional
    x, y = _pair(shape)
    kw = dict(kwargs, reduction=reduction)
    check(
        lambda a, b: getattr(F, name)(a, b, **kw),
        lambda a, b: getattr(TF, name)(a, b, **kw),
        x,
        y,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_loss_parity(torch, dtype, reduction, name):
    """PyTorch's weighted 'mean' is sum(w l) / sum(w) for mse/l1 but mean(w l) for huber."""
    TF = torch.nn.functional
    x, y = _pair((4, 3), seed=1)
    w = np.random.default_rng(2).uniform(0.1, 2.0, (4, 3))
    kw = dict(reduction=reduction)
    check(
        lambda a, b, w: getattr(F, name)(a, b, weight=w, **kw),
        lambda a, b, w: getattr(TF, name)(a, b, weight=w, **kw),
        x,
        y,
        Const(w),
        dtype=dtype,
    )


@pytest.mark.filterwarnings("ignore:.*'mean' divides:UserWarning")  # torch's and ours (tested below)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_kl_div_parity(torch, dtype, reduction, log_target, shape):
    TF = torch.nn.functional
    rng = np.random.default_rng(3)
    logq = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    p.flat[0] = 0.0  # a zero target probability contributes 0, not nan
    target = np.log(p + 1e-3) if log_target else p
    kw = dict(reduction=reduction, log_target=log_target)
    with np.errstate(all="raise"):
        check(
            lambda a, b: F.kl_div(a, b, **kw),
            lambda a, b: TF.kl_div(a, b, **kw),
            logq,
            target if log_target else Const(target),
            dtype=dtype,
        )


def test_kl_div_of_equal_distributions_is_zero():
    p = gg.tensor([[0.2, 0.3, 0.5]])
    assert abs(F.kl_div(p.log(), p, reduction="batchmean").item()) < 1e-7


def test_losses_run_in_float32_by_default():
    out = F.mse_loss(gg.randn(3, requires_grad=True), gg.randn(3))
    assert out.dtype == gg.float32 and out.requires_grad


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"])
def test_shape_mismatch_is_an_error_not_a_broadcast(name):
    x, y = gg.randn(4, 1), gg.randn(4)
    with pytest.raises(
        ShapeError,
        match=rf"{name}: expected target of the same shape as input, got input \(4, 1\) and target \(4,\)",
    ):
        getattr(F, name)(x, y)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_broadcastable_target_with_reduction_none_broadcasts_as_pytorch(torch, name):
    # tianshou's quantile Huber loss: (N, 1, Q) against (N, Q, 1) -> (N, Q, Q), with PyTorch's warning
    x = np.random.default_rng(0).standard_normal((2, 1, 3))
    t = np.random.default_rng(1).standard_normal((2, 3, 1))
    grads = []
    for M in (torch, gg):
        a = M.tensor(x, requires_grad=True)
        with pytest.warns(UserWarning, match="Using a target size .* that is different to the input size"):
            y = getattr(M.nn.functional, name)(a, M.tensor(t), reduction="none")
        assert tuple(y.shape) == (2, 3, 3)
        (y * M.linspace(0.5, 1.5, 18, dtype=M.float64).reshape(2, 3, 3)).sum().backward()
        grads.append((np.array(y.tolist()), np.array(a.grad.tolist())))
    for ours, theirs in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    with pytest.raises(ShapeError, match="taken with reduction='none' only"):  # reduced: still refused
        getattr(F, name)(gg.tensor(x), gg.tensor(t))
    with pytest.raises(ShapeError):  # not broadcastable
        getattr(F, name)(gg.zeros(2, 3), gg.zeros(2, 4), reduction="none")


def test_loss_option_errors():
    x, y = gg.randn(3), gg.randn(3)
    with pytest.raises(
        ValueError, match=r"mse_loss: expected reduction in \('none', 'mean', 'sum'\), got 'avg'"
    ):
        F.mse_loss(x, y, reduction="avg")
    with pytest.raises(ValueError, match="kl_div: expected reduction"):
        F.kl_div(x, y, reduction="batch")
    with pytest.raises(ValueError, match="smooth_l1_loss: expected beta >= 0, got -1"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: expected delta > 0, got 0"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(
        ShapeError,
        match=r"mse_loss: expected weight of the same shape as input, got input \(3,\) and weight \(1,\)",
    ):
        F.mse_loss(x, y, weight=gg.ones(1))


def test_kl_div_warns_for_its_mean_reduction_as_pytorch(torch):
    x = np.log(np.full((3, 4), 0.25, np.float32))
    y = np.full((3, 4), 0.25, np.float32)
    for lib in (gg, torch):
        for call in (
            lambda: lib.nn.functional.kl_div(lib.tensor(x), lib.tensor(y)),
            lambda: lib.nn.KLDivLoss()(lib.tensor(x), lib.tensor(y)),
        ):
            with pytest.warns(UserWarning, match="'mean'"):
                call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.nn.functional.kl_div(lib.tensor(x), lib.tensor(y), reduction="batchmean")


def test_multilabel_soft_margin_loss_takes_a_number_as_weight(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    y = (x > 0).astype(np.float32)
    ours = F.multilabel_soft_margin_loss(gg.tensor(x), gg.tensor(y), weight=2.0)
    theirs = torch.nn.functional.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor(y), weight=2.0)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
