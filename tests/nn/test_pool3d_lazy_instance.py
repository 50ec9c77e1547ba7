"""The 3-D pooling leftovers (``lp_pool3d``/``LPPool3d``, ``max_unpool3d``/``MaxUnpool3d``), the
``*_with_indices`` spellings, ``LazyInstanceNorm1d/2d/3d``, ``NLLLoss2d`` and ``F.grad``, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

RNG = np.random.default_rng(5)


def _both(torch, x):
    return gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize(
    "p,kernel,stride,ceil,shape",
    [(2, 2, None, False, (2, 3, 4, 6, 6)), (3.0, (2, 3, 3), 1, False, (1, 2, 3, 5, 4)),
     (2, 3, 2, True, (2, 1, 5, 5, 7)), (1.5, 2, None, False, (3, 4, 4, 4))],
)  # fmt: skip
def test_lp_pool3d_matches_torch(torch, p, kernel, stride, ceil, shape):
    x = np.abs(RNG.standard_normal(shape)) + 0.1  # positive: x^p is defined for fractional p
    g, t = _both(torch, x)
    got = F.lp_pool3d(g, p, kernel, stride, ceil)
    want = torch.nn.functional.lp_pool3d(t, p, kernel, stride, ceil)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    w = RNG.standard_normal(tuple(want.shape))
    (got * gg.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    module = gg.nn.LPPool3d(p, kernel, stride, ceil)
    assert repr(module) == repr(torch.nn.LPPool3d(p, kernel, stride, ceil))
    np.testing.assert_allclose(module(gg.tensor(x)).numpy(), want.detach().numpy(), rtol=1e-12)


def test_lp_pool3d_inf_is_max_of_abs():
    x = gg.tensor(RNG.standard_normal((1, 1, 2, 2, 2)))
    assert F.lp_pool3d(x, float("inf"), 2).item() == pytest.approx(np.abs(x.numpy()).max())


@pytest.mark.parametrize("output_size", [None, (5, 7, 7)])
def test_max_pool3d_with_indices_and_unpool_match_torch(torch, output_size):
    x = RNG.standard_normal((2, 3, 4, 6, 6))
    g, t = _both(torch, x)
    gy, gi = F.max_pool3d_with_indices(g, 2)
    ty, ti = torch.nn.functional.max_pool3d_with_indices(t, 2)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    gu = F.max_unpool3d(gy, gi, 2, output_size=output_size)
    tu = torch.nn.functional.max_unpool3d(ty, ti, 2, output_size=output_size)
    np.testing.assert_array_equal(gu.detach().numpy(), tu.detach().numpy())
    w = RNG.standard_normal(tuple(tu.shape))
    (gu * gg.tensor(w)).sum().backward()
    (tu * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-14)
    module = gg.nn.MaxUnpool3d(2)
    assert repr(module) == repr(torch.nn.MaxUnpool3d(2))
    np.testing.assert_array_equal(module(gy, gi).detach().numpy(), F.max_unpool3d(gy, gi, 2).detach().numpy())


def test_max_unpool3d_unbatched_and_bad_indices():
    y, i = F.max_pool3d(gg.randn(2, 4, 4, 4), 2, return_indices=True)
    assert F.max_unpool3d(y, i, 2).shape == (2, 4, 4, 4)
    with pytest.raises(RuntimeError, match="max_unpool3d: expected indices in"):
        F.max_unpool3d(y, i + 100, 2)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_with_indices_spellings_match_torch(torch, nd):
    x = RNG.standard_normal((2, 3) + (5,) * nd)
    for name, args in ((f"max_pool{nd}d_with_indices", (2,)), (f"adaptive_max_pool{nd}d_with_indices", (3,))):
        got = getattr(F, name)(gg.tensor(x), *args, return_indices=False)  # always both, as PyTorch
        want = getattr(torch.nn.functional, name)(torch.tensor(x), *args, return_indices=False)
        assert len(got) == len(want) == 2
        np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_lazy_instance_norm_matches_torch(torch, nd):
    x = RNG.standard_normal((2, 3) + (4,) * nd).astype(np.float32)  # the placeholders' dtype
    g = getattr(gg.nn, f"LazyInstanceNorm{nd}d")()
    t = getattr(torch.nn, f"LazyInstanceNorm{nd}d")()
    assert repr(g) == repr(t)  # PyTorch's defaults: affine and tracked statistics
    np.testing.assert_allclose(
        g(gg.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert type(g).__name__ == type(t).__name__ == f"InstanceNorm{nd}d"
    assert repr(g) == repr(t)
    np.testing.assert_allclose(g.running_mean.numpy(), t.running_mean.numpy(), rtol=1e-6, atol=1e-7)
    assert g.weight.shape == tuple(t.weight.shape) == (3,)


def test_lazy_instance_norm_unbatched_and_nothing_to_learn():
    m = gg.nn.LazyInstanceNorm2d()
    assert m(gg.randn(5, 4, 4)).shape == (5, 4, 4)  # (C, H, W): C = 5
    assert m.weight.shape == (5,)
    m = gg.nn.LazyInstanceNorm1d(affine=False, track_running_stats=False)
    with pytest.warns(UserWarning, match="num_features does not match"):
        m(gg.randn(2, 3, 4))
    assert m.num_features == 0 and type(m).__name__ == "InstanceNorm1d"  # as PyTorch's


def test_nll_loss_2d_warns_and_is_nll_loss(torch):
    x = RNG.standard_normal((2, 3, 4, 4))
    y = RNG.integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):  # PyTorch's opening
        loss = gg.nn.NLLLoss2d()
    assert isinstance(loss, gg.nn.NLLLoss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        want = torch.nn.NLLLoss2d()(torch.tensor(x), torch.tensor(y))
    assert loss(gg.tensor(x), gg.tensor(y)).item() == pytest.approx(want.item(), rel=1e-12)


def test_functional_grad_is_the_nn_grad_module():
    assert F.grad is gg.nn.grad
    assert callable(F.grad.conv2d_input)
