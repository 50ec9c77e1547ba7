"""Round 67 (PyTorch's test_transforms.py through glassgrad): a ComposeTransform with a cache keeps
it in its parts, as PyTorch's, so that the inverse chain gives back the cached x of a y it made
(a tanh-squashed draw saturated at ±1 has a finite log_prob instead of atanh(1) = inf)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.distributions import transforms as T


def _chain(lib, cache_size):
    tr = lib.distributions.transforms
    return tr.ComposeTransform([tr.AffineTransform(0.5, 2.0), tr.TanhTransform()], cache_size=cache_size)


@pytest.mark.parametrize("make", ["cache_size", "with_cache"])
def test_cached_compose_inverts_to_the_same_tensor(torch, make):
    ours = _chain(gg, 1) if make == "cache_size" else _chain(gg, 0).with_cache(1)
    theirs = _chain(torch, 1) if make == "cache_size" else _chain(torch, 0).with_cache(1)
    assert [p._cache_size for p in ours.parts] == [p._cache_size for p in theirs.parts] == [1, 1]
    x = gg.tensor([0.3, -1.2, 40.0])
    y = ours(x)
    assert ours(x) is y
    assert ours.inv(y) is x
    xt = torch.tensor([0.3, -1.2, 40.0])
    yt = theirs(xt)
    assert theirs.inv(yt) is xt


def test_uncached_compose_recomputes():
    t = _chain(gg, 0)
    assert [p._cache_size for p in t.parts] == [0, 0]
    x = gg.tensor([0.3, -0.2], dtype=gg.float64)
    x2 = t.inv(t(x))
    assert x2 is not x
    np.testing.assert_allclose(x2.numpy(), x.numpy(), rtol=1e-12)


def test_saturated_tanh_draw_has_finite_log_prob(torch):
    # float32: tanh(2 * 40 + 0.5) rounds to 1; the density must come from the cached x
    x_np = np.array([0.3, -1.2, 40.0, -30.0], dtype=np.float32)
    values = []
    for lib in (gg, torch):
        base = lib.distributions.Normal(lib.zeros(4), lib.ones(4) * 30.0)
        chain = _chain(lib, 1)
        d = lib.distributions.TransformedDistribution(base, [chain])
        x = lib.tensor(x_np)
        y = chain(x)
        assert float(y.abs().max()) == 1.0
        values.append(d.log_prob(y).numpy())
    assert np.isfinite(values[0]).all()
    np.testing.assert_allclose(values[0], values[1], rtol=1e-6, atol=1e-5)


def test_compose_parts_given_stay_uncached_when_no_cache():
    a = T.AffineTransform(0.0, 3.0)
    t = T.ComposeTransform([a, T.ExpTransform()])
    assert t.parts[0] is a
