"""L2 and L1 regularisation two ways, and why AdamW is not Adam + L2.

* ``SGD(weight_decay=λ)`` follows the same trajectory as plain SGD on ``loss + (λ/2)‖w‖²``, whose
  extra gradient λw is computed here by glassgrad's autograd (with and without momentum; the same
  holds for Adam's coupled decay).
* The gradient of an explicit L1 penalty ``λ‖w‖₁`` is ``λ·sign(w)`` (0 where w = 0, as PyTorch).
* AdamW's decoupled decay (``w ← w(1 − γλ)`` beside the Adam step) differs from Adam on
  ``loss + (λ/2)‖w‖²``: there the decay term is divided by √v with the gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.optim import SGD, Adam, AdamW
from tests.optim.problem import grads, initial_values

LAM = 0.3


def _params():
    return [gg.tensor(v, requires_grad=True) for v in initial_values()]


def _backward_sum(t):
    """d(sum of t)/d(leaves), without needing a reduction op: backward with an all-ones seed."""
    t.backward(gg.tensor(np.ones_like(t._data)))


def _l2_penalty_grads(ps, lam):
    """∂/∂w of (λ/2)‖w‖² for each param, by autograd."""
    for p in ps:
        p.grad = None
        _backward_sum(p * p * (lam / 2))
    return [p.grad._data.copy() for p in ps]


def _run(opt, ps, steps=10, penalty=None, before_step=None):
    for _ in range(steps):
        extra = penalty(ps) if penalty else [0.0] * len(ps)
        for p, g, e in zip(ps, grads([p._data for p in ps]), extra):
            p.grad = gg.tensor(g + e)
        if before_step:
            before_step(ps)
        opt.step()
    return [p._data.copy() for p in ps]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_is_an_l2_penalty_on_the_loss(momentum):
    a, b = _params(), _params()
    decayed = _run(SGD(a, lr=0.01, momentum=momentum, weight_decay=LAM), a)
    penalised = _run(SGD(b, lr=0.01, momentum=momentum), b, penalty=lambda ps: _l2_penalty_grads(ps, LAM))
    plain_ps = _params()
    plain = _run(SGD(plain_ps, lr=0.01, momentum=momentum), plain_ps)
    for x, y, z in zip(decayed, penalised, plain):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
        assert np.max(np.abs(x - z)) > 1e-4  # the decay did change the trajectory


def test_adam_weight_decay_is_an_l2_penalty_on_the_loss():
    a, b = _params(), _params()
    decayed = _run(Adam(a, lr=0.05, weight_decay=LAM), a)
    penalised = _run(Adam(b, lr=0.05), b, penalty=lambda ps: _l2_penalty_grads(ps, LAM))
    for x, y in zip(decayed, penalised):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_l1_penalty_gradient_is_lambda_sign():
    w = gg.tensor(np.array([[-2.0, 0.0, 0.5], [3.0, -1e-3, 0.0]]), requires_grad=True)
    _backward_sum(w.abs() * LAM)
    np.testing.assert_array_equal(w.grad._data, LAM * np.sign(w._data))
    assert w.grad._data[0, 1] == 0.0  # the subgradient PyTorch picks at 0


def test_adamw_decoupled_decay_is_not_adam_with_l2():
    a, b, c = _params(), _params(), _params()
    lr = 0.05
    adamw = _run(AdamW(a, lr=lr, weight_decay=LAM), a)
    adam_l2 = _run(Adam(b, lr=lr), b, penalty=lambda ps: _l2_penalty_grads(ps, LAM))

    def shrink(ps):  # decoupled decay written out: shrink the weights, then a plain Adam step
        for p in ps:
            p._data *= 1 - lr * LAM

    by_hand = _run(Adam(c, lr=lr), c, before_step=shrink)
    for x, y, z in zip(adamw, adam_l2, by_hand):
        np.testing.assert_allclose(x, z, rtol=1e-12, atol=1e-14)
        assert np.max(np.abs(x - y)) > 1e-3
