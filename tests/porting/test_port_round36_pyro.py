"""Round 36, Pyro (pyro-ppl/pyro) run on glassgrad as ``torch``: distilled repros of the pieces of
``torch.distributions`` that Pyro leans on.

Pyro subclasses PyTorch's constraint classes (``type(positive)(lower_bound=0.0)``), registers
transforms for constraint classes (``biject_to.register(constraints.independent)``), reads and writes
``Distribution._validate_args``, decorates with ``distributions.utils.lazy_property``, registers KL
pairs against its own abstract base, expands its subclasses of the families through the family's
``expand``, and mixes ``Transform`` into ``nn.Module`` for its normalizing flows (reading the cache
``_cached_x_y`` and ``event_dim`` from the domain). Each test pins one of these against PyTorch."""

from __future__ import annotations

import typing
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.distributions as D
from glassgrad.distributions import constraints as C

RNG = np.random.default_rng(36)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ------------------------------------------------------------------ torch.serialization aliases
def test_serialization_type_aliases(torch):
    import torch.serialization as ts

    from glassgrad.serialization import MAP_LOCATION, FileLike

    assert str in typing.get_args(MAP_LOCATION) and type(None) in typing.get_args(MAP_LOCATION)
    assert dict[str, str] in typing.get_args(MAP_LOCATION)
    assert dict[str, str] in typing.get_args(ts.MAP_LOCATION)
    assert typing.get_args(FileLike)[0] is str and typing.get_args(ts.FileLike)[0] is str


# ------------------------------------------------------------------ constraints as PyTorch's
BOUND = np.array([0.5, -1.0, 2.0])
VALUES = np.array([[0.7, -1.0, 2.0], [0.5, -3.0, 1.0], [np.nan, 0.0, np.inf]])

SCALAR_CONSTRAINTS = [
    ("real", lambda c, t: c.real),
    ("positive", lambda c, t: c.positive),
    ("nonnegative", lambda c, t: c.nonnegative),
    ("unit_interval", lambda c, t: c.unit_interval),
    ("boolean", lambda c, t: c.boolean),
    ("nonnegative_integer", lambda c, t: c.nonnegative_integer),
    ("positive_integer", lambda c, t: c.positive_integer),
    ("greater_than", lambda c, t: c.greater_than(t(BOUND))),
    ("greater_than_eq", lambda c, t: c.greater_than_eq(lower_bound=t(BOUND))),
    ("less_than", lambda c, t: c.less_than(upper_bound=1.0)),
    ("interval", lambda c, t: c.interval(lower_bound=t(BOUND - 1), upper_bound=t(BOUND + 1))),
    ("half_open_interval", lambda c, t: c.half_open_interval(-1.0, 2.0)),
    ("integer_interval", lambda c, t: c.integer_interval(lower_bound=-1, upper_bound=2)),
    ("IntegerLessThan", lambda c, t: c._IntegerLessThan(upper_bound=1)),
    ("independent", lambda c, t: c.independent(c.positive, 1)),
    ("real_vector", lambda c, t: c.real_vector),
    ("simplex", lambda c, t: c.simplex),
    ("one_hot", lambda c, t: c.one_hot),
    ("multinomial", lambda c, t: c.multinomial(upper_bound=4)),
    ("cat", lambda c, t: c.cat([c.positive, c.real], dim=-1, lengths=[1, 2])),
    ("stack", lambda c, t: c.stack([c.positive, c.real, c.nonnegative], dim=-1)),
]


