"""Round 58's random-number findings (see ``test_init_random_round58.py`` for the list): integer
ranges the dtype cannot hold, distribution parameters outside their domain, ``torch.normal``'s
zero gradient and negative std, multinomial and poisson errors, seeds.

Distribution checks: Kolmogorov-Smirnov statistics of 20000 draws from a fixed seed, bounded at
the level with a false-alarm rate of 1e-6 (deterministic with the seed fixed).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg

from .test_init_random_round58 import KS_BOUND, N, _ks, _outcome

# ---- random_, randint, randperm: ranges the dtype must hold ---------------------------------------

_RANDOM_ARGS = [(), (5,), (2, 5), (5, 2), (0,), (-3,), (-3, 3), (0, 300), (2, None), (0, 2**40), (2, 2)]
_INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64", "bool", "float16", "float32", "float64"]


@pytest.mark.parametrize("dtype", _INT_DTYPES)
@pytest.mark.parametrize("args", _RANDOM_ARGS, ids=str)
def test_random_draws_in_pytorchs_range_or_refuses_alike(torch, dtype, args):
    got, warned = {}, {}
    for lib in (torch, gg):
        t = lib.zeros(N, dtype=getattr(lib, dtype))
        lib.manual_seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got[lib.__name__] = _outcome(lambda t=t: _range(t.random_(*args)))
        warned[lib.__name__] = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    assert warned["glassgrad"] == warned["torch"]  # a float bound past 2^digits: PyTorch's warning
    t_kind, t_val = got["torch"]
    g_kind, g_val = got["glassgrad"]
    if t_kind == "ok":
        assert g_kind == "ok"
        # the smallest and largest values come up in 20000 draws (P(miss) < 1e-50 for these ranges)
        # unless the range is wider than 2^14; then both lie inside PyTorch's range
        lo, hi, mean = g_val
        if t_val[1] - t_val[0] <= 2**14:
            assert (lo, hi) == t_val[:2]
        else:
            assert t_val[0] - (t_val[1] - t_val[0]) * 1e-3 <= lo and hi <= t_val[1] * (1 + 1e-3)
        width = t_val[1] - t_val[0]
        assert abs(mean - (t_val[0] + t_val[1]) / 2) <= 0.05 * max(width, 1)  # 17 sigma of a uniform
    else:
        assert issubclass(g_kind, RuntimeError) and g_val == t_val


def _range(t):
    a = np.asarray(t.tolist(), dtype=np.float64)
    return float(a.min()), float(a.max()), float(a.mean())


@pytest.mark.parametrize(
    ("args", "dtype"),
    [
        ((0, 300, (2,)), "uint8"),
        ((-1, 2, (2,)), "uint8"),
        ((3, (2,)), "bool"),
        ((0, 2**31 + 1, (2,)), "int32"),
    ],
    ids=["uint8_high", "uint8_low", "bool_high", "int32_high"],
)
def test_randint_refuses_bounds_its_dtype_cannot_hold(torch, args, dtype):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="out of bounds for"):
            lib.randint(*args, dtype=getattr(lib, dtype))


def test_randint_in_range_bounds_of_small_dtypes_draw_every_value(torch):
    for lib in (torch, gg):
        lib.manual_seed(0)
        assert sorted(set(lib.randint(-128, 128, (N,), dtype=lib.int8).tolist())) == list(range(-128, 128))
        assert sorted(set(lib.randint(0, 2, (N,), dtype=lib.bool).tolist())) == [False, True]


def test_randint_low_not_below_high_is_a_runtime_error_too():
    with pytest.raises(RuntimeError, match="randint: expected low < high"):
        gg.randint(5, 5, (2,))


@pytest.mark.parametrize(
    ("n", "dtype"),
    [(-1, "int64"), (5, "bool"), (2050, "float16"), (257, "uint8"), (129, "int8")],
    ids=["negative", "bool", "float16_2050", "uint8_257", "int8_129"],
)
def test_randperm_refuses_what_pytorch_refuses(torch, n, dtype):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            lib.randperm(n, dtype=getattr(lib, dtype))


@pytest.mark.parametrize(("n", "dtype"), [(2049, "float16"), (256, "uint8"), (128, "int8"), (0, "int64")])
def test_randperm_at_its_dtypes_limit_is_a_permutation(torch, n, dtype):
    for lib in (torch, gg):
        p = lib.randperm(n, dtype=getattr(lib, dtype))
        assert p.dtype == getattr(lib, dtype) and sorted(int(v) for v in p.tolist()) == list(range(n))


# ---- distribution fills: parameter domains, dtypes, distributions ---------------------------------

_BAD_PARAMETERS = [
    ("normal_", (1.0, -1.0)),
    ("exponential_", (0.0,)),
    ("exponential_", (-1.0,)),
    ("geometric_", (1.0,)),
    ("geometric_", (0.0,)),
    ("geometric_", (1.5,)),
    ("log_normal_", (1.0, 0.0)),
    ("log_normal_", (0.0, -1.0)),
    ("cauchy_", (0.0, 0.0)),
    ("cauchy_", (0.0, -2.5)),
    ("uniform_", (3.0, 2.0)),
]


@pytest.mark.parametrize(("method", "args"), _BAD_PARAMETERS, ids=str)
def test_fills_refuse_parameters_outside_the_domain_in_pytorchs_words(torch, method, args):
    got = {
        lib.__name__: _outcome(lambda lib=lib: getattr(lib.zeros(4), method)(*args)) for lib in (torch, gg)
    }
    assert issubclass(got["torch"][0], RuntimeError) and issubclass(got["glassgrad"][0], RuntimeError)
    assert got["glassgrad"][1] == got["torch"][1]


@pytest.mark.parametrize(
    ("method", "args"),
    [("exponential_", ()), ("log_normal_", ()), ("cauchy_", ()), ("geometric_", (0.5,)), ("random_", ()),
     ("bernoulli_", ())],
)  # fmt: skip
def test_fills_refuse_a_complex_tensor_as_pytorch(torch, method, args):
    for lib in (torch, gg):
        t = lib.zeros(3, dtype=lib.complex64)
        with pytest.raises(RuntimeError):
            getattr(t, method)(*args)
        assert t.tolist() == [0j] * 3


def test_geometric_refuses_a_bool_tensor_as_pytorch(torch):
    for lib in (torch, gg):
        with pytest.raises(NotImplementedError):
            lib.zeros(3, dtype=lib.bool).geometric_(0.5)


_LAWS = {
    "exponential_": ((3.0,), lambda x: 1 - np.exp(-3.0 * x)),
    "log_normal_": ((1.0, 0.5), lambda x: 0.5 * (1 + _erf((np.log(x) - 1.0) / (0.5 * math.sqrt(2))))),
    "cauchy_": ((1.0, 2.0), lambda x: 0.5 + np.arctan((x - 1.0) / 2.0) / math.pi),
    "normal_": ((1.0, 2.0), lambda x: 0.5 * (1 + _erf((x - 1.0) / (2.0 * math.sqrt(2))))),
    "uniform_": ((-2.0, 3.0), lambda x: (x + 2.0) / 5.0),
}


def _erf(x):
    return np.vectorize(math.erf)(x)


@pytest.mark.parametrize("method", sorted(_LAWS))
def test_fills_draw_their_law(method):
    args, cdf = _LAWS[method]
    gg.manual_seed(58)
    draws = getattr(gg.empty(N, dtype=gg.float64), method)(*args)
    assert _ks(draws.tolist(), cdf) < KS_BOUND


def test_geometric_draws_its_law():
    gg.manual_seed(58)
    draws = np.asarray(gg.empty(N, dtype=gg.float64).geometric_(0.3).tolist())
    assert draws.min() >= 1 and (draws == np.round(draws)).all()
    # the CDF at the integers: P(X <= k) = 1 - 0.7^k, compared at k = 1..30
    emp = np.array([(draws <= k).mean() for k in range(1, 31)])
    assert np.abs(emp - (1 - 0.7 ** np.arange(1, 31))).max() < KS_BOUND


# ---- torch.normal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.normal(lib.zeros(2), -1.0),
        lambda lib: lib.normal(2.0, -1.0, (2,)),
        lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
        lambda lib: lib.normal(0.0, -lib.ones(2)),
        lambda lib: lib.normal(0.0, lib.tensor([float("nan")])),
    ],
    ids=["tensor_float", "float_float", "tensor_tensor", "float_tensor", "nan_std"],
)
def test_normal_refuses_a_negative_std_in_pytorchs_words(torch, call):
    got = {lib.__name__: _outcome(lambda lib=lib: call(lib)) for lib in (torch, gg)}
    assert issubclass(got["torch"][0], RuntimeError) and issubclass(got["glassgrad"][0], RuntimeError)
    assert got["glassgrad"][1] == got["torch"][1]


def test_normal_with_zero_std_is_the_mean(torch):
    for lib in (torch, gg):
        mean = lib.tensor([1.5, -2.0], dtype=lib.float64)
        assert lib.normal(mean, 0.0).tolist() == [1.5, -2.0]
        assert lib.normal(mean, lib.zeros(2, dtype=lib.float64)).tolist() == [1.5, -2.0]


@pytest.mark.parametrize("form", ["tensor_tensor", "tensor_float", "float_tensor"])
def test_normal_has_pytorchs_zero_gradient(torch, form):
    got = {}
    for lib in (torch, gg):
        m = lib.zeros(2, 1, dtype=lib.float64, requires_grad=True)
        s = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = {"tensor_tensor": lambda: lib.normal(m, s), "tensor_float": lambda: lib.normal(m, 2.0),
             "float_tensor": lambda: lib.normal(1.0, s)}[form]()  # fmt: skip
        (y * y).sum().backward()
        got[lib.__name__] = (
            y.shape, y.requires_grad, type(y.grad_fn).__name__,
            None if m.grad is None else m.grad.tolist(), None if s.grad is None else s.grad.tolist(),
        )  # fmt: skip
    assert got["glassgrad"] == got["torch"]


def test_normal_refuses_shapes_that_do_not_broadcast_as_a_runtime_error():
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        gg.normal(gg.zeros(2, 3), gg.ones(3, 2))


# ---- multinomial, poisson, seeds -------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1),
        lambda lib: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1),
        lambda lib: lib.multinomial(lib.ones(3, 0), 1),
        lambda lib: lib.multinomial(lib.tensor([0.0, 1.0, 2.0]), 4),
        lambda lib: lib.poisson(-lib.ones(2)),
        lambda lib: lib.poisson(lib.tensor([float("nan")])),
    ],
    ids=["negative", "nan", "zero_row", "no_categories", "too_many", "poisson_negative", "poisson_nan"],
)
def test_sampling_errors_are_runtime_errors_as_pytorchs(torch, call):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            call(lib)


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**64 - 1, 0])
def test_manual_seed_reads_seeds_as_pytorch(torch, seed):
    assert gg.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
    assert (
        gg.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()
    )


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_manual_seed_refuses_a_seed_out_of_range_as_pytorch(torch, seed):
    for lib in (torch, gg):
        with pytest.raises(ValueError):
            lib.manual_seed(seed)


def test_clone_state_gives_a_generator_that_replays():
    g = gg.Generator().manual_seed(3)
    gg.rand(5, generator=g)
    twin = g.clone_state()
    assert twin is not g and twin.initial_seed() == g.initial_seed()
    assert gg.equal(gg.rand(4, generator=twin), gg.rand(4, generator=g))


# ---- samplers stay in the graph with a zero gradient; dropout3d of fewer dims ---------------------


@pytest.mark.parametrize("sampler", ["bernoulli", "Tensor.bernoulli", "poisson"])
def test_samplers_of_parameters_that_require_grad_give_pytorchs_zero_gradient(torch, sampler):
    got = {}
    for lib in (torch, gg):
        p = lib.full((2, 3), 0.5, dtype=lib.float64, requires_grad=True)
        y = {"bernoulli": lambda: lib.bernoulli(p), "Tensor.bernoulli": lambda: p.bernoulli(),
             "poisson": lambda: lib.poisson(p)}[sampler]()  # fmt: skip
        (y * 2).sum().backward()
        got[lib.__name__] = (
            y.requires_grad,
            type(y.grad_fn).__name__,
            p.grad.tolist(),
            y.dtype == lib.float64,
        )
    assert got["glassgrad"] == got["torch"]
    with gg.no_grad():
        assert not gg.bernoulli(gg.full((3,), 0.5, requires_grad=True)).requires_grad


@pytest.mark.parametrize("shape", [(3000, 3, 4), (3000, 5), (3000,)], ids=str)
def test_dropout3d_reads_fewer_dims_as_unbatched_with_pytorchs_warning(torch, shape):
    seen = {}
    for lib in (torch, gg):
        lib.manual_seed(0)
        with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout3d") as caught:
            y = np.asarray(lib.nn.functional.dropout3d(lib.ones(*shape, dtype=lib.float64), 0.25).tolist())
        rows = y.reshape(shape[0], -1)
        whole = bool(((rows == 0).all(1) | (rows != 0).all(1)).all())  # one draw per index of dim 0
        seen[lib.__name__] = (y.shape, whole, set(np.unique(y).tolist()), len(caught))
        # 3000 draws of P(drop) = 0.25: 12 sigma either side
        assert abs((rows[:, 0] == 0).mean() - 0.25) < 12 * math.sqrt(0.25 * 0.75 / shape[0])
    assert seen["glassgrad"] == seen["torch"]


@pytest.mark.parametrize("form", ["tensor_mean", "tensor_std"])
def test_normal_has_pytorchs_zero_tangent_in_forward_mode(torch, form):
    got = {}
    for lib in (torch, gg):
        fwd = lib.autograd.forward_ad
        with fwd.dual_level():
            x = fwd.make_dual(lib.full((3,), 0.5, dtype=lib.float64), lib.ones(3, dtype=lib.float64))
            y = lib.normal(x, 1.0) if form == "tensor_mean" else lib.normal(0.0, x)
            got[lib.__name__] = fwd.unpack_dual(y).tangent.tolist()
    assert got["glassgrad"] == got["torch"] == [0.0] * 3
