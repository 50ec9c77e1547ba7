"""Porting round 45, group sde: yang-song/score_sde_pytorch (NCSN++, DDPM++, DDPM and NCSNv2 under
the VE, VP and sub-VP SDEs; the SDE, SMLD and DDPM losses; EMA; the predictor-corrector and ODE
samplers; the likelihood) and lucidrains/DALLE-pytorch (DiscreteVAE and the DALL-E transformer)
run on glassgrad with only their imports changed.

- DALLE-pytorch's ``DiscreteVAE`` calls ``F.kl_div(log_uniform, log_qy, None, None, 'batchmean',
  log_target=True)``: PyTorch's losses take their legacy ``size_average``/``reduce`` arguments, and
  ``reduction``, ``ignore_index``, ``beta`` ..., positionally, in PyTorch's order. glassgrad's
  ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``, ``kl_div``, ``nll_loss``, ``cross_entropy``,
  ``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` made them keyword-only
  (``TypeError``); every ``torch.nn.functional`` function now takes PyTorch's positional order.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _positional(fn) -> list[str]:
    ps = inspect.signature(fn).parameters.values()
    return [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY)]


def test_functional_positional_order_matches_pytorch(torch):
    """Every function of both ``nn.functional`` namespaces takes at least PyTorch's positional
    parameters, in PyTorch's order."""
    bad = []
    for name in sorted(dir(torch.nn.functional)):
        t, g = getattr(torch.nn.functional, name), getattr(F, name, None)
        if name.startswith("_") or g is None or inspect.isclass(t) or not callable(t) or not callable(g):
            continue
        try:
            tpos, gsig = _positional(t), inspect.signature(g)
        except (TypeError, ValueError):
            continue
        if any(p.kind == p.VAR_POSITIONAL for p in gsig.parameters.values()):
            continue
        gpos = _positional(g)
        if gpos[: len(tpos)] != tpos:
            bad.append((name, tpos, gpos))
    assert bad == []


def _pair(torch, a):
    return gg.tensor(a), torch.tensor(a)


def _same(g, t):
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_discrete_vae_kl_div_call_matches_pytorch(torch):
    """DiscreteVAE's call, with the target of the input's shape (glassgrad refuses a reduced loss of
    operands of two shapes, by design)."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 4, 5))
    lq = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    lu = np.full((2, 4, 5), np.log(1 / 5))
    (gi, ti), (gt, tt) = _pair(torch, lu), _pair(torch, lq)
    _same(
        F.kl_div(gi, gt, None, None, "batchmean", log_target=True),
        torch.nn.functional.kl_div(ti, tt, None, None, "batchmean", log_target=True),
    )
    _same(
        F.kl_div(gi, gt.exp(), None, None, "sum", False),
        torch.nn.functional.kl_div(ti, tt.exp(), None, None, "sum", False),
    )


def _regression_cases(torch):
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random((3, 4))
    (gx, tx), (gy, ty), (gw, tw) = _pair(torch, x), _pair(torch, y), _pair(torch, w)
    tF = torch.nn.functional
    return [
        (F.mse_loss(gx, gy, None, None, "sum"), tF.mse_loss(tx, ty, None, None, "sum")),
        (F.mse_loss(gx, gy, None, None, "mean", gw), tF.mse_loss(tx, ty, None, None, "mean", tw)),
        (F.l1_loss(gx, gy, None, None, "none", gw), tF.l1_loss(tx, ty, None, None, "none", tw)),
        (F.smooth_l1_loss(gx, gy, None, None, "sum", 0.5), tF.smooth_l1_loss(tx, ty, None, None, "sum", 0.5)),
    ]


def _classification_cases(torch):
    rng = np.random.default_rng(2)
    x, p, cw = rng.standard_normal((4, 3)), rng.random((4, 3)), rng.random(3)
    tgt = np.array([0, 2, 1, 2])
    (gx, tx), (gp, tp), (gw, tw) = _pair(torch, x), _pair(torch, p), _pair(torch, cw)
    gt, tt = gg.tensor(tgt), torch.tensor(tgt)
    gb, tb = gg.tensor((p > 0.5) * 1.0), torch.tensor((p > 0.5) * 1.0)
    tF = torch.nn.functional
    return [
        (
            F.cross_entropy(gx, gt, gw, None, 2, None, "sum", 0.1),
            tF.cross_entropy(tx, tt, tw, None, 2, None, "sum", 0.1),
        ),
        (
            F.nll_loss(gx.log_softmax(1), gt, gw, None, 1, None, "mean"),
            tF.nll_loss(tx.log_softmax(1), tt, tw, None, 1, None, "mean"),
        ),
        (
            F.binary_cross_entropy(gp, gb, None, None, None, "sum"),
            tF.binary_cross_entropy(tp, tb, None, None, None, "sum"),
        ),
        (
            F.binary_cross_entropy_with_logits(gx, gb, None, None, None, "none", gw),
            tF.binary_cross_entropy_with_logits(tx, tb, None, None, None, "none", tw),
        ),
    ]


def test_losses_take_pytorch_positional_arguments(torch):
    for g, t in _regression_cases(torch) + _classification_cases(torch):
        _same(g, t)


@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True)])
def test_positional_legacy_reduction_matches_pytorch(torch, size_average, reduce):
    rng = np.random.default_rng(3)
    (gx, tx), (gy, ty) = _pair(torch, rng.standard_normal((2, 5))), _pair(torch, rng.standard_normal((2, 5)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = F.mse_loss(gx, gy, size_average, reduce)
        t = torch.nn.functional.mse_loss(tx, ty, size_average, reduce)
    assert any("size_average and reduce args will be deprecated" in str(w.message) for w in caught)
    _same(g, t)


def test_positional_loss_gradients_match_pytorch(torch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3))
    gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    tgt = np.array([1, 0, 2, 1])
    F.cross_entropy(gx, gg.tensor(tgt), None, None, 0, None, "sum").backward()
    torch.nn.functional.cross_entropy(tx, torch.tensor(tgt), None, None, 0, None, "sum").backward()
    _same(gx.grad, tx.grad)
