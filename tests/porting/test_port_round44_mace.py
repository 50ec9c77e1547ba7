"""Round 44, group mace: MACE (ACEsuit/mace) with e3nn, run with only its imports changed.

MACE's Chebyshev radial basis (``radial_type="chebyshev"``) calls
``torch.special.chebyshev_polynomial_t``, which glassgrad did not have (nor the other orthogonal
polynomials of ``torch.special``): the whole family is here now, as PyTorch's kernels compute it,
and, as PyTorch's, without a gradient.
"""

import math

import numpy as np
import pytest

import glassgrad as gg

NAMES = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
    "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip


def _grid(dtype):
    rng = np.random.default_rng(44)
    xs = np.concatenate([
        np.linspace(-1.5, 1.5, 31), [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 0.999999, 5.0, -7.3],
        rng.uniform(-1.2, 1.2, 20), rng.uniform(-0.2, 1.2, 20),
    ])  # fmt: skip
    x, n = np.meshgrid(xs, np.arange(-2, 30))
    return x.astype(dtype), n


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_orthogonal_polynomials_match_pytorch(torch, name, dtype):
    # was: AttributeError "torch.special.chebyshev_polynomial_t is not implemented in glassgrad"
    # (MACE's ChebychevBasis); now every degree -2..29 (integer and fractional n) on a grid that
    # has the ends, the high-degree trigonometric branch and the overflowing range. PyTorch's
    # compiled kernel fuses multiply-adds, so the last bits may differ: the bound is the
    # recurrence's rounding, eps (n + 1)^2 relative to max(|value|, 1)
    x, n = _grid(dtype)
    eps = np.finfo(dtype).eps
    for deg in (n, n + 0.6):
        deg = deg.astype(np.int64) if deg is n else deg.astype(dtype)
        want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(deg)).numpy()
        got = getattr(gg.special, name)(gg.tensor(x), gg.tensor(deg))
        assert got.dtype == getattr(gg, str(want.dtype))
        got = got.numpy()
        scale = np.maximum(np.abs(want.astype(np.float64)), 1) * eps * (np.abs(n) + 1) ** 2
        big = np.abs(want) > np.finfo(dtype).max / 4  # overflow may come one degree apart
        with np.errstate(invalid="ignore"):  # inf - inf
            close = np.abs(got - want.astype(np.float64)) <= 4 * scale
        ok = (got == want) | close | big | (np.isnan(got) & np.isnan(want))
        if name == "hermite_polynomial_he" and dtype == np.float32:
            # He_17(0.75) in float32 cancels terms near 1e4: both libraries are 1e-3 off the true value
            ok |= np.abs(got - want) <= 1e-3 * np.maximum(np.abs(want), 1)
        assert ok.all(), (x[~ok][:5], n[~ok][:5], got[~ok][:5], want[~ok][:5])


