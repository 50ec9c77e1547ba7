"""Round 66 (module_db): modules refuse bad arguments where and as PyTorch does.

PyTorch builds ``CrossEntropyLoss(label_smoothing=1.5)``, ``SmoothL1Loss(beta=-1)`` and
``HuberLoss(delta=0)`` and raises a RuntimeError at forward; ``LinearCrossEntropyLoss`` refuses
``label_smoothing`` outside [0, 1] at construction with a RuntimeError.
"""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn

CASES = [
    ("CrossEntropyLoss", {"label_smoothing": 1.5}, "classes"),
    ("SmoothL1Loss", {"beta": -1.0}, "same"),
    ("HuberLoss", {"delta": 0.0}, "same"),
    ("HuberLoss", {"delta": -2.0}, "same"),
]


def _operands(lib, kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    if kind == "classes":
        return lib.tensor(x), lib.tensor(np.array([0, 2, 3]))
    return lib.tensor(x), lib.tensor(rng.standard_normal((3, 4)))


@pytest.mark.parametrize(("name", "kwargs", "kind"), CASES)
def test_constructed_then_refused_at_forward(torch, name, kwargs, kind):
    theirs = getattr(torch.nn, name)(**kwargs)  # PyTorch builds it
    ours = getattr(nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    with pytest.raises(RuntimeError):
        theirs(*_operands(torch, kind))
    with pytest.raises(RuntimeError):
        ours(*_operands(gg, kind))


@pytest.mark.parametrize("smoothing", [1.5, -0.1])
def test_linear_cross_entropy_smoothing_refused_as_runtime_error(torch, smoothing):
    with pytest.raises(RuntimeError, match="label_smoothing"):
        torch.nn.LinearCrossEntropyLoss(4, 3, label_smoothing=smoothing)
    with pytest.raises(RuntimeError, match="label_smoothing"):
        nn.LinearCrossEntropyLoss(4, 3, label_smoothing=smoothing)


def test_cross_entropy_negative_smoothing_is_none(torch):
    # a negative label_smoothing is no smoothing in PyTorch, module and function alike
    x = np.random.default_rng(1).standard_normal((3, 4))
    t = np.array([1, 0, 3])
    a = torch.nn.CrossEntropyLoss(label_smoothing=-0.1)(torch.tensor(x), torch.tensor(t))
    b = nn.CrossEntropyLoss(label_smoothing=-0.1)(gg.tensor(x), gg.tensor(t))
    assert b.item() == pytest.approx(a.item(), rel=1e-12)


@pytest.mark.parametrize("delta", [1.0 + 0.0j, None, "1"])
def test_huber_delta_type_refused_at_construction(torch, delta):
    with pytest.raises(TypeError, match="delta must be a float or int"):
        torch.nn.HuberLoss(delta=delta)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta=delta)


@pytest.mark.parametrize("delta", [True, 2, 1.5, np.float64(0.5)])
def test_huber_delta_numbers_accepted(torch, delta):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a = torch.nn.HuberLoss(delta=delta)(torch.tensor(x), torch.tensor(y))
    b = nn.HuberLoss(delta=delta)(gg.tensor(x), gg.tensor(y))
    assert b.item() == pytest.approx(a.item(), rel=1e-12)


@pytest.mark.parametrize(("in1", "in2", "out"), [(0, 2, 3), (2, 0, 3), (2, 3, 0)])
def test_bilinear_zero_features_as_pytorch(torch, in1, in2, out):
    # PyTorch refuses in1_features = 0 (its init divides by sqrt(in1_features)); 0 elsewhere builds
    try:
        torch.nn.Bilinear(in1, in2, out)
    except ValueError as e:
        with pytest.raises(ValueError, match="in1_features must be > 0"):
            nn.Bilinear(in1, in2, out)
        assert "in1_features must be > 0" in str(e)
    else:
        m = nn.Bilinear(in1, in2, out)
        assert tuple(m.weight.shape) == (out, in1, in2)


def test_float16_avg_pool3d_and_margin_losses_run(torch):
    # PyTorch's CPU kernels refuse Half here (docs/design.md, deliberate differences); glassgrad
    # computes them, agreeing with PyTorch's float32 result to float16 rounding
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 4, 4)).astype(np.float16)
    with pytest.raises(NotImplementedError):
        torch.nn.AvgPool3d(2)(torch.tensor(x))
    ref = torch.nn.AvgPool3d(2)(torch.tensor(x).float()).numpy()
    out = nn.AvgPool3d(2)(gg.tensor(x))
    assert out.dtype == gg.float16
    np.testing.assert_allclose(out.numpy().astype(np.float32), ref, rtol=1e-3, atol=1e-3)
    s = rng.standard_normal((3, 5)).astype(np.float16)
    t = np.array([0, 4, 2])
    with pytest.raises(NotImplementedError):
        torch.nn.MultiMarginLoss()(torch.tensor(s), torch.tensor(t))
    ref = torch.nn.MultiMarginLoss()(torch.tensor(s).float(), torch.tensor(t)).item()
    got = nn.MultiMarginLoss()(gg.tensor(s), gg.tensor(t))
    assert got.dtype == gg.float16
    assert float(got.item()) == pytest.approx(ref, rel=2e-3)
