"""``nn.grad.conv{1,2,3}d_{input,weight}``: PyTorch parity against the gradients of a real
convolution, float64 gradchecks (they are differentiable), and errors for sizes that do not fit."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError
from glassgrad.nn import grad as nn_grad

CASES = [
    # nd, (stride, padding, dilation, groups)
    (1, (3, 2, 1, 1)),
    (1, (1, 0, 2, 2)),
    (2, (1, 0, 1, 1)),
    (2, (2, 1, 1, 1)),
    (2, (2, 1, 2, 2)),
    (2, ((2, 1), (1, 0), (1, 2), 1)),
    (3, (2, 1, 1, 1)),
    (3, (1, (0, 1, 1), 1, 2)),
]


def _problem(nd, stride, padding, dilation, groups, torch):
    rng = np.random.default_rng(nd)
    n, c, o = 2, 4, 6
    size, kernel = (9, 8, 7)[:nd], (3, 2, 3)[:nd]
    x = rng.standard_normal((n, c, *size))
    w = rng.standard_normal((o, c // groups, *kernel))
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = conv(tx, tw, None, stride, padding, dilation, groups)
    go = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(go))
    return x, w, go, tx.grad.numpy(), tw.grad.numpy()


@pytest.mark.parametrize("nd, args", CASES)
def test_matches_the_gradients_of_pytorch_convolution(torch, nd, args):
    x, w, go, dx, dw = _problem(nd, *args, torch)
    ours_dx = getattr(nn_grad, f"conv{nd}d_input")(x.shape, gg.tensor(w), gg.tensor(go), *args)
    ours_dw = getattr(nn_grad, f"conv{nd}d_weight")(gg.tensor(x), w.shape, gg.tensor(go), *args)
    np.testing.assert_allclose(ours_dx.numpy(), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_dw.numpy(), dw, rtol=1e-10, atol=1e-12)
    theirs_dx = getattr(torch.nn.grad, f"conv{nd}d_input")(x.shape, torch.tensor(w), torch.tensor(go), *args)
    theirs_dw = getattr(torch.nn.grad, f"conv{nd}d_weight")(torch.tensor(x), w.shape, torch.tensor(go), *args)
    np.testing.assert_allclose(ours_dx.numpy(), theirs_dx.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_dw.numpy(), theirs_dw.numpy(), rtol=1e-10, atol=1e-12)


def test_spatial_input_size_and_float32(torch):
    x, w, go, dx, _ = _problem(2, 2, 1, 1, 1, torch)
    ours = nn_grad.conv2d_input(
        x.shape[2:], gg.tensor(w, dtype=gg.float32), gg.tensor(go, dtype=gg.float32), 2, 1
    )
    assert ours.dtype == gg.float32
    np.testing.assert_allclose(ours.numpy(), dx, rtol=1e-4, atol=1e-4)


def test_gradcheck_input_and_weight_functions():
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((4, 1, 2, 3)), requires_grad=True)
    go = gg.tensor(rng.standard_normal((2, 4, 3, 2)), requires_grad=True)
    kw = {"stride": (2, 1), "padding": (1, 0), "dilation": 1, "groups": 2}
    assert gradcheck(lambda w, go: nn_grad.conv2d_input(x.shape, w, go, **kw), (w, go))
    assert gradcheck(lambda x, go: nn_grad.conv2d_weight(x, w.shape, go, **kw), (x, go))


def test_sizes_that_do_not_fit_raise():
    x, w, go = gg.randn(1, 2, 6, 6), gg.randn(3, 2, 3, 3), gg.randn(1, 3, 4, 4)
    with pytest.raises(ShapeError, match="input_size"):
        nn_grad.conv2d_input((1, 2, 9, 6), w, go)
    with pytest.raises(ShapeError, match="input_size"):
        nn_grad.conv2d_input((1, 2, 6), w, go)
    with pytest.raises(ShapeError, match="grad_output"):
        nn_grad.conv2d_weight(x, w.shape, gg.randn(1, 3, 5, 5))
    with pytest.raises(ShapeError, match="weight_size"):
        nn_grad.conv2d_weight(x, (3, 1, 3, 3), go)
    with pytest.raises(ValueError, match="stride"):
        nn_grad.conv2d_weight(x, w.shape, go, stride=(1, 1, 1))
