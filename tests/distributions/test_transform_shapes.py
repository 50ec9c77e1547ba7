"""Shapes through transforms, against torch.distributions in float64: AffineTransform and
ComposeTransform's ``forward_shape``/``inverse_shape`` and event dims, a TransformedDistribution
whose transforms broadcast the base (batch widened, base expanded or made ``Independent``),
``TransformedDistribution.expand`` and ``Gumbel.expand``."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as GD

RNG = np.random.default_rng(3030)
TOL = dict(rtol=1e-10, atol=1e-12)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


def _lib(torch, which):
    """(distributions module, tensor maker) of one library, float64."""
    if which == "torch":
        return torch.distributions, lambda a: torch.tensor(np.asarray(a, dtype=np.float64))
    return GD, lambda a: gg.tensor(np.asarray(a, dtype=np.float64))


LOC = RNG.standard_normal((4, 3))
SCALE = RNG.uniform(0.5, 2.0, (3,))
SCALE_56 = RNG.uniform(0.5, 2.0, (5, 6))
SCALE_43 = RNG.uniform(0.5, 2.0, (4, 3))

CHAINS = {  # name -> (transforms(D, tensor), base shape)
    "affine-broadcast": (lambda D, t: [D.transforms.AffineTransform(t(LOC), t(SCALE))], (3,)),
    "affine-event1": (lambda D, t: [D.transforms.AffineTransform(t(LOC), t(SCALE), event_dim=1)], (3,)),
    "affine-event2": (lambda D, t: [D.transforms.AffineTransform(t(LOC), t(SCALE_43), event_dim=2)], (4, 3)),
    "compose-exp-affine": (
        lambda D, t: [
            D.transforms.ComposeTransform(
                [D.transforms.ExpTransform(), D.transforms.AffineTransform(t(LOC), 2.0, event_dim=1)]
            )
        ],
        (3,),
    ),
    "affine-then-stickbreaking": (
        lambda D, t: [D.transforms.AffineTransform(t(LOC), t(SCALE)), D.transforms.StickBreakingTransform()],
        (3,),
    ),
    "reshape-then-affine": (
        lambda D, t: [
            D.transforms.ReshapeTransform((2, 3), (6,)),
            D.transforms.AffineTransform(1.0, t(SCALE_56), event_dim=1),
        ],
        (2, 3),
    ),
    "stickbreaking-inverse": (lambda D, t: [D.transforms.StickBreakingTransform().inv], (4,)),
}


def _build(torch, which, name):
    D, t = _lib(torch, which)
    chain, base_shape = CHAINS[name]
    base = D.Normal(t(np.full(base_shape, 0.1)), t(np.full(base_shape, 0.7)))
    if name == "stickbreaking-inverse":
        base = D.Dirichlet(t(np.full(base_shape, 1.5)))
    return D.TransformedDistribution(base, chain(D, t))


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_transformed_shapes_and_log_prob(torch, name):
    theirs, ours = _build(torch, "torch", name), _build(torch, "gg", name)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert type(ours.base_dist).__name__ == type(theirs.base_dist).__name__
    assert tuple(ours.base_dist.batch_shape) == tuple(theirs.base_dist.batch_shape)
    assert ours.support.event_dim == theirs.support.event_dim
    value = theirs.sample((2,))
    np.testing.assert_allclose(
        _np(ours.log_prob(gg.tensor(value.numpy()))), _np(theirs.log_prob(value)), **TOL
    )
    assert tuple(ours.sample((2,)).shape) == tuple(value.shape)
    assert tuple(ours.rsample((5,)).shape) == (5,) + tuple(value.shape[1:])


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_event_dims_and_shapes(torch, name):
    chains = {
        w: _lib(torch, w)[0].transforms.ComposeTransform(CHAINS[name][0](*_lib(torch, w)))
        for w in ("torch", "gg")
    }
    theirs, ours = chains["torch"], chains["gg"]
    assert ours.domain.event_dim == theirs.domain.event_dim
    assert ours.codomain.event_dim == theirs.codomain.event_dim
    shape = CHAINS[name][1]
    out = tuple(theirs.forward_shape(torch.Size(shape)))
    assert tuple(ours.forward_shape(shape)) == out
    assert tuple(ours.inverse_shape(out)) == tuple(theirs.inverse_shape(torch.Size(out)))


@pytest.mark.parametrize(
    "name", ["affine-broadcast", "affine-event1", "compose-exp-affine", "stickbreaking-inverse"]
)
def test_transformed_expand(torch, name):
    theirs, ours = _build(torch, "torch", name), _build(torch, "gg", name)
    batch = (2,) + tuple(theirs.batch_shape)
    te, ge = theirs.expand(torch.Size(batch)), ours.expand(batch)
    assert tuple(ge.batch_shape) == tuple(te.batch_shape) == batch
    assert tuple(ge.event_shape) == tuple(te.event_shape)
    assert tuple(ge.base_dist.batch_shape) == tuple(te.base_dist.batch_shape)
    value = te.sample()
    np.testing.assert_allclose(_np(ge.log_prob(gg.tensor(value.numpy()))), _np(te.log_prob(value)), **TOL)
    assert tuple(ge.sample().shape) == tuple(value.shape)


def test_affine_transform_event_dims_and_bad_shape(torch):
    for ed in (0, 1, 2):
        theirs = torch.distributions.transforms.AffineTransform(0.0, torch.tensor(SCALE), event_dim=ed)
        ours = GD.transforms.AffineTransform(0.0, gg.tensor(SCALE), event_dim=ed)
        assert ours.domain.event_dim == theirs.domain.event_dim == ed
        assert ours.codomain.event_dim == theirs.codomain.event_dim == ed
        assert ours.inv.domain.event_dim == ed
    with pytest.raises(ValueError, match=r"AffineTransform: .*loc \(4, 3\).*scale \(\).*got \(5,\)"):
        GD.transforms.AffineTransform(gg.tensor(LOC), 1.0).forward_shape((5,))


def test_gumbel_expand(torch):
    theirs = torch.distributions.Gumbel(
        torch.tensor([0.5], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64)
    )
    ours = GD.Gumbel(gg.tensor([0.5], dtype=gg.float64), gg.tensor([2.0], dtype=gg.float64))
    te, ge = theirs.expand(torch.Size((3, 1))), ours.expand((3, 1))
    assert tuple(ge.batch_shape) == tuple(te.batch_shape) == (3, 1)
    value = np.array([[-1.0], [0.5], [4.0]])
    np.testing.assert_allclose(
        _np(ge.log_prob(gg.tensor(value))), _np(te.log_prob(torch.tensor(value))), **TOL
    )
    np.testing.assert_allclose(_np(ge.mean), _np(te.mean), **TOL)
    assert tuple(ge.rsample((2,)).shape) == (2, 3, 1)


def test_affine_scale_broadcast_inside_the_event():
    """A scale of shape (3,) over (4, 3) events scales all 12 elements: log|det J| counts each
    scale 4 times. (PyTorch 2.13 sums the scale's own 3 entries only, a log density off by
    3 sum log|scale|: a deliberate difference, docs/design.md.) Checked against the elementwise
    normal law of y = loc + scale * x, which needs no Jacobian."""
    t = lambda a: gg.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    mu, sigma = RNG.standard_normal((4, 3)), RNG.uniform(0.5, 1.5, (4, 3))
    affine = GD.transforms.AffineTransform(t(LOC), t(SCALE), event_dim=2)
    d = GD.TransformedDistribution(GD.Normal(t(mu), t(sigma)), [affine])
    y = RNG.standard_normal((5, 4, 3))
    direct = GD.Normal(t(LOC + SCALE * mu), t(SCALE * sigma)).log_prob(t(y)).sum((-2, -1))
    np.testing.assert_allclose(_np(d.log_prob(t(y))), _np(direct), **TOL)
    x = t(RNG.standard_normal((4, 3)))
    np.testing.assert_allclose(_np(affine.log_abs_det_jacobian(x, affine(x))), 4 * np.log(SCALE).sum(), **TOL)
