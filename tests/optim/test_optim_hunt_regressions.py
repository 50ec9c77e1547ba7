"""Regressions from a randomized parity hunt of ``glassgrad.optim`` against ``torch.optim`` (float64).

Each test failed before its fix: PyTorch's lerp rounding (β₁ = 0 must copy the gradient exactly),
Rprop's sign of a NaN gradient (0, as ``torch.sign``), LBFGS's line search keeping its own
tolerance, ``CosineAnnealingWarmRestarts``' ``_step_count``, ``LinearLR``'s closed-form rounding,
and ``ReduceLROnPlateau.step(metrics, epoch)``'s deprecation warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim
from glassgrad.optim import lr_scheduler


def _pair(torch, values):
    ours = [gg.tensor(v.copy(), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    return ours, theirs


def _set_grads(torch, ours, theirs, grads):
    for a, b, g in zip(ours, theirs, grads):
        a.grad = gg.tensor(g.copy())
        b.grad = torch.tensor(g.copy())


@pytest.mark.parametrize(
    ("name", "kwargs", "key"),
    [
        ("Adam", dict(lr=0.1, betas=(0.0, 0.999)), "exp_avg"),
        ("NAdam", dict(lr=0.1, betas=(0.0, 0.999)), "exp_avg"),
        ("RAdam", dict(lr=0.1, betas=(0.0, 0.999)), "exp_avg"),
        ("Adamax", dict(lr=0.1, betas=(0.0, 0.999)), "exp_avg"),
        ("RMSprop", dict(lr=0.1, alpha=0.0, centered=True, eps=1e-3), "grad_avg"),
    ],
)
def test_moment_with_zero_decay_is_the_gradient_exactly(torch, name, kwargs, key):
    """PyTorch's ``lerp_(g, w)`` computes ``g − (g − m)(1 − w)`` for w ≥ 0.5, so w = 1 gives g
    exactly; ``m + w (g − m)`` did not (a third of the coordinates were off by an ulp)."""
    rng = np.random.default_rng(0)
    ours, theirs = _pair(torch, [rng.standard_normal(64)])
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(3):
        g = rng.standard_normal(64)
        _set_grads(torch, ours, theirs, [g])
        opt.step()
        topt.step()
        np.testing.assert_array_equal(opt.state[ours[0]][key]._data, g)
        np.testing.assert_array_equal(topt.state[theirs[0]][key].numpy(), g)


def test_adam_small_beta1_matches_torch_closely(torch):
    """β₁ < 0.5 takes the other branch of PyTorch's lerp; trajectories stay within an ulp or two."""
    rng = np.random.default_rng(1)
    ours, theirs = _pair(torch, [rng.standard_normal((3, 4)), rng.standard_normal(())])
    kw = dict(lr=0.05, betas=(0.3, 0.5), amsgrad=True)
    opt, topt = optim.Adam(ours, **kw), torch.optim.Adam(theirs, **kw)
    for _ in range(10):
        _set_grads(torch, ours, theirs, [rng.standard_normal(p.shape) for p in ours])
        opt.step()
        topt.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-14, atol=1e-15)


def test_rprop_nan_gradient_leaves_its_coordinate_alone(torch):
    """``torch.sign(nan)`` is 0, so PyTorch's Rprop does not move a coordinate whose gradient is
    NaN (nor change its step size); ``np.sign`` gave NaN and wrote NaN into the parameter."""
    values = [np.array([1.0, 2.0, 3.0, 4.0])]
    ours, theirs = _pair(torch, values)
    opt, topt = optim.Rprop(ours, lr=0.1), torch.optim.Rprop(theirs, lr=0.1)
    nan, inf = np.nan, np.inf
    for g in ([nan, 1.0, -inf, 1.0], [1.0, 1.0, 1.0, 1.0], [nan, -1.0, 2.0, 0.0], [1.0, nan, 1.0, -1.0]):
        _set_grads(torch, ours, theirs, [np.array(g)])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "invalid value" RuntimeWarning either
            opt.step()
        topt.step()
        np.testing.assert_array_equal(ours[0]._data, theirs[0].detach().numpy())
        for key in ("prev", "step_size"):
            np.testing.assert_array_equal(opt.state[ours[0]][key]._data, topt.state[theirs[0]][key].numpy())
    assert np.isfinite(ours[0]._data).all()


