"""Round 64, second derivatives of the losses as PyTorch's (a follow-up of the loss and ties fuzzes).

- ``F.binary_cross_entropy``: PyTorch's ``BinaryCrossEntropyBackward`` has a double backward of
  its own, eps = 1e-12 added to the denominators (p + eps, 1 - p + eps) rather than the derivative
  of its clamped first derivative: at a saturated p (0 or 1 with y = p) its second derivative is 0,
  where glassgrad's was about 1e12, and ~1e-10 relative apart elsewhere.
- Every target ignored: ``nll_loss``'s (and the smoothed ``cross_entropy``'s) first derivative under
  ``create_graph`` is a zero tensor with a graph in PyTorch; glassgrad's had none, so a further
  ``grad`` raised. The same for ``pow(0.0, y)``'s gradient w.r.t. y (its second derivative NaN
  where y >= 0 and +inf where y < 0, as PyTorch's ``where(y >= 0, 0, z log 0)``).
- Ignored targets on a -inf class-0 log-probability (a masked logit) gave a NaN loss: the zero
  weight times -inf; PyTorch skips them.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

P0 = np.array([0.0, 1.0, 0.3, 0.7, 1e-300, 0.0, 1.0, 0.5, 0.999, 1e-5])
Y0 = np.array([0.0, 1.0, 0.2, 1.0, 0.0, 1.0, 0.0, 0.5, 0.3, 0.9])
W0 = np.linspace(0.5, 2.0, 10)
V0 = np.linspace(-1.0, 1.0, 10)


def _bce_orders(lib, reduction, weighted, dtype):
    """BCE's gradients w.r.t. (p, y) under create_graph, then the derivatives of <gp, v> w.r.t. p,
    y and the upstream gradient, then a third order from those."""
    F = lib.nn.functional
    p = lib.tensor(P0.astype(dtype), requires_grad=True)
    y = lib.tensor(Y0.astype(dtype), requires_grad=True)
    w = lib.tensor(W0.astype(dtype)) if weighted else None
    loss = F.binary_cross_entropy(p, y, weight=w, reduction=reduction)
    up = np.full(loss.shape, 1.3) if reduction != "none" else np.linspace(0.5, 2.0, 10)
    go = lib.tensor(up.astype(dtype), requires_grad=True)
    gp, gy = lib.autograd.grad(loss, (p, y), go, create_graph=True)
    v = lib.tensor(V0.astype(dtype))
    second = lib.autograd.grad((gp * v).sum(), (p, y, go), create_graph=True)
    third = lib.autograd.grad((second[0] * v).sum() + (second[1] * v).sum(), (p, y))
    return [t.detach().numpy() for t in (gp, gy, *second, *third)]


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weight"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_double_backward_is_pytorchs_eps_biased_formula(torch, reduction, weighted):
    ours = _bce_orders(gg, reduction, weighted, np.float64)
    theirs = _bce_orders(torch, reduction, weighted, np.float64)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        # (the first derivative, the second w.r.t. p, y and g, the third w.r.t. p and y)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=0, err_msg=f"result {k}")
    # saturated p with y = p: a second derivative of 0 (the exact one of the clamped rule is ~1e12)
    assert ours[2][0] == 0 and ours[2][1] == 0


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_double_backward_float32(torch, reduction):
    ours = _bce_orders(gg, reduction, True, np.float32)
    theirs = _bce_orders(torch, reduction, True, np.float32)
    for k, (a, b) in enumerate(zip(ours[:5], theirs[:5])):  # third orders: cancellations in float32
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=0, err_msg=f"result {k}")


def test_bce_first_derivative_unchanged_by_create_graph():
    p = gg.tensor(P0, requires_grad=True)
    y = gg.tensor(Y0)
    w = gg.tensor(W0)
    loss = gg.nn.functional.binary_cross_entropy(p, y, weight=w)
    (plain,) = gg.autograd.grad(loss, p, retain_graph=True)
    (recorded,) = gg.autograd.grad(loss, p, create_graph=True)
    np.testing.assert_array_equal(recorded.detach().numpy(), plain.numpy())
    assert recorded.grad_fn.name() == "BinaryCrossEntropyBackwardBackward0"


def test_bce_double_backward_through_a_sigmoid(torch):
    # a saturated float64 sigmoid feeding BCE, differentiated twice w.r.t. the logits
    x0 = np.array([40.0, -40.0, 0.5, 800.0, -2.0])
    y0 = np.array([1.0, 0.0, 0.3, 1.0, 0.0])
    out = []
    for lib in (gg, torch):
        x = lib.tensor(x0, requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(lib.sigmoid(x), lib.tensor(y0))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        out.append((g.detach().numpy(), h.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


# ---------------------------------------------------------------- every target ignored
IGNORED = {
    "nll_mean": lambda F, x: F.nll_loss(x, _ignored(x), reduction="mean"),
    "nll_sum": lambda F, x: F.nll_loss(x, _ignored(x), reduction="sum"),
    "nll_none": lambda F, x: F.nll_loss(x, _ignored(x), reduction="none").sum(),
    "ce_mean": lambda F, x: F.cross_entropy(x, _ignored(x)),
    "ce_smoothed_mean": lambda F, x: F.cross_entropy(x, _ignored(x), label_smoothing=0.1),
    "ce_smoothed_sum": lambda F, x: F.cross_entropy(x, _ignored(x), label_smoothing=0.1, reduction="sum"),
    "ce_2d_smoothed": lambda F, x: F.cross_entropy(x.reshape(2, 3, 1, 1), _ignored(x).reshape(2, 1, 1), label_smoothing=0.2),
}  # fmt: skip


def _ignored(x):
    lib = gg if isinstance(x, gg.Tensor) else __import__("torch")
    return lib.tensor([-100, -100])


@pytest.mark.parametrize("case", sorted(IGNORED))
def test_all_ignored_targets_give_zeros_with_a_graph(torch, case):
    res = []
    for lib in (gg, torch):
        x = lib.tensor(np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]]), requires_grad=True)
        loss = IGNORED[case](lib.nn.functional, x)
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        assert g.requires_grad  # glassgrad: a constant before, and the next grad raised
        (h,) = lib.autograd.grad((g * g).sum() + g.sum(), x)
        res.append((loss.detach().numpy(), g.detach().numpy(), h.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_all_ignored_nll_loss_node_is_named_as_pytorchs():
    x = gg.tensor(np.zeros((2, 3)), requires_grad=True)
    assert gg.nn.functional.nll_loss(x, gg.tensor([-100, -100])).grad_fn.name() == "NllLossBackward0"


# ---------------------------------------------------------------- ignored targets on a -inf
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "loss, smoothing", [("cross_entropy", 0.0), ("cross_entropy", 0.1), ("nll_loss", 0.0)]
)
def test_ignored_targets_on_minus_inf_log_probabilities_add_zero(torch, loss, reduction, smoothing):
    x0 = np.array([[-np.inf, 0.0, 1.0], [0.5, -np.inf, 2.0], [-np.inf, -np.inf, 0.0]])
    kw = {"label_smoothing": smoothing} if smoothing else {}
    res = []
    for lib in (gg, torch):
        x = lib.tensor(x0, requires_grad=True)
        out = getattr(lib.nn.functional, loss)(x, lib.tensor([-100, 2, -100]), reduction=reduction, **kw)
        (g,) = lib.autograd.grad(out.sum(), x)
        res.append((out.detach().numpy(), g.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)  # before: a NaN loss


# ---------------------------------------------------------------- pow(0.0, y)
@pytest.mark.parametrize("form", ["pow", "rpow"])
def test_pow_of_number_zero_keeps_the_exponents_graph(torch, form):
    b0 = np.array([0.0, 1.0, 2.0, -1.0, 0.5, -0.5, np.nan])
    res = []
    for lib in (gg, torch):
        b = lib.tensor(b0, requires_grad=True)
        z = lib.pow(0.0, b) if form == "pow" else 0.0**b
        (g,) = lib.autograd.grad(z.sum(), b, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad(g.sum(), b)
        res.append((g.detach().numpy(), h.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)  # NaN where b >= 0 (0 ln 0) and at NaN; +inf where b < 0