def test_orthogonal_polynomials_hand_values():
    x = gg.tensor([0.3, -0.5, 0.0, 1.0, -1.0, 2.0], dtype=gg.float64)
    v = x.numpy()
    sp = gg.special
    np.testing.assert_allclose(sp.chebyshev_polynomial_t(x, 3).numpy(), 4 * v**3 - 3 * v, atol=1e-14)
    np.testing.assert_allclose(sp.chebyshev_polynomial_u(x, 2).numpy(), 4 * v**2 - 1, atol=1e-14)
    np.testing.assert_allclose(sp.chebyshev_polynomial_v(x, 1).numpy(), 2 * v - 1, atol=1e-14)
    np.testing.assert_allclose(sp.chebyshev_polynomial_w(x, 1).numpy(), 2 * v + 1, atol=1e-14)
    np.testing.assert_allclose(sp.hermite_polynomial_h(x, 3).numpy(), 8 * v**3 - 12 * v, atol=1e-13)
    np.testing.assert_allclose(sp.hermite_polynomial_he(x, 3).numpy(), v**3 - 3 * v, atol=1e-14)
    np.testing.assert_allclose(sp.laguerre_polynomial_l(x, 2).numpy(), (v**2 - 4 * v + 2) / 2, atol=1e-14)
    np.testing.assert_allclose(sp.legendre_polynomial_p(x, 2).numpy(), (3 * v**2 - 1) / 2, atol=1e-14)
    s = gg.tensor([0.1, 0.65, 0.0, 1.0], dtype=gg.float64)
    u = 2 * s.numpy() - 1
    np.testing.assert_allclose(sp.shifted_chebyshev_polynomial_t(s, 2).numpy(), 2 * u**2 - 1, atol=1e-14)
    # the high-degree branch: T_n(cos a) = cos(n a), U_n(cos a) = sin((n + 1) a) / sin a
    a = np.array([0.2, 1.1, 2.5])
    c = gg.tensor(np.cos(a))
    np.testing.assert_allclose(sp.chebyshev_polynomial_t(c, 20).numpy(), np.cos(20 * a), atol=1e-12)
    np.testing.assert_allclose(
        sp.chebyshev_polynomial_u(c, 20).numpy(), np.sin(21 * a) / np.sin(a), atol=1e-11
    )
    # a negative degree is 0; a fractional one truncates; NaN and inf degrees count as negative
    deg = gg.tensor([-1.0, 2.9, math.nan, math.inf], dtype=gg.float64)
    assert sp.chebyshev_polynomial_t(gg.tensor(0.3, dtype=gg.float64), deg).tolist() == pytest.approx(
        [0.0, 2 * 0.09 - 1, 0.0, 0.0]
    )


def test_orthogonal_polynomials_dtypes_and_no_gradient(torch):
    sp = gg.special
    # integer operands compute in the default float dtype; a 0-d float64 beside an int32 n is float64
    assert sp.chebyshev_polynomial_t(gg.tensor([2, 3]), gg.tensor([2, 3])).tolist() == [7.0, 99.0]
    assert sp.chebyshev_polynomial_t(gg.tensor([2, 3]), 2.0).dtype == gg.float32
    r = sp.chebyshev_polynomial_t(gg.tensor(0.3, dtype=gg.float64), gg.tensor([2], dtype=gg.int32))
    assert r.dtype == gg.float64
    assert sp.hermite_polynomial_h(0.5, gg.tensor([3])).dtype == gg.float32
    # PyTorch's output never requires grad (its kernels have no derivative)
    x = gg.tensor([0.3, 0.6], requires_grad=True)
    y = sp.chebyshev_polynomial_t(x, 3)
    tx = torch.tensor([0.3, 0.6], requires_grad=True)
    assert y.requires_grad is torch.special.chebyshev_polynomial_t(tx, 3).requires_grad is False
    assert y.grad_fn is None
    # PyTorch's keyword names, and out=
    assert sp.legendre_polynomial_p(x=gg.tensor([0.5]), n=2).tolist() == [-0.125]
    buf = gg.empty(1)
    assert sp.chebyshev_polynomial_t(gg.tensor([0.3]), 2, out=buf) is buf
    assert buf.tolist() == pytest.approx([-0.82])


def test_orthogonal_polynomials_refuse_bad_input(torch):
    sp = gg.special
    with pytest.raises(TypeError, match="chebyshev_polynomial_t: expected a Tensor as x or n"):
        sp.chebyshev_polynomial_t(0.3, 3)
    with pytest.raises(TypeError):
        torch.special.chebyshev_polynomial_t(0.3, 3)
    with pytest.raises(gg.errors.ShapeError, match=r"hermite_polynomial_h: .*\(2,\) and \(3,\)"):
        sp.hermite_polynomial_h(gg.ones(2), gg.ones(3))
    with pytest.raises(gg.errors.DTypeError, match="legendre_polynomial_p: .*complex"):
        sp.legendre_polynomial_p(gg.tensor([0.3 + 1j]), 2)
    with pytest.raises(gg.errors.DTypeError, match="laguerre_polynomial_l: .*float16"):
        sp.laguerre_polynomial_l(gg.tensor([0.3], dtype=gg.float16), 2)
    with pytest.raises(NotImplementedError):
        torch.special.laguerre_polynomial_l(torch.tensor([0.3], dtype=torch.float16), 2)
    with pytest.raises(gg.errors.DTypeError):  # a float result into an integer out, as PyTorch
        sp.chebyshev_polynomial_t(gg.ones(2), 2, out=gg.empty(2, dtype=gg.int64))