def test_lbfgs_strong_wolfe_ignores_a_large_tolerance_change(torch):
    """PyTorch's line search keeps tolerance_change=1e-9 whatever the group's value; passing a
    large group value ended the zoom at once with t = 0, so the parameters never moved."""
    start = np.array([0.04992040152334534, -0.16519016568439276, -0.16796939015046086])
    kw = dict(lr=1.0, max_iter=5, line_search_fn="strong_wolfe", tolerance_change=0.5)
    ours, theirs = _pair(torch, [start])
    opt, topt = optim.LBFGS(ours, **kw), torch.optim.LBFGS(theirs, **kw)
    calls = [0, 0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = (100.0 * ours[0] ** 4).sum() + (ours[0] ** 2).sum()
        loss.backward()
        return loss

    def tclosure():
        calls[1] += 1
        topt.zero_grad()
        loss = (100.0 * theirs[0] ** 4).sum() + (theirs[0] ** 2).sum()
        loss.backward()
        return loss

    for _ in range(2):
        assert float(opt.step(closure)) == pytest.approx(topt.step(tclosure).item(), rel=1e-12)
        np.testing.assert_allclose(ours[0]._data, theirs[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    assert calls[0] == calls[1]
    assert not np.array_equal(ours[0]._data, start)


def test_warm_restarts_state_dict_matches_torch(torch):
    """PyTorch's ``CosineAnnealingWarmRestarts.step`` never counts ``_step_count`` (it stays 0,
    and it is part of ``state_dict``); ours counted every step."""
    opt = optim.SGD([gg.zeros(2, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=2, eta_min=0.01)
    for _ in range(7):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours, theirs = sched.state_dict(), tsched.state_dict()
        for key in ("_step_count", "last_epoch", "T_cur", "T_i", "_last_lr", "base_lrs"):
            assert ours[key] == theirs[key], key


@pytest.mark.parametrize("start_factor", [1 / 3, 0.1, 0.7])
@pytest.mark.parametrize("end_factor", [1.0, 0.5, 0.9])
def test_linear_lr_closed_form_is_torch_bit_for_bit(torch, start_factor, end_factor):
    """``step(epoch)`` uses the closed form, which rounds ``(end − start) · t / total`` in
    PyTorch's order (``(end − start) · (t / total)`` differed in the last bit)."""
    opt = optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.LinearLR(opt, start_factor, end_factor, total_iters=7)
    tsched = torch.optim.lr_scheduler.LinearLR(topt, start_factor, end_factor, total_iters=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in both
        for epoch in range(10):
            sched.step(epoch)
            tsched.step(epoch)
            assert sched.get_last_lr() == tsched.get_last_lr()


def test_plateau_step_with_epoch_warns_as_torch(torch):
    opt = optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=0)
    with pytest.warns(UserWarning, match="deprecated"):
        tsched.step(1.0, epoch=5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(1.0, epoch=5)
    assert sched.last_epoch == tsched.last_epoch == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step(2.0)
        tsched.step(2.0)
    assert sched.get_last_lr() == tsched.get_last_lr()


def test_centered_rmsprop_alpha_zero_has_zero_variance():
    """Kept difference (docs/design.md): with alpha = 0, ḡ = g and v = g², so the variance is 0
    and the step is γ g / ε; PyTorch's fused addcmul leaves ±1e-18 there (NaN after the sqrt)."""
    rng = np.random.default_rng(2)
    g = rng.standard_normal(32)
    w = gg.tensor(np.zeros(32), requires_grad=True)
    opt = optim.RMSprop([w], lr=0.1, alpha=0.0, eps=1e-3, centered=True)
    w.grad = gg.tensor(g)
    opt.step()
    np.testing.assert_allclose(w._data, -0.1 * g / 1e-3, rtol=1e-12)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"])
def test_betas_given_as_one_element_tensors_step_as_pytorch(torch, name):
    # PyTorch takes (tensor(b1), tensor(b2)) and keeps them in the group; the step must use their
    # values (glassgrad mixed the tensors into its NumPy updates: no step at all, or a huge one)
    out = []
    for L in (gg, torch):
        p = L.nn.Parameter(L.ones(3, dtype=L.float64))
        opt = getattr(L.optim, name)(
            [p], lr=0.1, betas=(L.tensor(0.8, dtype=L.float64), L.tensor(0.99, dtype=L.float64))
        )
        for _ in range(3):
            p.grad = L.tensor([1.0, -2.0, 0.5], dtype=L.float64)
            opt.step()
        out.append(p.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10)