@pytest.mark.parametrize(("name", "make"), SCALAR_CONSTRAINTS, ids=[c[0] for c in SCALAR_CONSTRAINTS])
def test_constraint_classes_attributes_and_checks_match_torch(torch, name, make):
    ours, theirs = make(C, gg.tensor), make(torch.distributions.constraints, torch.tensor)
    assert type(ours).__name__ == type(theirs).__name__
    assert (ours.event_dim, ours.is_discrete) == (theirs.event_dim, theirs.is_discrete)
    for attr in ("lower_bound", "upper_bound"):
        assert hasattr(ours, attr) == hasattr(theirs, attr)
        if hasattr(theirs, attr):
            np.testing.assert_array_equal(_np(getattr(ours, attr)), _np(getattr(theirs, attr)))
    if not isinstance(getattr(theirs, "lower_bound", 0), torch.Tensor):
        assert repr(ours) == repr(theirs)
    got, want = ours.check(gg.tensor(VALUES)), theirs.check(torch.tensor(VALUES))
    assert isinstance(got, gg.Tensor) and got.dtype == gg.bool
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_constraint_factories_are_classes_that_subclass_as_in_pyro(torch):
    for lib, t in ((C, gg.tensor), (torch.distributions.constraints, torch.tensor)):
        for name in ("independent", "interval", "half_open_interval", "greater_than", "cat", "stack"):
            assert isinstance(getattr(lib, name), type), name
        assert isinstance(lib.real_vector, lib.independent)
        assert not issubclass(lib.half_open_interval, lib.interval)

        class SoftplusPositive(type(lib.positive)):  # Pyro's constraints.softplus_positive
            def __init__(self):
                super().__init__(lower_bound=0.0)

        c = SoftplusPositive()
        assert c.lower_bound == 0.0 and repr(c) == "oftplusPositive(lower_bound=0.0)"
        assert _np(c.check(t([-1.0, 1.0]))).tolist() == [False, True]


def test_matrix_constraints_return_tensors_like_torch(torch):
    a = RNG.standard_normal((4, 3, 3))
    mats = np.stack([a[0] @ a[0].T + np.eye(3), np.tril(a[1]), a[2], -np.eye(3)])
    for name in (
        "lower_triangular",
        "lower_cholesky",
        "corr_cholesky",
        "square",
        "symmetric",
        "positive_definite",
    ):
        got = getattr(C, name).check(gg.tensor(mats))
        want = getattr(torch.distributions.constraints, name).check(torch.tensor(mats))
        assert (
            isinstance(got, gg.Tensor)
            and type(getattr(C, name)).__name__
            == type(getattr(torch.distributions.constraints, name)).__name__
        )
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=name)
    mix = C.MixtureSameFamilyConstraint(C.positive).check(gg.tensor(VALUES))
    tmix = torch.distributions.constraints.MixtureSameFamilyConstraint(
        torch.distributions.constraints.positive
    ).check(torch.tensor(VALUES))
    np.testing.assert_array_equal(mix.numpy(), tmix.numpy())


