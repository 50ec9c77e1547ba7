"""Round 41, group botorch: BoTorch on GPyTorch/linear_operator on glassgrad.

Three defects stopped or changed BoTorch's runs:

- ``torch.quasirandom`` was missing, so ``import botorch`` failed (``SobolEngine`` backs
  ``draw_sobol_samples``, ``SobolQMCNormalSampler`` and ``optimize_acqf``'s random restarts). It is
  now PyTorch's engine: the same Joe-Kuo direction numbers up to dimension 21201, points bit for bit.
- ``Tensor.numpy()`` and ``np.asarray(t)`` refused a tensor that requires grad under ``no_grad``,
  where PyTorch allows it (BoTorch's ``as_ndarray`` reads parameters that way for scipy's L-BFGS).
- ``Module.double()`` converted buffers in place of the same tensor object, where PyTorch puts a new
  tensor in ``_buffers``: gpytorch's priors hold their ``loc``/``scale`` both as buffers and in their
  base distribution, which in PyTorch stays float32; glassgrad's turned float64, and every prior's
  log-probability (hence BoTorch's marginal log-likelihood) differed by 5e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError
from glassgrad.quasirandom import SobolEngine
from glassgrad.quasirandom_directions import scramble_state, sobol_state


def _run(lib, engine, dtype):
    dt = getattr(lib, dtype)
    return [
        engine.draw(1, dtype=dt),
        engine.draw(7, dtype=dt),
        engine.draw_base2(3, dtype=dt),
        engine.fast_forward(5).draw(11, dtype=dt),
        engine.reset().draw(4, dtype=dt),
        engine.draw(),
    ]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dimension", [1, 2, 7, 40, 1111])
def test_unscrambled_points_are_pytorchs_bit_for_bit(torch, dimension, dtype):
    want = _run(torch, torch.quasirandom.SobolEngine(dimension), dtype)
    got = _run(gg, gg.quasirandom.SobolEngine(dimension), dtype)
    for w, g in zip(want, got, strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        assert np.array_equal(g.numpy(), w.numpy())


def test_direction_numbers_are_pytorchs_for_every_dimension(torch):
    want = torch.quasirandom.SobolEngine(21201).sobolstate.numpy()
    assert np.array_equal(sobol_state(21201), want)
    engine = gg.quasirandom.SobolEngine(21201)
    assert engine.sobolstate.dtype == gg.int64 and tuple(engine.sobolstate.shape) == (21201, 30)
    assert np.array_equal(engine.draw(3).numpy(), torch.quasirandom.SobolEngine(21201).draw(3).numpy())


@pytest.mark.parametrize("dimension,seed", [(1, 0), (3, 5), (25, 41)])
def test_scrambling_is_pytorchs_given_its_random_bits(torch, monkeypatch, dimension, seed):
    """PyTorch's scrambling, fed PyTorch's random draws (glassgrad's random stream is its own)."""
    g = torch.Generator()
    g.manual_seed(seed)
    shift_ints = torch.randint(2, (dimension, 30), generator=g).numpy()
    ltm = torch.randint(2, (dimension, 30, 30), generator=g).tril().numpy()
    shift = shift_ints @ (1 << np.arange(30))
    ref = torch.quasirandom.SobolEngine(dimension, scramble=True, seed=seed)
    assert np.array_equal(scramble_state(sobol_state(dimension), ltm), ref.sobolstate.numpy())
    monkeypatch.setattr(SobolEngine, "_scramble", lambda self, state: (shift, scramble_state(state, ltm)))
    eng = gg.quasirandom.SobolEngine(dimension, scramble=True, seed=seed)
    # the first point is divided in the default dtype (float32) at construction, as PyTorch's
    for dtype in ("float64", "float32"):
        want = _run(torch, ref.reset(), dtype)
        got = _run(gg, eng.reset(), dtype)
        for w, x in zip(want, got, strict=True):
            assert np.array_equal(x.numpy(), w.numpy())


def test_scrambled_engine_repeats_with_its_seed_and_stays_in_the_unit_cube():
    a = gg.quasirandom.SobolEngine(4, scramble=True, seed=3).draw(16, dtype=gg.float64)
    b = gg.quasirandom.SobolEngine(4, scramble=True, seed=3).draw(16, dtype=gg.float64)
    c = gg.quasirandom.SobolEngine(4, scramble=True, seed=4).draw(16, dtype=gg.float64)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy())
    x = a.numpy()
    assert ((x >= 0) & (x < 1)).all()
    # a scrambled Sobol net keeps one point in each of the 16 intervals of every coordinate
    assert all(len(set(np.floor(x[:, j] * 16).astype(int))) == 16 for j in range(4))


