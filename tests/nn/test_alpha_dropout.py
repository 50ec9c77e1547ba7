"""``F.alpha_dropout``/``feature_alpha_dropout``, ``nn.AlphaDropout``/``FeatureAlphaDropout`` and the
in-place activations ``F.relu_`` ... (nn/functional/alpha_dropout.py).

The masks come from different generators, so each library's output is split by its own mask
(recovered from the output) and both are checked against the paper's constants: a kept unit gives
a x + b, a dropped one the same constant a α' + b in both libraries.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError

SAT = -1.0507009873554805 * 1.6732632423543772  # α' = −λα of SELU (Klambauer et al.)


def _constants(p):
    a = ((1 - p) * (1 + p * SAT**2)) ** -0.5
    return a, -a * SAT * p


def _split(x, y, p):
    """Kept units (y = a x + b) and the value every dropped unit takes."""
    a, b = _constants(p)
    kept = np.isclose(y, a * x + b, rtol=1e-12, atol=1e-12)
    return kept, y[~kept]


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_alpha_dropout_matches_the_paper_and_torch(torch, p):
    x = np.random.default_rng(0).standard_normal((200, 30))
    outs = {
        "gg": F.alpha_dropout(gg.tensor(x), p, training=True).numpy(),
        "torch": torch.nn.functional.alpha_dropout(torch.tensor(x), p, training=True).numpy(),
    }
    a, b = _constants(p)
    for y in outs.values():
        kept, dropped = _split(x, y, p)
        np.testing.assert_allclose(dropped, a * SAT + b, rtol=1e-12)  # one value for every dropped unit
        assert abs(kept.mean() - (1 - p)) < 0.05
    drop_value = {k: _split(x, y, p)[1][0] for k, y in outs.items()}
    assert drop_value["gg"] == pytest.approx(drop_value["torch"], rel=1e-12)


def test_alpha_dropout_keeps_mean_zero_and_variance_one():
    y = F.alpha_dropout(gg.randn(4000, 50, dtype=gg.float64), 0.3, True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01


def test_alpha_dropout_gradient_is_a_on_kept_units():
    x = gg.randn(50, 40, dtype=gg.float64, requires_grad=True)
    y = F.alpha_dropout(x, 0.4, training=True)
    y.sum().backward()
    kept, _ = _split(x.detach().numpy(), y.detach().numpy(), 0.4)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, _constants(0.4)[0], 0.0), rtol=1e-14)


def test_feature_alpha_dropout_drops_whole_channels(torch):
    x = np.random.default_rng(1).standard_normal((16, 6, 5, 4))
    for lib, f in ((gg, F.feature_alpha_dropout), (torch, torch.nn.functional.feature_alpha_dropout)):
        y = f(lib.tensor(x), 0.5, training=True).numpy()
        kept, _ = _split(x, y, 0.5)
        per_channel = kept.reshape(16, 6, -1)
        assert (per_channel.all(-1) | ~per_channel.any(-1)).all()  # all kept or all dropped
        assert 0.2 < per_channel.all(-1).mean() < 0.8


def test_evaluation_p_zero_and_p_one_as_torch(torch):
    x = gg.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x  # training=False is the functions' default
    assert F.alpha_dropout(x, 0.0, True) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), np.zeros((3, 4)))
    t = torch.nn.functional.alpha_dropout(torch.ones(3, 4), 1.0, True)
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 4)))


def test_errors_and_modules():
    with pytest.raises(ValueError, match="alpha_dropout: expected a probability"):
        F.alpha_dropout(gg.randn(3), 1.5, True)
    with pytest.raises(ShapeError, match="feature_alpha_dropout: expected an input of at least 2 dims"):
        F.feature_alpha_dropout(gg.randn(5), 0.5, True)
    m = gg.nn.AlphaDropout(0.2)
    assert repr(m) == "AlphaDropout(p=0.2, inplace=False)"
    assert repr(gg.nn.FeatureAlphaDropout()) == "FeatureAlphaDropout(p=0.5, inplace=False)"
    x = gg.randn(4, 3)
    assert m.eval()(x) is x
    y = m.train()(gg.zeros(1000, 10, dtype=gg.float64)).numpy()  # a x + b = b on kept units
    a, b = _constants(0.2)
    assert set(np.round(np.unique(y), 12)) == {round(b, 12), round(a * SAT + b, 12)}


def test_inplace_alpha_dropout_writes_the_input():
    x = gg.randn(20, 10, dtype=gg.float64)
    before = x.numpy().copy()
    y = F.alpha_dropout(x, 0.5, True, inplace=True)
    assert y is x
    kept, _ = _split(before, x.numpy(), 0.5)
    assert 0 < kept.mean() < 1


@pytest.mark.parametrize(
    "name,args",
    [("relu_", ()), ("elu_", (0.7,)), ("celu_", (1.3,)), ("selu_", ()), ("leaky_relu_", (0.2,)),
     ("hardtanh_", (-0.5, 0.5)), ("rrelu_", (0.1, 0.3)), ("threshold_", (0.1, 2.0))],
)  # fmt: skip
def test_inplace_activations_match_torch(torch, name, args):
    x = np.random.default_rng(2).standard_normal((3, 5))
    g, t = gg.tensor(x), torch.tensor(x)
    assert getattr(F, name)(g, *args) is g
    assert getattr(torch.nn.functional, name)(t, *args) is t
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-15)


def test_inplace_activation_refuses_a_leaf_that_requires_grad(torch):
    with pytest.raises(RuntimeError, match="leaf"):
        torch.nn.functional.relu_(torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu_(gg.ones(2, requires_grad=True))
    assert math.isclose(F.elu_(gg.tensor([-1.0]))[0].item(), math.expm1(-1.0), rel_tol=1e-6)