def test_registries_dispatch_on_constraint_classes(torch):
    bound = RNG.standard_normal(3)
    x = RNG.standard_normal((2, 3))
    for make in (
        lambda c, t: c.greater_than(t(bound)),
        lambda c, t: c.less_than(t(bound)),
        lambda c, t: c.interval(t(bound), t(bound + 2)),
        lambda c, t: c.half_open_interval(t(bound), t(bound + 1)),
        lambda c, t: c.independent(c.interval(0.0, 3.0), 1),
    ):
        for reg in ("biject_to", "transform_to"):
            ours = getattr(D, reg)(make(C, gg.tensor))
            theirs = getattr(torch.distributions, reg)(make(torch.distributions.constraints, torch.tensor))
            np.testing.assert_allclose(_np(ours(gg.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-13)

    class Softplus(C.greater_than):  # a subclass is its own type: it needs its own registration
        pass

    with pytest.raises(NotImplementedError, match="Softplus"):
        D.biject_to(Softplus(0.0))
    D.biject_to.register(Softplus)(lambda c: D.transforms.SoftplusTransform())
    assert type(D.biject_to(Softplus(0.0))).__name__ == "SoftplusTransform"


# ------------------------------------------------------------------ Distribution internals
def test_validate_args_default_is_a_class_attribute(torch):
    for lib in (D, torch.distributions):
        before = lib.Distribution._validate_args
        try:
            lib.Distribution.set_default_validate_args(False)
            assert lib.Distribution._validate_args is False
            lib.Normal(0.0, -1.0)  # not checked
            lib.Distribution._validate_args = True  # what Pyro's settings write
            with pytest.raises(ValueError):
                lib.Normal(0.0, -1.0)
            assert lib.Normal(0.0, -1.0, validate_args=False)._validate_args is False
        finally:
            lib.Distribution._validate_args = before


def _lazy_family(lib, utils):
    class Scaled(lib.Normal):
        def __init__(self, loc, log_scale, validate_args=None):
            self.log_scale = log_scale
            super().__init__(loc, log_scale.exp(), validate_args=validate_args)

        @utils.lazy_property
        def precision(self):
            Scaled.calls += 1
            return self.scale**-2

    Scaled.calls = 0
    return Scaled


def test_lazy_property_computes_once_and_reads_as_a_property_on_the_class(torch):
    import torch.distributions.utils as tu

    from glassgrad.distributions import utils as gu

    results = []
    for lib, utils, t in ((D, gu, gg.tensor), (torch.distributions, tu, torch.tensor)):
        fam = _lazy_family(lib, utils)
        d = fam(
            t([0.0, 1.0], dtype=gg.float64 if t is gg.tensor else torch.float64),
            t([0.3, -0.2], requires_grad=True, dtype=gg.float64 if t is gg.tensor else torch.float64),
        )
        with (gg if lib is D else torch).no_grad():
            p = d.precision  # computed with grad even under no_grad, as PyTorch
        assert d.precision is p and fam.calls == 1 and p.requires_grad
        assert isinstance(fam.precision, utils.lazy_property) and isinstance(fam.precision, property)
        results.append(_np(p))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-15)
    assert gu._sum_rightmost(gg.ones(2, 3, 4), 2).tolist() == [12.0, 12.0]
    assert gu.euler_constant == tu.euler_constant


def test_register_kl_accepts_a_non_distribution_base(torch):
    outs = []
    for lib, t in ((D, gg.tensor), (torch.distributions, torch.tensor)):

        class Abstract:  # Pyro's pyro.distributions.Distribution: not a torch Distribution
            pass

        class Delta(lib.Normal, Abstract):
            pass

        @lib.register_kl(Delta, Abstract)
        def _kl(p, q):
            return p.loc * 0 + 7.0

        # p's type decides first, as PyTorch: (Delta, Abstract) beats (Normal, Normal), and the q-first
        # order disagrees, so both warn
        with pytest.warns(RuntimeWarning, match=r"Ambiguous kl_divergence\(Delta, Delta\)"):
            outs.append(_np(lib.kl_divergence(Delta(t([0.0, 1.0]), 1.0), Delta(0.0, 2.0))))
        with pytest.raises(TypeError):
            lib.register_kl(Delta, "not a class")
    np.testing.assert_array_equal(outs[0], outs[1])


FAMILIES = [
    ("Normal", lambda lib, t: (t([0.0, 1.0]), t([1.0, 2.0]))),
    ("Beta", lambda lib, t: (t([1.5, 2.0]), t([0.5, 3.0]))),
    ("Gamma", lambda lib, t: (t([1.5, 2.0]), t([0.5, 3.0]))),
    ("Poisson", lambda lib, t: (t([1.5, 2.0]),)),
    ("Bernoulli", lambda lib, t: (t([0.2, 0.7]),)),
    ("Dirichlet", lambda lib, t: (t([[1.0, 2.0], [0.5, 0.5]]),)),
    ("LogNormal", lambda lib, t: (t([0.0, 1.0]), t([1.0, 2.0]))),
    ("Weibull", lambda lib, t: (t([1.0, 2.0]), t([1.5, 0.5]))),
    ("Binomial", lambda lib, t: (t([3.0, 4.0]), t([0.2, 0.7]))),
    ("Uniform", lambda lib, t: (t([0.0, 1.0]), t([1.0, 2.0]))),
    ("Categorical", lambda lib, t: (t([[0.2, 0.8], [0.5, 0.5]]),)),
    ("MultivariateNormal", lambda lib, t: (t([[0.0, 1.0]]), t([[1.0, 0.2], [0.2, 1.0]]))),
    ("RelaxedBernoulli", lambda lib, t: (t(0.5), t([0.2, 0.7]))),
    ("Independent", lambda lib, t: (lib.Normal(t([[0.0, 1.0]]), 1.0), 1)),
    ("Geometric", lambda lib, t: (t([0.2, 0.7]),)),
    ("Multinomial", lambda lib, t: (3, t([[0.2, 0.8], [0.5, 0.5]]))),
    ("NegativeBinomial", lambda lib, t: (t([3.0, 4.0]), t([0.2, 0.7]))),
    ("ContinuousBernoulli", lambda lib, t: (t([0.2, 0.7]),)),
    ("LowRankMultivariateNormal", lambda lib, t: (t([[0.0, 1.0]]), t([[1.0], [0.5]]), t([1.0, 2.0]))),
    ("MixtureSameFamily", lambda lib, t: (lib.Categorical(t([0.3, 0.7])), lib.Normal(t([0.0, 1.0]), 1.0))),
    ("RelaxedOneHotCategorical", lambda lib, t: (t(0.5), t([[0.2, 0.8]]))),
]


@pytest.mark.parametrize(("name", "args"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_expand_keeps_the_subclass_and_refuses_a_custom_init(torch, name, args):
    for lib, t in ((D, gg.tensor), (torch.distributions, torch.tensor)):
        sub = type("Pyro" + name, (getattr(lib, name),), {})  # Pyro's `class Normal(torch...Normal, Mixin)`
        d = sub(*args(lib, t))
        e = d.expand((3,) + tuple(d.batch_shape))
        assert type(e) is sub and tuple(e.batch_shape) == (3,) + tuple(d.batch_shape)
        assert tuple(e.sample().shape) == (3,) + tuple(d.batch_shape) + tuple(d.event_shape)

        def init(self, *a, **k):
            getattr(lib, name).__init__(self, *a, **k)

        custom = type("Custom" + name, (getattr(lib, name),), {"__init__": init})
        with pytest.raises(NotImplementedError, match="custom .expand"):
            custom(*args(lib, t)).expand((3,) + tuple(d.batch_shape))


# ------------------------------------------------------------------ jit.TracerWarning
def test_jit_tracer_warning_filters(torch):
    assert issubclass(gg.jit.TracerWarning, Warning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=gg.jit.TracerWarning)
        warnings.warn("ignored", gg.jit.TracerWarning, stacklevel=1)
        with pytest.raises(UserWarning):
            warnings.warn("still an error", UserWarning, stacklevel=1)


# ------------------------------------------------------------------ the base classes' defaults
def test_base_distribution_declares_nothing_and_warns_like_torch(torch):
    for lib, t in ((D, gg.tensor), (torch.distributions, torch.tensor)):

        class Bare(lib.Distribution):  # Pyro's Rejector/TorchDistribution subclasses start like this
            pass

        with pytest.raises(NotImplementedError):
            _ = Bare().support
        with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
            d = Bare(validate_args=True)
        with pytest.warns(UserWarning, match="does not define `support`"):
            d._validate_sample(t([1.0]))
        assert isinstance(lib.Distribution.support, property)
        assert isinstance(lib.Distribution.arg_constraints, property)


def test_transform_is_not_bijective_unless_it_says_so(torch):
    for lib in (D.transforms, torch.distributions.transforms):
        assert lib.Transform.bijective is False
        plain = type("Plain", (lib.Transform,), {})()  # Pyro's SimplexToOrderedTransform sets nothing
        assert plain.bijective is False and plain.inv.bijective is False
        for name in ("ExpTransform", "SigmoidTransform", "TanhTransform", "AffineTransform"):
            assert getattr(lib, name).bijective is True, name
        assert lib.ComposeTransform([lib.ExpTransform(), lib.SoftmaxTransform()]).bijective is False
