"""Round 67 (PyTorch's test_pooling.py, re-created as differential cases): adaptive max pooling
(1-D to 3-D) and 3-D adaptive average pooling refuse a batch with no channels, as PyTorch's kernels
(they returned an empty result); max unpooling alerts under ``use_deterministic_algorithms(True)``,
as PyTorch's CPU kernels do (it ran)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

# (function, input shape, PyTorch raises): every dim but the first must be non-empty for adaptive
# max pooling and 3-D adaptive average pooling; 1-D/2-D adaptive average pooling takes any
EMPTY_CASES = [
    ("adaptive_max_pool1d", (0, 0, 5), True),
    ("adaptive_max_pool1d", (2, 0, 5), True),
    ("adaptive_max_pool1d", (0, 5), False),
    ("adaptive_max_pool2d", (1, 0, 5, 5), True),
    ("adaptive_max_pool2d", (0, 5, 5), False),
    ("adaptive_max_pool2d", (0, 4, 5, 5), False),
    ("adaptive_max_pool3d", (2, 0, 5, 5, 5), True),
    ("adaptive_max_pool3d", (0, 5, 5, 5), False),
    ("adaptive_avg_pool3d", (1, 0, 5, 5, 5), True),
    ("adaptive_avg_pool3d", (0, 5, 5, 5), False),
    ("adaptive_avg_pool2d", (1, 0, 5, 5), False),
    ("adaptive_avg_pool1d", (1, 0, 5), False),
]


@pytest.mark.parametrize(("fn", "shape", "raises"), EMPTY_CASES)
def test_adaptive_pool_empty_channels_as_torch(torch, fn, shape, raises):
    ours = getattr(gg.nn.functional, fn)
    theirs = getattr(torch.nn.functional, fn)
    if raises:
        with pytest.raises(RuntimeError, match="non-zero size for non-batch dimensions"):
            theirs(torch.zeros(shape), 2)
        with pytest.raises(RuntimeError, match="non-zero size for non-batch dimensions"):
            ours(gg.zeros(shape), 2)
    else:
        assert tuple(ours(gg.zeros(shape), 2).shape) == tuple(theirs(torch.zeros(shape), 2).shape)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_max_pool_module_refuses_empty_channels(nd):
    pool = getattr(gg.nn, f"AdaptiveMaxPool{nd}d")(3)
    with pytest.raises(RuntimeError, match="non-zero size"):
        pool(gg.randn(1, 0, *([6] * nd)))
    assert tuple(pool(gg.randn(0, 4, *([6] * nd))).shape) == (0, 4, *([3] * nd))  # an empty batch is fine


@pytest.fixture
def _deterministic():
    yield
    gg.use_deterministic_algorithms(False)


@pytest.mark.usefixtures("_deterministic")
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_alerts_in_deterministic_mode_as_torch(torch, nd):
    kernel = "max_unpooling3d_forward_out" if nd == 3 else "max_unpooling2d_forward_out"
    x = np.random.default_rng(nd).standard_normal((1, 2, *([4] * nd)))
    for lib in (torch, gg):
        F = lib.nn.functional
        y, i = getattr(F, f"max_pool{nd}d")(lib.tensor(x), 2, return_indices=True)
        lib.use_deterministic_algorithms(True)
        try:
            with pytest.raises(RuntimeError, match=kernel):
                getattr(F, f"max_unpool{nd}d")(y, i, 2)
            with pytest.raises(RuntimeError, match=kernel):
                getattr(lib.nn, f"MaxUnpool{nd}d")(2)(y, i)
        finally:
            lib.use_deterministic_algorithms(False)
        out = getattr(F, f"max_unpool{nd}d")(y, i, 2)  # and runs again once the mode is off
        assert tuple(out.shape) == x.shape


@pytest.mark.usefixtures("_deterministic")
def test_max_unpool_warn_only_warns_and_unpools():
    x = gg.tensor([[[1.0, 3.0, 2.0, 0.0]]])
    y, i = gg.nn.functional.max_pool1d(x, 2, return_indices=True)
    gg.use_deterministic_algorithms(True, warn_only=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = gg.nn.functional.max_unpool1d(y, i, 2)
    assert any("max_unpooling2d_forward_out" in str(w.message) for w in seen)
    assert out.tolist() == [[[0.0, 3.0, 2.0, 0.0]]]


@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_changed_indices_leave_the_gradient_the_poolings_own(torch, nd, adaptive):
    """Deliberate difference (docs/design.md): PyTorch refuses the second backward; glassgrad's
    gradient never reads the returned indices, so it is still the pooling's gradient."""
    name = f"{'Adaptive' if adaptive else ''}MaxPool{nd}d"
    x = np.random.default_rng(nd).standard_normal((2, 2, *([4] * nd)))
    xt = torch.tensor(x, requires_grad=True)
    out_t, _ = getattr(torch.nn, name)(2, return_indices=True)(xt)
    out_t.backward(torch.ones_like(out_t))
    xg = gg.tensor(x, requires_grad=True)
    out, idx = getattr(gg.nn, name)(2, return_indices=True)(xg)
    out.backward(gg.ones_like(out), retain_graph=True)
    idx.add_(1)
    out.backward(gg.ones_like(out))
    np.testing.assert_array_equal(xg.grad.numpy(), 2 * xt.grad.numpy())
