"""Round 60, NaN/inf follow-ups, each against PyTorch: ``renorm``'s backward (PyTorch's closed
form, its norm and sums in float64 for float32: +-inf where a row's norm overflows float32, the
norm's term kept for huge float64 rows), with its double backward and forward mode; rms_norm's pow (a nan gradient past
float32's 1.7e38, as PyTorch's ``2 * x``); ``poisson_nll_loss(full=True)``'s target gradient at 0;
SDPA's fully masked row with a NaN value (the query's gradient NaN, as PyTorch's ``P (dP - D)``);
the gradient nodes of ``div(rounding_mode=)`` (zeros), ``nextafter`` (g to input),
``floor_divide`` (none: backward raises) and ``special.modified_bessel_i0/i1`` (no node);
``logsumexp`` without ``dim`` refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from tests.ops.test_nan_inf_round60 import _check

nan, inf = np.nan, np.inf


def _both(torch, fn, *arrays, rtol=None, fixed=()):
    """``fn(lib, *tensors)`` on both libraries: the output and the gradients of every floating
    input but those at ``fixed``, for a fixed output gradient."""
    results = []
    for lib in (torch, gg):
        ts = [
            lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f" and i not in fixed)
            for i, a in enumerate(arrays)
        ]
        out = fn(lib, *ts)
        row = [out.detach().numpy()]
        go = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(row[0].dtype)
        gs = lib.autograd.grad(out, [t for t in ts if t.requires_grad], lib.tensor(go), allow_unused=True)
        results.append(row + [g.numpy() for g in gs])
    tol = rtol or (1e-12 if results[0][0].dtype == np.float64 else 2e-6)
    for a, b in zip(*results, strict=True):
        _check(a, b, tol)


_DTYPES = [np.float64, np.float32]


# ---- renorm: one op with PyTorch's renorm_backward -------------------------------------------

_PS = [1.0, 2.0, 3.0, 0.5, 1.5, inf]


@pytest.mark.parametrize("p", _PS, ids=str)
@pytest.mark.parametrize("dtype", _DTYPES)
def test_renorm_huge_rows(torch, dtype, p):
    big = 3e38 if dtype == np.float32 else 1e300
    x = np.array(
        [[big, big, 1.0], [1.0, 2.0, 3.0], [big, -1.0, 2.0], [inf, 1.0, 2.0], [nan, 1.0, 0.0]], dtype
    )
    _both(torch, lambda lib, a: lib.renorm(a, p, 0, 5.0), x, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("p", _PS, ids=str)
@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm_finite(torch, dtype, p, dim):
    x = np.random.default_rng(4).normal(size=(3, 4, 2)).astype(dtype)
    x[1] *= 3
    x[:, 2] *= 0.1
    _both(torch, lambda lib, a: lib.renorm(a, p, dim, 1.5), x, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("p", _PS, ids=str)
def test_renorm_second_order_and_forward_mode(torch, p):
    x = np.random.default_rng(5).normal(size=(3, 4))
    x[1] *= 3
    x[2, 1] = 0.0
    rows = []
    for lib in (torch, gg):
        t = lib.tensor(x, requires_grad=True)
        y = lib.renorm(t, p, 0, 2.0)
        (g,) = lib.autograd.grad((y * y * y).sum(), t, create_graph=True)
        (g2,) = lib.autograd.grad((g * g).sum(), t)
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(x), lib.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4)))
            tangent = fw.unpack_dual(lib.renorm(d, p, 0, 2.0)).tangent
        rows.append((y.detach().numpy(), g.detach().numpy(), g2.numpy(), tangent.numpy()))
        assert type(y.grad_fn).__name__ == "RenormBackward0"
    for a, b in zip(*rows, strict=True):
        _check(a, b, 1e-12)


# ---- rms_norm: PyTorch's pow(x, 2), whose backward's 2 * x overflows float32 -------------------


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("weight", [False, True], ids=["plain", "weight"])
def test_rms_norm_huge_rows(torch, dtype, weight):
    big = 3e38 if dtype == np.float32 else 1e300
    x = np.array(
        [[big, -2.5, 2.0, -2.75, 1.25], [1e20, 1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]], dtype
    )
    w = np.array([0.5, 1.5, -1.0, 2.0, 1.0], dtype)

    def fn(lib, a, w):
        return lib.nn.functional.rms_norm(a, (5,), w if weight else None, eps=1e-5)

    _both(torch, fn, x, w, fixed=() if weight else (1,))


# ---- poisson_nll_loss(full=True): the Stirling term of the target itself ---------------------


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("log_input", [True, False], ids=["log_input", "rate_input"])
def test_poisson_nll_full_target_gradient(torch, dtype, log_input):
    x = np.array([0.5, 1.0, 0.25, 2.0, 0.75, 1.5], dtype)
    t = np.array([0.0, 0.5, 1.0, 3.0, -1.0, 7.0], dtype)  # nan gradients at 0 and below, as PyTorch's

    def fn(lib, a, b):
        return lib.nn.functional.poisson_nll_loss(a, b, log_input=log_input, full=True, reduction="none")

    _both(torch, fn, x, t)


# ---- SDPA: a fully masked row reads nothing, but a NaN value still reaches its query -------------


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize("where", ["nan_value", "finite"])
def test_sdpa_masked_row_gradient(torch, dtype, mask_kind, where):
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(2, 3, 4)).astype(dtype) for _ in range(3))
    if where == "nan_value":
        v[0, 1, 2] = nan
    keep = np.ones((3, 3), bool)
    keep[1] = False  # query 1 may attend to no key
    mask = keep if mask_kind == "bool" else np.where(keep, 0.0, -inf).astype(dtype)

    def fn(lib, q, k, v):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask))

    _both(torch, fn, q, k, v)


# ---- gradient nodes: div(rounding_mode=), nextafter, floor_divide, modified_bessel_i0/i1 -------


def _node(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("other_kind", ["tensor", "number", "int_tensor"])
def test_div_rounding_mode_zero_gradient(torch, mode, other_kind):
    rows = []
    for lib in (torch, gg):
        a = lib.tensor([[5.5, -3.0, 7.25]], dtype=lib.float64, requires_grad=True)
        b = {
            "tensor": lib.tensor([[2.0], [-1.5]], dtype=lib.float64, requires_grad=True),
            "number": 2.5,
            "int_tensor": lib.tensor([[2], [3]]),
        }[other_kind]
        y = lib.div(a, b, rounding_mode=mode)
        wanted = [t for t in (a, b) if isinstance(t, lib.Tensor) and t.requires_grad]
        gs = lib.autograd.grad((y * y).sum(), wanted)
        rows.append((y.detach().numpy(), y.requires_grad, _node(y), [g.numpy() for g in gs]))
    (ty, treq, tnode, tgs), (gy, greq, gnode, ggs) = rows
    np.testing.assert_array_equal(gy, ty)
    assert (greq, gnode) == (treq, tnode)
    for tg, g in zip(tgs, ggs, strict=True):
        np.testing.assert_array_equal(g, tg)


def test_div_rounding_mode_without_grad(torch):
    for lib in (torch, gg):
        a = lib.tensor([5.0, -3.0], requires_grad=True)
        with lib.no_grad():
            assert not lib.div(a, 2, rounding_mode="floor").requires_grad
        assert not lib.div(a.detach(), 2, rounding_mode="trunc").requires_grad
        assert lib.div(lib.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]


def test_nextafter_gradient(torch):
    rows = []
    for lib in (torch, gg):
        a = lib.tensor([[1.0, -2.0, 0.0, nan, inf]], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(
            [[0.0], [3.0], [inf]], dtype=lib.float64, requires_grad=True
        )  # a == b: no gradient, as PyTorch's
        y = lib.nextafter(a, b)
        go = lib.tensor(np.linspace(0.5, 1.5, 15).reshape(3, 5))
        ga, gb = lib.autograd.grad(y, (a, b), go, retain_graph=True)
        gga, ggb = lib.autograd.grad(y, (a, b), go, create_graph=True)
        rows.append((y.detach().numpy(), _node(y), ga.numpy(), gb.numpy(), gga.detach().numpy(), ggb.numpy()))
    for t, g in zip(*rows, strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(t))


def test_flat_pair_forward_ad(torch):
    rows = []
    for lib in (torch, gg):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor([5.0, -3.0]), lib.tensor([1.0, 2.0]))
            floor = fw.unpack_dual(lib.div(d, 2.0, rounding_mode="floor")).tangent
            after = fw.unpack_dual(lib.nextafter(d, lib.tensor([0.0, 0.0]))).tangent
        rows.append((floor.numpy(), after.numpy()))
    for t, g in zip(*rows, strict=True):
        np.testing.assert_array_equal(g, t)


@pytest.mark.parametrize("form", ["function", "operator", "reflected", "method"])
def test_floor_divide_has_no_derivative(torch, form):
    for lib in (torch, gg):
        a = lib.tensor([5.0, -3.0], requires_grad=True)
        y = {
            "function": lambda: lib.floor_divide(a, 2.0),
            "operator": lambda: a // lib.tensor([2.0, 4.0]),
            "reflected": lambda: 7 // a,
            "method": lambda: a.floor_divide(2),
        }[form]()
        assert y.requires_grad and _node(y) == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for .*floor_divide is not implemented"):
            y.sum().backward()


def test_floor_divide_values_and_integers(torch):
    a, b = np.array([5.5, -3.0, 7.0, 1.0]), np.array([2.0, 2.0, -inf, 0.0])
    ty = torch.floor_divide(torch.tensor(a, requires_grad=True), torch.tensor(b)).detach().numpy()
    gy = gg.floor_divide(gg.tensor(a, requires_grad=True), gg.tensor(b)).detach().numpy()
    np.testing.assert_array_equal(gy, ty)
    assert (gg.tensor([7, -7]) // 2).tolist() == [3, -4]
    with pytest.raises(ZeroDivisionError):
        gg.tensor([1, 2]) // gg.tensor([1, 0])


@pytest.mark.parametrize("name", ["modified_bessel_i0", "modified_bessel_i1"])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_modified_bessel_i_records_no_gradient(torch, name, dtype):
    x = np.array([0.0, 0.5, -3.0, 30.0, 80.0, 89.0, -100.0, inf, nan], dtype)
    ty = getattr(torch.special, name)(torch.tensor(x, requires_grad=True))
    gy = getattr(gg.special, name)(gg.tensor(x, requires_grad=True))
    assert (gy.requires_grad, gy.grad_fn) == (ty.requires_grad, ty.grad_fn) == (False, None)
    _check(ty.numpy(), gy.numpy(), 1e-13 if dtype == np.float64 else 2e-6)
    # torch.i0 / special.i1 keep theirs
    assert gg.special.i1(gg.tensor(x, requires_grad=True)).requires_grad


def test_modified_bessel_i_dtypes(torch):
    for name in ("modified_bessel_i0", "modified_bessel_i1"):
        ty = getattr(torch.special, name)(torch.tensor([1, 2]))
        gy = getattr(gg.special, name)(gg.tensor([1, 2]))
        assert str(gy.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
        with pytest.raises(TypeError, match="float16"):
            getattr(gg.special, name)(gg.tensor([1.0], dtype=gg.float16))
        out = gg.empty(2)
        assert getattr(gg.special, name)(gg.tensor([1.0, 2.0]), out=out) is out


# ---- logsumexp: dim is required, as PyTorch's ------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.logsumexp(x),
        lambda lib, x: lib.logsumexp(x, None),
        lambda lib, x: lib.special.logsumexp(x),
        lambda lib, x: x.logsumexp(),
        lambda lib, x: x.logsumexp(None),
    ],
    ids=["function", "function_none", "special", "method", "method_none"],
)
def test_logsumexp_requires_dim(torch, call):
    for lib in (torch, gg):
        with pytest.raises(TypeError, match="dim"):
            call(lib, lib.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_logsumexp_with_dims(torch):
    x = np.array([[1.0, 2.0, -inf], [3.0, 4.0, 0.5]])
    for dim in (0, -1, (0, 1), [1]):
        t = torch.logsumexp(torch.tensor(x), dim).numpy()
        np.testing.assert_allclose(gg.logsumexp(gg.tensor(x), dim).numpy(), t, rtol=1e-15)


# ---- signed zeros: relu and one-bound clamps keep the input's zero on a tie, as PyTorch's -------


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, b: lib.relu(x),
        lambda lib, x, b: lib.nn.functional.relu(x),
        lambda lib, x, b: x.clamp_min(0.0),
        lambda lib, x, b: x.clamp_max(0.0),
        lambda lib, x, b: x.clamp(min=-0.0),
        lambda lib, x, b: x.clamp(-0.0, 0.0),
    ],
    ids=["relu", "F.relu", "clamp_min", "clamp_max", "clamp_neg_zero", "clamp_both"],
)
@pytest.mark.parametrize("repeat", [1, 6], ids=["scalar_path", "vector_path"])
def test_zero_sign_on_ties(torch, dtype, call, repeat):
    # (tensor bounds are left out: PyTorch's tie there depends on its SIMD or scalar loop)
    x = np.array([-0.0, 0.0, -0.0, 0.0, -1.0, 2.0, nan] * repeat, dtype)
    t = call(torch, torch.tensor(x), None).numpy()
    g = call(gg, gg.tensor(x), None).numpy()
    np.testing.assert_array_equal(np.signbit(g), np.signbit(t))
    np.testing.assert_array_equal(g, t)