def test_orthogonal_polynomials_on_meta():
    y = gg.special.chebyshev_polynomial_t(gg.empty(4, 1, device="meta"), gg.tensor([1, 2, 3]).to("meta"))
    assert y.shape == (4, 3) and y.device.type == "meta"


@pytest.mark.parametrize(
    "name", ["backends.cudnn", "backends.mps", "backends.cuda", "backends.mkldnn", "backends.openmp",
             "backends.cpu", "cuda.amp.grad_scaler"],
)  # fmt: skip
def test_built_submodules_are_found_by_find_spec(torch, name):
    # was: ValueError "glassgrad.backends.mps.__spec__ is None" from importlib.util.find_spec
    # (an import hook asks it: nequip's Lightning under a torch -> glassgrad alias); PyTorch's are
    # found (but cudnn's and mkldnn's, which PyTorch swaps for a module object without a spec)
    import importlib
    import importlib.util

    if name not in ("backends.cudnn", "backends.mkldnn"):
        assert importlib.util.find_spec(f"torch.{name}") is not None
    # (the spec's name is not checked: another test's import alias may have re-specced the module)
    assert importlib.util.find_spec(f"glassgrad.{name}") is not None
    assert importlib.import_module(f"glassgrad.{name}") is importlib.import_module(f"glassgrad.{name}")


def test_every_loaded_glassgrad_module_has_a_spec():
    import sys

    import glassgrad.cuda.amp  # noqa: F401  (makes cuda.amp.grad_scaler)

    missing = [n for n, m in list(sys.modules.items()) if n.startswith("glassgrad") and m is not None
               and getattr(m, "__spec__", None) is None]  # fmt: skip
    assert missing == []


def test_nequip_start_up_names_import(torch):
    # was, one after the other under nequip's imports: "No module named 'glassgrad._decomp'",
    # "cannot import name '_group_tensors_by_device_and_dtype' from 'glassgrad.optim.swa_utils'",
    # "module 'glassgrad.jit' has no attribute 'set_fusion_strategy'", "cannot import name
    # 'codecache' from 'glassgrad._inductor'"
    from torch._decomp import core_aten_decompositions as theirs  # noqa: F401

    from glassgrad._decomp import core_aten_decompositions
    from glassgrad._inductor import codecache  # noqa: F401
    from glassgrad.optim.swa_utils import (
        _get_foreach_kernels_supported_devices,
        _group_tensors_by_device_and_dtype,
    )

    with pytest.raises(NotImplementedError, match="core_aten_decompositions.*no ATen decomposition table"):
        core_aten_decompositions()
    # the EMA update of nequip: two lists grouped by (device, dtype), with the indices
    a = [gg.ones(2), gg.ones(3, dtype=gg.float64), gg.zeros(1)]
    b = [gg.ones(2), gg.ones(3, dtype=gg.float64), gg.zeros(1)]
    ta = [torch.ones(2), torch.ones(3, dtype=torch.float64), torch.zeros(1)]
    theirs_groups = torch.optim.swa_utils._group_tensors_by_device_and_dtype([ta, ta])
    ours_groups = _group_tensors_by_device_and_dtype([a, b])
    assert sorted(
        (str(d), str(t).split(".")[-1], idx) for (d, t), (_, idx) in theirs_groups.items()
    ) == sorted((str(d), str(t).split(".")[-1], idx) for (d, t), (_, idx) in ours_groups.items())
    (lists, _), *_ = [v for (d, t), v in ours_groups.items() if t == gg.float32]
    assert lists[0][0] is a[0] and lists[1][1] is b[2]
    assert (
        _get_foreach_kernels_supported_devices()
        == torch.optim.swa_utils._get_foreach_kernels_supported_devices()
    )


