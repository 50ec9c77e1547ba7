"""The elementwise math of ops/math_more.py and ops/unary_more.py against PyTorch (values, dtypes
and gradients, special points included, float64 and float32), against the math module where
PyTorch is absent, and their in-place forms, integer inputs, empty tensors and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError

INF, NAN = math.inf, math.nan


def _rng():
    """A generator per test: the draws do not depend on which tests ran before (xdist)."""
    return np.random.default_rng(0)


COMMON = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 40.0, -40.0, INF, -INF, NAN]

# name -> the points at which it is checked besides 40 random ones in [low, high]
UNARY = {
    "asinh": (COMMON + [1e200], -5, 5),
    "acosh": (COMMON + [1.0 + 1e-12, 2.0, 1e200], 1, 5),
    "atanh": (COMMON + [0.999, -0.999, 1.5], -1, 1),
    "sinc": (COMMON + [1e-8, 2.0, 100.5], -5, 5),
    "deg2rad": (COMMON + [180.0, 360.0], -400, 400),
    "rad2deg": (COMMON + [math.pi], -7, 7),
    "frac": (COMMON + [2.75, -7.25, 1e20], -10, 10),
    "erfc": (COMMON + [10.0, 26.0, 27.0, 30.0, -6.0], -6, 6),
    "erfinv": (COMMON + [0.999999, -0.9999999999, 0.1], -1, 1),
    "lgamma": (COMMON + [-1.0, -2.0, -3.5, 2.0, 1e-8, 2.5e305, 1e306, -1e20], -10, 20),
    "digamma": (COMMON + [-3.0, -3.5, 1e-8, 10.0, 1e20, 1.4616321449683622], -10, 20),
    "i0": (COMMON + [30.0, -30.0, 100.0, 700.0, 709.7, 710.0, 88.0, 89.0], -50, 50),
}
# at these, float32 PyTorch kernels round inputs like pi * x differently: compared in float64 only
FLOAT64_ONLY = {
    "sinc": [100.5],
    "erfinv": [-0.9999999999],
    "i0": [700.0, 709.7],
    "lgamma": [2.5e305, 1e306],
    "digamma": [-1.0, -3.0, -40.0],
}  # digamma's gradient there: pi^2 / sin(pi x)^2 of a rounded pi x


def _check(mine, ref, rtol, atol=0.0):
    ref = ref.detach().numpy() if hasattr(ref, "detach") else np.asarray(ref)
    np.testing.assert_allclose(np.asarray(mine), ref, rtol=rtol, atol=atol, equal_nan=True)


def _run(torch, fn_gg, fn_torch, arrays, rtol, atol=0.0, grads=True):
    """Values, dtype and (if grads) the vector-Jacobian product with ones, without a NumPy warning."""
    ours = [gg.tensor(a, requires_grad=grads and a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grads and a.dtype.kind == "f") for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn_gg(*ours)
        if out.requires_grad:
            out.backward(gg.ones_like(out))
    ref = fn_torch(*theirs)
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    _check(out._data, ref, rtol, atol)
    if out.requires_grad:
        ref.backward(torch.ones_like(ref))
        for a, t in zip(ours, theirs):
            if t.grad is not None:
                _check(a.grad._data, t.grad, rtol, atol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_pytorch(torch, name, dtype):
    points, low, high = UNARY[name]
    if dtype == "float32":
        points = [p for p in points if p not in FLOAT64_ONLY.get(name, [])]
    drawn = _rng().uniform(low, high, 40)
    if name in ("digamma", "lgamma") and dtype == "float32":
        # near the poles at 0, -1, -2 ... float32 values and slopes are rounding noise in both
        drawn = drawn[(drawn > 0) | (np.abs(drawn - np.round(drawn)) > 0.05)]
    with np.errstate(over="ignore"):  # 1e200 is inf in float32
        x = np.concatenate([np.array(points), drawn]).astype(dtype)
    rtol, atol = (1e-11, 1e-300) if dtype == "float64" else (2e-5, 1e-300)
    if name == "digamma" and dtype == "float64":
        rtol = 1e-9  # its gradient: PyTorch's trigamma is good to ~5e-10 (ours to ~1e-15)
    if name in ("digamma", "lgamma") and dtype == "float32":
        atol = 1e-6  # near their zeros PyTorch's float32 kernels are good to ~1e-7 absolute
    _run(torch, getattr(gg, name), getattr(torch, name), [x], rtol, atol)
    if name != "frac":  # Tensor.frac predates gg.frac (methods.py) and is not this module's
        _run(torch, getattr(gg.Tensor, name), getattr(torch.Tensor, name), [x], rtol, atol)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma_matches_pytorch(torch, n):
    x = np.array(
        [0.0, -0.0, -1.0, -0.5, -1.5, 0.3, 1.0, 2.0, 7.5, 1e9, INF, -INF, NAN, *_rng().uniform(-5, 10, 30)]
    )
    # PyTorch's trigamma (n = 1, and n = 0's gradient) is good to ~5e-10; ours to ~1e-15
    rtol = 1e-9 if n <= 1 else 1e-11
    _run(torch, lambda t: gg.polygamma(n, t), lambda t: torch.polygamma(n, t), [x], rtol)
    _run(torch, lambda t: t.polygamma(n), lambda t: t.polygamma(n), [x], rtol)
    with np.errstate(invalid="ignore"):  # inf - inf
        away = x[np.abs(x - np.round(x)) > 0.05].astype(np.float32)  # float32 poles differ in rounding
    # float32: PyTorch's own kernel, good to a few float32 ulps of the result's scale, not relatively
    # near digamma's root (1.4616...), where the value itself is small
    _run(torch, lambda t: gg.polygamma(n, t), lambda t: torch.polygamma(n, t), [away], 1e-5, 1e-6)


def _grid(a, b):
    aa, bb = np.meshgrid(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64))
    return aa.ravel(), bb.ravel()


SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 1e-300, INF, -INF, NAN]
BINARY = ["copysign", "fmax", "fmin", "fmod", "hypot", "logaddexp", "logaddexp2", "xlogy", "float_power"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_pytorch_at_special_points(torch, name, dtype):
    a, b = _grid(SPECIAL, SPECIAL)
    rtol = 1e-12 if dtype == "float64" else 1e-6
    # PyTorch's logaddexp2(-1, -1) is -4.8e-17, not 0 (log1p(1) / ln 2 rounds below 1)
    atol = (1e-15 if dtype == "float64" else 1e-7) if name == "logaddexp2" else 1e-300
    _run(torch, getattr(gg, name), getattr(torch, name), [a.astype(dtype), b.astype(dtype)], rtol, atol)
    _run(
        torch,
        getattr(gg.Tensor, name),
        getattr(torch.Tensor, name),
        [a.astype(dtype), b.astype(dtype)],
        rtol,
        atol,
    )


@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasts_like_pytorch(torch, name):
    rng = _rng()
    a, b = rng.uniform(-3, 3, (4, 1, 3)), rng.uniform(0.5, 3, (2, 3))
    _run(torch, getattr(gg, name), getattr(torch, name), [a, b], 1e-12)
    _run(torch, getattr(gg, name), getattr(torch, name), [b.astype(np.float32), a[0]], 1e-6)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("copysign", (np.array([1, -2, 0]), -1)),
        ("copysign", (np.array([1, -2, 0]), np.array([-1, 2, -3]))),
        ("copysign", (np.array([True, False]), np.array([True, True]))),
        ("fmod", (np.array([-7, 7, 5]), 3)),
        ("fmod", (np.array([-7, 7, 5]), 2.5)),
        ("fmod", (np.array([-7, 7, 5], dtype=np.int32), np.array([3, -3, 2]))),
        ("fmax", (np.array([1, 5, 3]), np.array([3, 2, 3]))),
        ("fmin", (np.array([True, False]), np.array([False, False]))),
        ("fmax", (np.array([1, 5]), np.array([1.5, float("nan")]))),
        ("xlogy", (np.array([0, 1, 2]), np.array([0, 3, 4]))),
        ("xlogy", (2, np.array([0.5, 0.0, float("nan")]))),
        ("xlogy", (np.array([0.0, 2.0]), 3)),
        ("float_power", (np.array([2, 3]), 2)),
        ("float_power", (2, np.array([0.5, 2.0], dtype=np.float32))),
        ("float_power", (np.array([2, 3], dtype=np.int32), np.array([2.0], dtype=np.float32))),
        ("hypot", (np.array([3, 4]), np.array([4.0], dtype=np.float32))),
    ],
)
def test_binary_dtypes_and_numbers_match_pytorch(torch, name, args):
    ours = [gg.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    theirs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    out, ref = getattr(gg, name)(*ours), getattr(torch, name)(*theirs)
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    _check(out._data, ref, 1e-6)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_integer_and_bool_inputs_promote_to_the_default_float(torch, name):
    for arr in (np.array([-3, 0, 1, 2, 7]), np.array([True, False]), np.array([0, 1, 2], dtype=np.uint8)):
        if name == "frac":
            with pytest.raises(DTypeError, match="frac: expected a floating point tensor"):
                gg.frac(gg.tensor(arr))
            continue
        out, ref = getattr(gg, name)(gg.tensor(arr)), getattr(torch, name)(torch.tensor(arr))
        assert out.dtype == gg.float32 and ref.dtype == torch.float32
        _check(out._data, ref, 2e-6)


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
def test_empty_tensors(torch, shape):
    x = gg.zeros(shape, requires_grad=True)
    for name in [*sorted(UNARY), "signbit", "trunc", "fix", "sgn"]:
        assert getattr(gg, name)(x).shape == shape
        assert getattr(torch, name)(torch.zeros(shape)).shape == shape
    for name in [*BINARY, "nextafter"]:
        assert getattr(gg, name)(x, x).shape == shape
    assert gg.polygamma(2, x).shape == shape
    out = gg.lgamma(x) + gg.hypot(x, x)
    out.sum().backward()
    assert x.grad.shape == shape


def test_rounding_sign_and_nextafter_match_pytorch(torch):
    x = np.array([1.5, -1.5, 2.0, -0.0, 0.0, 1e20, INF, -INF, NAN, -NAN], dtype=np.float32)
    for name in ("signbit", "trunc", "fix", "sgn"):
        for arr in (x, x.astype(np.float64), np.array([-3, 0, 4]), np.array([-3, 0, 4], dtype=np.int8)):
            if name == "sgn":  # PyTorch's sign of NaN is 0, glassgrad's (compare.sign, NumPy's) NaN
                arr = arr[~np.isnan(arr)] if arr.dtype.kind == "f" else arr
            out, ref = getattr(gg, name)(gg.tensor(arr)), getattr(torch, name)(torch.tensor(arr))
            assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
            np.testing.assert_array_equal(np.signbit(out.numpy()), np.signbit(ref.numpy()))
    assert gg.signbit(gg.tensor([True])).tolist() == [False] and gg.sgn(gg.tensor([True])).tolist() == [True]
    a, b = _grid(SPECIAL, SPECIAL)
    for dtype in ("float64", "float32"):
        out = gg.nextafter(gg.tensor(a.astype(dtype)), gg.tensor(b.astype(dtype)))
        ref = torch.nextafter(torch.tensor(a.astype(dtype)), torch.tensor(b.astype(dtype)))
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # the step functions are recorded with a zero gradient, as PyTorch's; signbit's bools are not
    w, v = gg.tensor([1.5, -2.5], requires_grad=True), torch.tensor([1.5, -2.5], requires_grad=True)
    for name in ("trunc", "fix", "sgn", "signbit", "floor", "ceil", "round", "sign"):
        out, ref = getattr(gg, name)(w), getattr(torch, name)(v)
        assert out.requires_grad == ref.requires_grad, name
        if out.requires_grad:
            assert out.grad_fn.name() == ref.grad_fn.name(), name
            assert gg.autograd.grad(out.sum(), w)[0].tolist() == [0.0, 0.0]


def test_shifts_match_pytorch(torch):
    counts = np.array([0, 1, 3, 7, 8, 9, 31, 63, 64, 100, -1, -64])
    for dtype in (np.int64, np.int32, np.int16, np.int8, np.uint8):
        x = np.array([1, -8, 3, 127, -128, 0, 5, 100, 1, 2, -1, -3]).astype(dtype)
        for c in (counts, *[int(v) for v in counts]):
            for op in ("__lshift__", "__rshift__"):
                out = getattr(gg.tensor(x), op)(gg.tensor(c) if isinstance(c, np.ndarray) else c)
                ref = getattr(torch.tensor(x), op)(torch.tensor(c) if isinstance(c, np.ndarray) else c)
                assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1], (dtype, c, op)
                np.testing.assert_array_equal(out.numpy(), ref.numpy(), err_msg=f"{dtype} {op} {c}")
    assert (1 << gg.tensor([2, 3])).tolist() == [4, 8] and (256 >> gg.tensor([2])).tolist() == [64]
    assert gg.bitwise_left_shift(3, gg.tensor([1])).tolist() == [6] and (gg.tensor([2]) << True).tolist() == [
        4
    ]
    t = gg.tensor([1, 2])
    t <<= 2
    t >>= gg.tensor([1, 0])
    assert t.tolist() == [2, 8]
    assert gg.tensor([3]).bitwise_right_shift_(1).tolist() == [1]


def test_inplace_forms_match_out_of_place():
    x = gg.tensor([0.3, 0.7, 1.9], dtype=gg.float64)
    for name in ["asinh", "acosh", "atanh", "sinc", "deg2rad", "rad2deg", "frac", "trunc", "fix", "sgn",
                 "erfc", "erfinv", "lgamma", "digamma", "i0", "arcsinh", "arccosh", "arctanh"]:  # fmt: skip
        y = x.clone()
        assert getattr(y, name + "_")() is y
        _check(y._data, getattr(gg, name)(x)._data, 0)
    for name, other in [("copysign", -1.0), ("fmod", 0.5), ("hypot", x), ("xlogy", x), ("nextafter", x * 2),
                        ("float_power", 2.0), ("true_divide", 2.0), ("divide", x), ("multiply", 3.0),
                        ("subtract", x)]:  # fmt: skip
        y = x.clone()
        assert getattr(y, name + "_")(other) is y
        _check(y._data, getattr(x, name)(other)._data, 0)
    y = x.clone()
    assert y.polygamma_(2) is y
    _check(y._data, gg.polygamma(2, x)._data, 0)
    b = gg.tensor([1, 0, 3])
    assert b.clone().logical_and_(gg.tensor([1, 1, 0])).tolist() == [1, 0, 0]
    assert gg.tensor([1.5, 0.0]).logical_not_().tolist() == [0.0, 1.0]
    assert b.clone().bitwise_xor_(2).tolist() == [3, 2, 1] and b.clone().bitwise_not_().tolist() == [
        -2,
        -1,
        -4,
    ]


def test_inplace_is_recorded_on_a_non_leaf_and_refused_on_a_leaf(torch):
    w = gg.tensor([0.5, 1.5, 2.5], dtype=gg.float64, requires_grad=True)
    y = w * 2
    y.lgamma_()
    y.hypot_(w)
    y.sum().backward()
    tw = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float64, requires_grad=True)
    ty = (tw * 2).lgamma().hypot(tw)
    ty.sum().backward()
    _check(y._data, ty, 1e-12)
    _check(w.grad._data, tw.grad, 1e-12)
    with pytest.raises(GraphError):
        w.lgamma_()
    with pytest.raises(DTypeError, match="result type|castable"):
        gg.tensor([1, 2]).lgamma_()


def test_errors():
    f, i = gg.tensor([1.0, 2.0]), gg.tensor([1, 2])
    for name in ("hypot", "logaddexp", "logaddexp2", "nextafter"):
        with pytest.raises(
            DTypeError,
            match=f"{name}: expected floating point tensors, got glassgrad.int64 and glassgrad.int64",
        ):
            getattr(gg, name)(i, i)
    for name in ("hypot", "logaddexp", "logaddexp2", "nextafter", "fmax", "fmin"):
        with pytest.raises(TypeError, match=f"{name}: expected a Tensor for other, got float"):
            getattr(gg, name)(f, 2.0)
    for name in ("copysign", "fmod"):
        with pytest.raises(TypeError, match=f"{name}: expected a Tensor for input, got int"):
            getattr(gg, name)(2, f)
    with pytest.raises(ZeroDivisionError, match="fmod: expected a non-zero integer divisor"):
        gg.fmod(i, 0)
    with pytest.raises(ZeroDivisionError, match="fmod"):
        gg.fmod(i, gg.tensor([1, 0]))
    assert np.isnan(gg.fmod(i, 0.0).numpy()).all()
    with pytest.raises(DTypeError, match="fmod: expected integer or floating point operands"):
        gg.fmod(gg.tensor([True]), gg.tensor([True]))
    with pytest.raises(
        DTypeError, match="bitwise_left_shift: expected integer operands, got glassgrad.float32 and int"
    ):
        f << 1
    with pytest.raises(DTypeError, match="bitwise_right_shift: expected integer operands"):
        i >> 1.5
    with pytest.raises(DTypeError, match="expected integer operands, got glassgrad.bool"):
        gg.tensor([True]) << gg.tensor([True])
    with pytest.raises(ValueError, match="polygamma: expected n >= 0, got -1"):
        gg.polygamma(-1, f)
    with pytest.raises(TypeError, match="polygamma: expected an int n, got float"):
        gg.polygamma(1.0, f)
    with pytest.raises(DTypeError, match="float_power_: expected a float64 tensor"):
        f.float_power_(2)
    with pytest.raises(TypeError, match="float_power: expected a Tensor"):
        gg.float_power(2, 3)
    with pytest.raises(DTypeError, match="trunc: expected a numeric tensor, got bool"):
        gg.trunc(gg.tensor([True]))


def test_accuracy_without_pytorch():
    """Against the math module and known values (runs where PyTorch is absent)."""
    x = np.concatenate([np.linspace(0.01, 30, 600), -np.linspace(0.05, 9.95, 200) + 1e-3])
    ours = gg.lgamma(gg.tensor(x)).numpy()
    np.testing.assert_allclose(ours, [math.lgamma(v) for v in x], rtol=1e-13, atol=1e-14)
    e = np.linspace(-6, 27, 800)
    np.testing.assert_allclose(gg.erfc(gg.tensor(e)).numpy(), [math.erfc(v) for v in e], rtol=1e-13)
    y = np.concatenate([np.linspace(-0.999, 0.999, 400), 1 - np.logspace(-15, -1, 50)])
    back = [math.erf(v) for v in gg.erfinv(gg.tensor(y)).numpy()]
    np.testing.assert_allclose(back, y, rtol=1e-15, atol=2e-16)
    assert gg.digamma(gg.tensor([1.0], dtype=gg.float64)).item() == pytest.approx(
        -0.5772156649015329, rel=1e-15
    )
    assert gg.polygamma(1, gg.tensor([1.0], dtype=gg.float64)).item() == pytest.approx(
        math.pi**2 / 6, rel=1e-15
    )
    assert gg.polygamma(2, gg.tensor([1.0], dtype=gg.float64)).item() == pytest.approx(
        -2.4041138063191885, rel=1e-14
    )
    # digamma is lgamma's derivative, I1 is I0's: central differences of our own values
    h, z = 1e-6, gg.tensor(np.linspace(0.5, 20, 50))
    diff = (gg.lgamma(z + h) - gg.lgamma(z - h)) / (2 * h)
    np.testing.assert_allclose(diff.numpy(), gg.digamma(z).numpy(), rtol=1e-7)
    i0 = gg.i0(gg.tensor([0.0, 1.0, 10.0, 50.0], dtype=gg.float64)).numpy()
    np.testing.assert_allclose(
        i0, [1.0, 1.2660658777520082, 2815.716628466254, 2.9325537838493355e20], rtol=1e-14
    )


def test_names_match_pytorch(torch):
    funcs = ["copysign", "fmax", "fmin", "fmod", "hypot", "logaddexp", "logaddexp2", "xlogy", "float_power",
             "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "sinc", "deg2rad", "rad2deg", "frac",
             "signbit", "trunc", "fix", "sgn", "nextafter", "bitwise_left_shift", "bitwise_right_shift",
             "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "erfc", "erfinv", "lgamma", "digamma",
             "polygamma", "i0"]  # fmt: skip
    for name in funcs:
        assert hasattr(gg, name) and name in gg.__all__, name
        assert hasattr(gg.Tensor, name), name
        assert hasattr(gg.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name