def test_out_repr_and_counters_match_pytorch(torch):
    want_out, got_out = torch.empty(1, 1), gg.empty(1, 1)
    want = torch.quasirandom.SobolEngine(3, seed=2)
    got = gg.quasirandom.SobolEngine(3, seed=2)
    assert want.draw(5, out=want_out) is want_out and got.draw(5, out=got_out) is got_out
    assert np.array_equal(got_out.numpy(), want_out.numpy())
    assert repr(got) == repr(want) == "SobolEngine(dimension=3, seed=2)"
    assert repr(gg.quasirandom.SobolEngine(2, scramble=True)) == "SobolEngine(dimension=2, scramble=True)"
    assert got.num_generated == want.num_generated == 5
    assert got.MAXDIM == want.MAXDIM and got.MAXBIT == want.MAXBIT
    want.fast_forward(0), got.fast_forward(0)
    assert np.array_equal(got.draw(2).numpy(), want.draw(2).numpy())


def test_bad_arguments_are_refused(torch):
    for d in (0, 21202):
        with pytest.raises(ValueError, match=r"\[1, 21201\]"):
            gg.quasirandom.SobolEngine(d)
        with pytest.raises(ValueError):
            torch.quasirandom.SobolEngine(d)
    with pytest.raises(RuntimeError, match="SobolEngine.draw: n=0"):
        gg.quasirandom.SobolEngine(2).draw(0)
    with pytest.raises(RuntimeError):
        torch.quasirandom.SobolEngine(2).draw(0)
    eng = gg.quasirandom.SobolEngine(2)
    eng.draw(3)
    with pytest.raises(ValueError, match="power of 2"):
        eng.draw_base2(2)
    with pytest.raises(TypeError, match="SobolEngine.draw: expected a non-negative int"):
        eng.draw(-1)


def test_numpy_of_a_tensor_that_requires_grad_under_no_grad(torch):
    for lib, err in ((torch, RuntimeError), (gg, GraphError)):
        p = lib.ones(3, dtype=lib.float64, requires_grad=True)
        v = p.view(-1)
        with lib.no_grad():
            a, b, c = p.numpy(), v.numpy(), np.asarray(v)
        assert a.tolist() == b.tolist() == c.tolist() == [1.0, 1.0, 1.0]
        with lib.inference_mode():
            assert p.numpy().shape == (3,)
        with pytest.raises(err, match="numpy"):
            p.numpy()
        with pytest.raises(err):
            np.asarray(v)


def _prior_like(lib):
    """gpytorch's ``Prior`` pattern: the same tensor held as a buffer and in another attribute."""
    m = lib.nn.Module()
    loc = lib.tensor([1.5])
    m.register_buffer("_buffered_loc", loc)
    m.register_buffer("count", lib.tensor([3]))
    m.weight = lib.nn.Parameter(lib.ones(2))
    m.loc = loc
    return m


def test_a_converted_buffer_is_a_new_tensor_as_pytorchs(torch):
    for lib in (torch, gg):
        m = _prior_like(lib)
        buf, count, weight = m._buffered_loc, m.count, m.weight
        m.double()
        assert m._buffered_loc is not buf and m._buffered_loc.dtype == lib.float64
        assert m.loc is buf and m.loc.dtype == lib.float32  # the other reference keeps its dtype
        assert m.count is count and m.weight is weight and weight.dtype == lib.float64
        kept = m._buffered_loc
        m.to(lib.float64)
        m.cpu()
        assert m._buffered_loc is kept  # nothing to convert: the same tensor


def test_a_converted_buffer_keeps_its_class_and_requires_grad(torch):
    class Marked(gg.Tensor):
        pass

    m = gg.nn.Module()
    m.register_buffer("s", gg.ones(2).as_subclass(Marked))
    m.register_buffer("g", gg.ones(2, requires_grad=True))
    m.double()
    assert type(m.s) is Marked and m.s.dtype == gg.float64
    assert m.g.requires_grad and m.g.dtype == gg.float64
    ref = torch.nn.Module()
    ref.register_buffer("g", torch.ones(2, requires_grad=True))
    ref.double()
    assert ref.g.requires_grad


def test_rng_states_have_pytorchs_length_and_compare_elementwise(torch):
    """BoTorch's ``manual_seed`` test compares ``get_rng_state() == saved``; glassgrad's states were
    their JSON text's bytes, 166 or 167 long depending on the seed, and the comparison raised."""
    assert tuple(gg.get_rng_state().shape) == tuple(torch.get_rng_state().shape) == (5056,)
    assert tuple(gg.Generator().get_state().shape) == tuple(torch.Generator().get_state().shape)
    lengths = set()
    for s in (0, 1, 1234, 2**63 - 1):
        gg.manual_seed(s)
        gg.rand(3)  # (NumPy's cached uint32 flag and value take part too)
        lengths.add(gg.get_rng_state().numel())
    assert lengths == {5056}
    gg.manual_seed(7)
    saved = gg.get_rng_state()
    first = gg.rand(4)
    gg.manual_seed(1234)
    assert not bool(gg.all(gg.get_rng_state() == saved))
    gg.set_rng_state(saved)
    assert bool(gg.all(gg.get_rng_state() == saved))
    assert gg.equal(gg.rand(4), first)
    g = gg.Generator().manual_seed(3)
    gs = g.get_state()
    a = gg.randn(5, generator=g)
    g.set_state(gs)
    assert gg.equal(gg.randn(5, generator=g), a)


