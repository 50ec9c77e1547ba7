"""Round 29 transforms and the constraint registries against torch.distributions.transforms in
float64: forward, inverse, log_abs_det_jacobian (values and gradients), shapes, and
biject_to / transform_to."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D
from glassgrad.distributions import constraints as C
from glassgrad.distributions import transforms as T

RNG = np.random.default_rng(2929)
TOL = dict(rtol=1e-9, atol=1e-11)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


CASES = {  # name -> (builder(transforms module), x)
    "Power": (lambda m, lib: m.PowerTransform(lib.tensor([0.5, 2.0, -1.5])), RNG.uniform(0.2, 3, (2, 3))),
    "Power-scalar": (lambda m, lib: m.PowerTransform(2.0), RNG.uniform(0.2, 3, (4,))),
    "StickBreaking": (lambda m, lib: m.StickBreakingTransform(), RNG.standard_normal((2, 4))),
    "Softplus": (lambda m, lib: m.SoftplusTransform(), RNG.standard_normal((3, 2)) * 3),
    "Independent": (lambda m, lib: m.IndependentTransform(m.ExpTransform(), 1), RNG.standard_normal((2, 3))),
    "Independent-2": (
        lambda m, lib: m.IndependentTransform(m.SigmoidTransform(), 2),
        RNG.standard_normal((4, 2, 3)),
    ),
    "Reshape": (lambda m, lib: m.ReshapeTransform((2, 3), (6,)), RNG.standard_normal((4, 2, 3))),
    "Cat": (
        lambda m, lib: m.CatTransform(
            [m.ExpTransform(), m.AffineTransform(1.0, 2.0)], dim=-1, lengths=[2, 3]
        ),
        RNG.standard_normal((3, 5)),
    ),
    "Cat-dim0": (
        lambda m, lib: m.CatTransform([m.ExpTransform(), m.SoftplusTransform()], dim=0),
        RNG.standard_normal((2, 3)),
    ),
    "Cat-event": (
        lambda m, lib: m.CatTransform(
            [m.StickBreakingTransform(), m.StickBreakingTransform()], dim=0, lengths=[1, 2]
        ),
        RNG.standard_normal((3, 4)),
    ),
    "Stack": (
        lambda m, lib: m.StackTransform([m.ExpTransform(), m.SigmoidTransform()], dim=1),
        RNG.standard_normal((3, 2)),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_forward_inverse_and_jacobian_match_torch(torch, name):
    build, x = CASES[name]
    res = []
    for lib, mod in ((gg, T), (torch, torch.distributions.transforms)):
        t = build(mod, lib)
        xt = lib.tensor(x, requires_grad=True)
        y = t(xt)
        ladj = t.log_abs_det_jacobian(xt, y)
        yd = lib.tensor(_np(y).copy(), requires_grad=True)
        xi = t.inv(yd)
        (ladj.sum() + (y**2).sum() + (xi**3).sum()).backward()
        dims = (t.domain.event_dim, t.codomain.event_dim, t.bijective)
        res.append((_np(y), _np(ladj), _np(xi), _np(xt.grad), _np(yd.grad), *dims))
    for a, b, what in zip(
        res[0], res[1], ["y", "ladj", "inv", "dx", "dy", "domain", "codomain", "bijective"]
    ):
        np.testing.assert_allclose(
            np.asarray(a, dtype=float), np.asarray(b, dtype=float), **TOL, err_msg=what
        )


@pytest.mark.parametrize("name", ["Softmax", "Abs", "LowerCholesky"])
def test_non_bijective_transforms_match_torch(torch, name):
    x = RNG.standard_normal((2, 3, 3))
    out = []
    for lib, mod in ((gg, T), (torch, torch.distributions.transforms)):
        t = getattr(mod, name + "Transform")()
        xt = lib.tensor(x, requires_grad=True)
        y = t(xt)
        (y**2).sum().backward()
        back = t.inv(lib.tensor(np.abs(_np(y))) if name != "LowerCholesky" else y.detach())
        out.append((_np(y), _np(xt.grad), _np(back), t.bijective, t.event_dim))
    for a, b in zip(out[0], out[1]):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), **TOL)
    assert repr(getattr(T, name + "Transform")()) == name + "Transform()"


def test_shapes_match_torch(torch):
    tt = torch.distributions.transforms
    pairs = [
        (T.StickBreakingTransform(), tt.StickBreakingTransform(), (2, 4)),
        (T.ReshapeTransform((2, 3), (3, 2)), tt.ReshapeTransform((2, 3), (3, 2)), (5, 2, 3)),
        (T.PowerTransform(gg.ones(3)), tt.PowerTransform(torch.ones(3)), (2, 1)),
        (
            T.IndependentTransform(T.StickBreakingTransform(), 1),
            tt.IndependentTransform(tt.StickBreakingTransform(), 1),
            (2, 3),
        ),
    ]
    for ours, theirs, shape in pairs:
        assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
        out = tuple(theirs.forward_shape(shape))
        assert tuple(ours.inverse_shape(out)) == tuple(theirs.inverse_shape(out))


def test_transformed_distribution_through_shape_changing_transforms_matches_torch(torch):
    tt = torch.distributions
    loc, scale = RNG.standard_normal(3), RNG.uniform(0.5, 1.5, 3)
    cases = [  # (transform builder, base event shape, value)
        (lambda m: m.StickBreakingTransform(), (3,), RNG.dirichlet(np.ones(4), 2)),
        (lambda m: m.ReshapeTransform((3,), (1, 3)), (3,), RNG.standard_normal((2, 1, 3))),
    ]
    for make, _, v in cases:
        ours = D.TransformedDistribution(
            D.Independent(D.Normal(gg.tensor(loc), gg.tensor(scale)), 1), make(T)
        )
        theirs = tt.TransformedDistribution(
            tt.Independent(tt.Normal(torch.tensor(loc), torch.tensor(scale)), 1), make(tt.transforms)
        )
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        assert tuple(ours.event_shape) == tuple(theirs.event_shape)
        assert tuple(ours.sample((5,)).shape) == tuple(theirs.sample((5,)).shape)
        np.testing.assert_allclose(
            _np(ours.log_prob(gg.tensor(v))), _np(theirs.log_prob(torch.tensor(v))), **TOL
        )


CONSTRAINTS = [
    ("real", lambda c: c.real),
    ("positive", lambda c: c.positive),
    ("nonnegative", lambda c: c.nonnegative),
    ("greater_than", lambda c: c.greater_than(2.0)),
    ("greater_than_eq", lambda c: c.greater_than_eq(-1.0)),
    ("less_than", lambda c: c.less_than(3.0)),
    ("unit_interval", lambda c: c.unit_interval),
    ("interval", lambda c: c.interval(-2.0, 5.0)),
    ("half_open_interval", lambda c: c.half_open_interval(1.0, 4.0)),
    ("simplex", lambda c: c.simplex),
    ("real_vector", lambda c: c.real_vector),
    ("independent", lambda c: c.independent(c.positive, 1)),
    ("cat", lambda c: c.cat([c.positive, c.unit_interval], dim=-1, lengths=[2, 2])),
    ("stack", lambda c: c.stack([c.positive, c.interval(0.0, 2.0)], dim=-1)),
]


@pytest.mark.parametrize(("name", "make"), CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registries_match_torch(torch, name, make, registry):
    x = RNG.standard_normal((3, 4)) if name not in ("stack",) else RNG.standard_normal((3, 2))
    ours = getattr(D, registry)(make(C))
    theirs = getattr(torch.distributions, registry)(make(torch.distributions.constraints))
    assert type(ours).__name__ == type(theirs).__name__
    xt, txt = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xt), theirs(txt)
    np.testing.assert_allclose(_np(y), _np(ty), **TOL)
    assert make(C).check(y).all()
    if ours.bijective:
        np.testing.assert_allclose(
            _np(ours.log_abs_det_jacobian(xt, y)), _np(theirs.log_abs_det_jacobian(txt, ty)), **TOL
        )
        np.testing.assert_allclose(_np(ours.inv(y)), x, rtol=1e-7, atol=1e-9)


def test_registry_lower_cholesky_and_errors(torch):
    x = RNG.standard_normal((2, 3, 3))
    y = D.transform_to(C.lower_cholesky)(gg.tensor(x))
    ty = torch.distributions.transform_to(torch.distributions.constraints.lower_cholesky)(torch.tensor(x))
    np.testing.assert_allclose(_np(y), _np(ty), **TOL)
    with pytest.raises(NotImplementedError, match="IntegerGreaterThan"):
        D.biject_to(C.nonnegative_integer)
    with pytest.raises(NotImplementedError):
        D.biject_to(C.lower_cholesky)

    @D.constraint_registry.ConstraintRegistry().register(C.boolean)
    def _factory(c):
        return T.identity_transform

    with pytest.raises(ValueError, match="same number"):
        T.ReshapeTransform((2, 3), (4,))
    with pytest.raises(ValueError, match="CatTransform"):
        T.CatTransform([T.ExpTransform()], dim=0, lengths=[2])(gg.ones(3))


def test_transformed_log_prob_with_broadcasting_parameters_and_kl_at_zero(torch):
    """A transform whose parameters broadcast the value adds batch dims, not event dims; and
    t log t is 0 at t = 0 in the closed-form KLs (Uniform(0, 1) against Beta, Gamma)."""
    out = []
    for lib in (gg, torch):
        d = lib.distributions
        affine = d.transforms.AffineTransform(lib.zeros(3), lib.full((3,), 2.0))
        t = d.TransformedDistribution(d.Normal(lib.zeros(3), lib.ones(3)), [affine])
        pareto = d.Pareto(lib.tensor(1.0), lib.tensor(2.0)).expand((3, 1, 4))
        kl = [
            d.kl_divergence(d.Uniform(lib.tensor(0.0), lib.tensor(1.0)), q)
            for q in (d.Beta(lib.tensor(2.0), lib.tensor(1.0)), d.Gamma(lib.tensor(2.0), lib.tensor(1.0)))
        ]
        out.append(
            [t.log_prob(lib.tensor(0.5)).numpy(), pareto.log_prob(lib.full((1, 4), 3.5)).numpy()]
            + [k.numpy() for k in kl]
        )
    for g, r in zip(*out):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-6)
