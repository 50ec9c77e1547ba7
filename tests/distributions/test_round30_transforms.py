"""Round 30 constraints (dependent, matrix constraints, MixtureSameFamilyConstraint) and transforms
(CorrCholesky, PositiveDefinite, CumulativeDistribution) against torch.distributions in float64,
with the biject_to / transform_to registrations for the new constraints."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D
from glassgrad.distributions import constraints as C
from glassgrad.distributions import transforms as T

RNG = np.random.default_rng(3030)
TOL = dict(rtol=1e-9, atol=1e-11)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


def _pd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


MATRICES = {
    "pd": _pd(3, (2,)),
    "psd-singular": np.ones((3, 3)),
    "nonsym": RNG.standard_normal((2, 3, 3)),
    "lower": np.tril(RNG.standard_normal((2, 3, 3))),
    "rect": RNG.standard_normal((2, 3, 4)),
    "corr-chol": np.linalg.cholesky(np.array([[1.0, 0.3], [0.3, 1.0]])),
    "neg-def": -_pd(2),
}


@pytest.mark.parametrize(
    "cname",
    [
        "lower_triangular",
        "corr_cholesky",
        "square",
        "symmetric",
        "positive_semidefinite",
        "positive_definite",
        "lower_cholesky",
    ],
)
@pytest.mark.parametrize("mname", list(MATRICES))
def test_matrix_constraints_match_torch(torch, cname, mname):
    m = MATRICES[mname]
    if (
        cname
        in (
            "lower_triangular",
            "corr_cholesky",
            "lower_cholesky",
            "positive_semidefinite",
            "positive_definite",
        )
        and m.shape[-1] != m.shape[-2]
    ):
        # PyTorch's check raises for some non-square shapes; no non-square matrix is in these sets
        assert not np.asarray(getattr(C, cname).check(gg.tensor(m))).any()
        return
    ours = getattr(C, cname).check(gg.tensor(m))
    ref = getattr(torch.distributions.constraints, cname).check(torch.tensor(m))
    np.testing.assert_array_equal(np.asarray(ours), ref.numpy())
    assert getattr(C, cname).event_dim == 2


def test_dependent_placeholders_match_torch(torch):
    tc = torch.distributions.constraints
    for lib in (C, tc):
        assert lib.is_dependent(lib.dependent) and not lib.is_dependent(lib.real)
        with pytest.raises(ValueError):
            lib.dependent.check(gg.tensor([1.0]) if lib is C else torch.tensor([1.0]))
        with pytest.raises(NotImplementedError):
            _ = lib.dependent.event_dim
        d = lib.dependent(is_discrete=True, event_dim=1)
        assert (d.is_discrete, d.event_dim) == (True, 1) and lib.is_dependent(d)

    class Box:
        @C.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return C.interval(0.0, self.high)

    assert C.is_dependent(Box.support) and Box.support.event_dim == 0
    box = Box()
    box.high = 2.0
    assert isinstance(box.support, C.Constraint) and not C.is_dependent(box.support)
    np.testing.assert_array_equal(box.support.check(gg.tensor([1.0, 3.0])), [True, False])

    class Plain:
        @C.dependent_property
        def support(self):
            return C.real

    assert C.is_dependent(Plain.support) and Plain().support is C.real


@pytest.mark.parametrize("base", ["positive", "simplex", "independent"])
def test_mixture_same_family_constraint_matches_torch(torch, base):
    tc = torch.distributions.constraints
    make = {
        "positive": (lambda lib: lib.positive, np.array([[1.0, -1.0], [2.0, 0.5]])),
        "simplex": (lambda lib: lib.simplex, np.array([[0.2, 0.8], [0.5, 0.6]])),
        "independent": (lambda lib: lib.independent(lib.positive, 1), np.array([[1.0, -2.0], [3.0, 4.0]])),
    }
    build, v = make[base]
    ours = C.MixtureSameFamilyConstraint(build(C))
    ref = tc.MixtureSameFamilyConstraint(build(tc))
    assert ours.event_dim == ref.event_dim and ours.is_discrete == ref.is_discrete
    np.testing.assert_array_equal(np.asarray(ours.check(gg.tensor(v))), ref.check(torch.tensor(v)).numpy())


def test_constraint_names_match_torch(torch):
    for name in torch.distributions.constraints.__all__:
        assert hasattr(C, name), name
    assert set(torch.distributions.transforms.__all__) <= set(T.__all__)
    assert D.identity_transform is T.identity_transform and D.identity_transform(gg.tensor(2.0)).item() == 2.0


@pytest.mark.parametrize("shape", [(3,), (2, 6), (2, 1, 10)])
def test_corr_cholesky_transform_matches_torch(torch, shape):
    x = RNG.standard_normal(shape) * 1.5
    xg = gg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    tg, tt = T.CorrCholeskyTransform(), torch.distributions.transforms.CorrCholeskyTransform()
    yg, yt = tg(xg), tt(xt)
    np.testing.assert_allclose(_np(yg), _np(yt), **TOL)
    assert C.corr_cholesky.check(yg).all()
    np.testing.assert_allclose(_np(tg.inv(yg)), x, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(_np(tg.inv(gg.tensor(_np(yt)))), _np(tt.inv(yt.detach())), **TOL)
    lg, lt = tg.log_abs_det_jacobian(xg, yg), tt.log_abs_det_jacobian(xt, yt)
    np.testing.assert_allclose(_np(lg), _np(lt), **TOL)
    w = RNG.standard_normal(tuple(yg.shape))
    ((yg * gg.tensor(w)).sum() + lg.sum()).backward()
    ((yt * torch.tensor(w)).sum() + lt.sum()).backward()
    np.testing.assert_allclose(_np(xg.grad), _np(xt.grad), **TOL)
    assert tg.forward_shape(shape) == tt.forward_shape(shape)
    assert tg.inverse_shape(tuple(yg.shape)) == tt.inverse_shape(tuple(yt.shape))
    assert tg.domain.event_dim == 1 and tg.codomain.event_dim == 2 and tg.bijective


def test_corr_cholesky_transform_bad_shape():
    with pytest.raises(ValueError, match="CorrCholeskyTransform"):
        T.CorrCholeskyTransform().forward_shape((4,))


def test_positive_definite_transform_matches_torch(torch):
    x = RNG.standard_normal((2, 3, 3))
    xg, xt = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    tg, tt = T.PositiveDefiniteTransform(), torch.distributions.transforms.PositiveDefiniteTransform()
    yg, yt = tg(xg), tt(xt)
    np.testing.assert_allclose(_np(yg), _np(yt), **TOL)
    np.testing.assert_allclose(_np(tg.inv(yg)), _np(tt.inv(yt)), rtol=1e-8, atol=1e-10)
    yg.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(_np(xg.grad), _np(xt.grad), **TOL)
    assert tg.bijective == tt.bijective and C.positive_definite.check(yg).all()


def test_cumulative_distribution_transform_matches_torch(torch):
    x = RNG.standard_normal((4,))
    loc, scale = 0.3, 1.7
    tg = T.CumulativeDistributionTransform(
        D.Normal(gg.tensor(loc, dtype=gg.float64), gg.tensor(scale, dtype=gg.float64))
    )
    tt = torch.distributions.transforms.CumulativeDistributionTransform(
        torch.distributions.Normal(
            torch.tensor(loc, dtype=torch.float64), torch.tensor(scale, dtype=torch.float64)
        )
    )
    xg, xt = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg, yt = tg(xg), tt(xt)
    np.testing.assert_allclose(_np(yg), _np(yt), **TOL)
    np.testing.assert_allclose(_np(tg.inv(yg)), x, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        _np(tg.log_abs_det_jacobian(xg, yg)), _np(tt.log_abs_det_jacobian(xt, yt)), **TOL
    )
    assert tg.sign == 1 and tg.codomain is C.unit_interval and tg.domain is C.real
    # a copula of a correlated normal: the density on the unit square
    cov = np.array([[1.0, 0.5], [0.5, 1.0]])
    u = RNG.uniform(0.05, 0.95, (3, 2))
    cop_g = D.TransformedDistribution(
        D.MultivariateNormal(gg.zeros(2, dtype=gg.float64), gg.tensor(cov)),
        [
            T.CumulativeDistributionTransform(
                D.Normal(gg.tensor(0.0, dtype=gg.float64), gg.tensor(1.0, dtype=gg.float64))
            )
        ],
    )
    cop_t = torch.distributions.TransformedDistribution(
        torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), torch.tensor(cov)),
        [
            torch.distributions.transforms.CumulativeDistributionTransform(
                torch.distributions.Normal(
                    torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
                )
            )
        ],
    )
    assert tuple(cop_g.event_shape) == tuple(cop_t.event_shape)
    np.testing.assert_allclose(_np(cop_g.log_prob(gg.tensor(u))), _np(cop_t.log_prob(torch.tensor(u))), **TOL)


def test_registry_for_new_constraints_matches_torch(torch):
    tc, tr = torch.distributions.constraints, torch.distributions.constraint_registry
    for name, kinds in {
        "corr_cholesky": ("biject_to", "transform_to"),
        "positive_definite": ("transform_to",),
        "positive_semidefinite": ("transform_to",),
    }.items():
        for kind in kinds:
            ours = getattr(D, kind)(getattr(C, name))
            ref = getattr(tr, kind)(getattr(tc, name))
            assert type(ours).__name__ == type(ref).__name__
    for name in ("positive_definite", "positive_semidefinite"):
        with pytest.raises(NotImplementedError):
            D.biject_to(getattr(C, name))
    x = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(
        _np(D.biject_to(C.corr_cholesky)(gg.tensor(x))),
        _np(tr.biject_to(tc.corr_cholesky)(torch.tensor(x))),
        **TOL,
    )


def test_transformed_distribution_through_corr_cholesky_matches_torch(torch):
    """A normal vector pushed onto correlation Cholesky factors (and back): event shapes and
    log densities as torch's, the base wrapped in Independent for the vector events."""
    x = RNG.standard_normal((4, 3))
    out = []
    for lib, make in ((torch.distributions, torch.tensor), (D, gg.tensor)):
        base = lib.Normal(make(np.zeros(3)), make(np.ones(3)))
        t = lib.transforms.CorrCholeskyTransform()
        fwd = lib.TransformedDistribution(base, [t])
        back = lib.TransformedDistribution(base, [t, t.inv])
        y = t(make(x))
        out.append(
            (
                tuple(fwd.event_shape),
                tuple(back.event_shape),
                _np(fwd.log_prob(y)),
                _np(back.log_prob(make(x))),
            )
        )
    (te, tb, tl, tbl), (ge, gb, gl, gbl) = out
    assert (te, tb) == (ge, gb) == ((3, 3), (3,))
    np.testing.assert_allclose(gl, tl, **TOL)
    np.testing.assert_allclose(gbl, tbl, **TOL)