def test_an_earlier_glassgrad_state_still_loads_and_a_corrupt_one_is_refused():
    import json

    gg.manual_seed(11)
    want = gg.rand(3)
    gg.manual_seed(11)
    old = json.dumps(gg.random.rng_state_dict(), sort_keys=True).encode("ascii")  # the old bytes
    gg.manual_seed(0)
    gg.set_rng_state(gg.tensor(np.frombuffer(old, dtype=np.uint8).copy()))
    assert gg.equal(gg.rand(3), want)
    bad = gg.get_rng_state().clone()
    bad[0] = 0
    with pytest.raises(ValueError, match="set_rng_state: expected a PCG64 state"):
        gg.set_rng_state(bad)


@pytest.mark.parametrize(
    "shapes", [((2,), (3,)), ((2, 3), (4, 1, 3), (5,)), ((1, 3), (2, 1), (4,)), ((2, 1), [3, 4], (5, 1, 2))]
)
def test_broadcast_shapes_mismatch_in_pytorchs_words(torch, shapes):
    with pytest.raises(RuntimeError) as want:
        torch.broadcast_shapes(*shapes)
    with pytest.raises(RuntimeError) as got:  # ShapeError is a RuntimeError
        gg.broadcast_shapes(*shapes)
    assert str(got.value) == f"broadcast_shapes: {want.value}"


_CASES = [
    ("MultivariateNormal", lambda L: (L.tensor([0.5, -1.0]),), {"covariance_matrix": [[2.0, 0.3], [0.3, 1.0]]},
     ("covariance_matrix", "scale_tril", "precision_matrix")),
    ("MultivariateNormal", lambda L: (L.zeros(2),), {"scale_tril": [[1.5, 0.0], [0.4, 0.7]]},
     ("covariance_matrix", "precision_matrix", "scale_tril")),
    ("MultivariateNormal", lambda L: (L.zeros(2),), {"precision_matrix": [[2.0, 0.3], [0.3, 1.0]]},
     ("covariance_matrix", "scale_tril")),
    ("Bernoulli", lambda L: (), {"probs": [0.2, 0.7]}, ("logits", "probs")),
    ("Bernoulli", lambda L: (), {"logits": [0.2, -1.7]}, ("probs",)),
    ("Categorical", lambda L: (), {"logits": [0.1, 0.5, -2.0]}, ("probs",)),
    ("Binomial", lambda L: (3,), {"probs": [0.25, 0.5]}, ("logits",)),
    ("Geometric", lambda L: (), {"probs": [0.25, 0.5]}, ("logits",)),
    ("NegativeBinomial", lambda L: (L.tensor(2.0),), {"logits": [0.25, -0.5]}, ("probs",)),
    ("ContinuousBernoulli", lambda L: (), {"probs": [0.25, 0.6]}, ("logits",)),
    ("LogitRelaxedBernoulli", lambda L: (L.tensor(0.5),), {"probs": [0.25, 0.6]}, ("logits",)),
    ("Wishart", lambda L: (L.tensor(4.0),), {"covariance_matrix": [[2.0, 0.3], [0.3, 1.0]]},
     ("precision_matrix", "scale_tril", "covariance_matrix")),
]  # fmt: skip


@pytest.mark.parametrize("name,args,kwargs,attrs", _CASES)
def test_the_forms_of_a_distributions_parameter_are_class_properties(torch, name, args, kwargs, attrs):
    """gpytorch's MultivariateNormal reads ``super().covariance_matrix``: glassgrad computed the
    forms not given in ``__getattr__``, which ``super()`` never asks (AttributeError from BoTorch's
    samplers' ``base_sample_shape``). They are lazy properties of the class now, as PyTorch's."""
    got = {}
    for lib in (torch, gg):
        base = getattr(lib.distributions.relaxed_bernoulli if "Logit" in name else lib.distributions, name)

        class Sub(base):
            def through_super(self, attr):
                return getattr(super(), attr)

        assert all(hasattr(base, a) for a in attrs)  # the class lists them
        kw = {k: lib.tensor(v, dtype=lib.float64) for k, v in kwargs.items()}
        d = Sub(*args(lib), **kw)
        got[lib] = [d.through_super(a).numpy() for a in attrs] + [getattr(d, a).numpy() for a in attrs]
    for w, g in zip(got[torch], got[gg], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_a_missing_attribute_of_a_distribution_still_raises_attribute_error():
    d = gg.distributions.Bernoulli(probs=gg.tensor([0.3]))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        d.nonsense  # noqa: B018
    assert not hasattr(
        gg.distributions.MultivariateNormal.__new__(gg.distributions.MultivariateNormal), "probs"
    )