@pytest.mark.filterwarnings("ignore:.*set_fusion_strategy.* is deprecated:DeprecationWarning")
def test_set_fusion_strategy_returns_the_previous_one(torch):
    default = [("STATIC", 2), ("DYNAMIC", 10)]
    with pytest.warns(DeprecationWarning, match="set_fusion_strategy"):
        gg.jit.set_fusion_strategy(default)
    for lib in (torch, gg):
        assert lib.jit.set_fusion_strategy([("DYNAMIC", 3)]) == default
        assert lib.jit.set_fusion_strategy(default) == [("DYNAMIC", 3)]
        with pytest.raises(ValueError, match="only supported 'STATIC' or 'DYNAMIC', got: FOO"):
            lib.jit.set_fusion_strategy([("FOO", 3)])
        with pytest.raises(TypeError):
            lib.jit.set_fusion_strategy([("STATIC", -1)])
        with pytest.raises(TypeError):
            lib.jit.set_fusion_strategy(("STATIC", 1))
        assert lib.jit.set_fusion_strategy(default) == default


def test_global_forward_hooks_from_the_module_path(torch):
    # was: AttributeError "module 'glassgrad.nn.modules.module' has no attribute
    # 'register_module_forward_pre_hook'" (nequip's tests/conftest.py, set_irreps_debug)
    import glassgrad.nn.modules.module as ours

    seen = []
    for lib, mod in ((torch, torch.nn.modules.module), (gg, ours)):
        h1 = mod.register_module_forward_pre_hook(lambda m, inp: seen.append((lib.__name__, "pre")))
        h2 = mod.register_module_forward_hook(lambda m, inp, out: seen.append((lib.__name__, "post")))
        try:
            lib.nn.Identity()(lib.ones(1))
        finally:
            h1.remove()
            h2.remove()
        lib.nn.Identity()(lib.ones(1))  # removed: nothing more
    assert seen == [("torch", "pre"), ("torch", "post"), ("glassgrad", "pre"), ("glassgrad", "post")]
    assert ours._global_forward_pre_hooks == {} and ours._global_forward_hooks == {}


@pytest.mark.parametrize("name", ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"])
def test_autograd_functional_takes_pytorchs_parameter_names(torch, name):
    # was: TypeError "jacobian() got an unexpected keyword argument 'func'" (nequip's
    # PartialForceOutput calls jacobian(func=..., inputs=..., create_graph=..., vectorize=...));
    # vjp named it fn too
    import inspect

    theirs = list(inspect.signature(getattr(torch.autograd.functional, name)).parameters)
    assert list(inspect.signature(getattr(gg.autograd.functional, name)).parameters) == theirs


def test_jacobian_by_keywords_as_nequip_calls_it(torch):
    x = np.array([0.3, -1.2, 0.7])
    results = []
    for lib in (torch, gg):
        xt = lib.tensor(x, requires_grad=True)
        jac = lib.autograd.functional.jacobian(func=lambda p: (p**3).sum(0, keepdim=True) * p, inputs=xt,
                                               create_graph=True, vectorize=False)  # fmt: skip
        results.append(jac.detach().numpy())
        _, v = lib.autograd.functional.vjp(func=lambda p: p.sin(), inputs=xt, v=lib.ones(3, dtype=xt.dtype))
        results.append(v.numpy())
    np.testing.assert_allclose(results[2], results[0], rtol=1e-14)
    np.testing.assert_allclose(results[3], results[1], rtol=1e-14)
