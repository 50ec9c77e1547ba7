"""The defects a second differential fuzz of the core ops against PyTorch found (twenty-sixth
session: random dtypes, shapes with 0 and 1 dims, NaN/inf/-0.0 values, a table of ~250 ops), each
failing before its fix: integer operands wrapped into a narrower integer dtype before a float
computation, ``gcd``'s result dtype, ``unique`` folding NaNs, ``xlogy`` taking its log in float32,
and gradients at NaN, inf and 0 (``logit``, ``abs``, Huber and smooth L1). The driver lives outside
the repository, as the first one's (``test_fuzz_core.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck

torch = None  # set by _torch below


@pytest.fixture(autouse=True)
def _torch(torch):  # the session fixture (tests/conftest.py): each test skips alone without PyTorch
    globals()["torch"] = torch


def _read(t):
    return np.array(t.detach().tolist(), dtype=str(t.dtype).split(".")[-1]).reshape(tuple(t.shape))


def _same(fn, *arrays, grad=()):
    """fn on tensors made from ``arrays`` in both libraries: dtype, values (NaN, inf and the sign
    of infinities included) and the gradients of the inputs in ``grad`` against a weighted sum."""
    outs = []
    for M in (torch, gg):
        ts = [M.tensor(a) for a in arrays]
        for i in grad:
            ts[i].requires_grad_(True)
        y = fn(M, *ts)
        grads = []
        if grad:
            w = M.linspace(0.5, 1.5, y.numel(), dtype=y.dtype).reshape(y.shape)
            grads = list(M.autograd.grad((y * w).sum(), [ts[i] for i in grad]))
        outs.append((y, grads))
    (yt, gt), (yg, gg_) = outs
    assert str(yt.dtype).split(".")[-1] == str(yg.dtype).split(".")[-1], (yt.dtype, yg.dtype)
    for a, b in zip([yt, *gt], [yg, *gg_], strict=True):
        np.testing.assert_allclose(_read(b), _read(a), rtol=_RTOL.get(_read(a).dtype.name, 0), atol=0)


# float32: two ulps, PyTorch's Sleef kernels (atan2, log) against NumPy's (docs/design.md's list)
_RTOL = {"float64": 1e-12, "float32": 2.4e-7}


# ------------------------------------------------------------------ integers computed in float
NEG = np.array(-4)  # int64, 0-d: it does not set the result's integer dtype beside a uint8 tensor
U8 = np.array([6, 7, 250], np.uint8)
I8 = np.array([2, 3, -5], np.int8)


@pytest.mark.parametrize(
    "fn",
    [
        lambda M, a, b: M.true_divide(a, b),
        lambda M, a, b: M.div(b, a),
        lambda M, a, b: a / b,
        lambda M, a, b: b / -4,
        lambda M, a, b: -300 / b,
        lambda M, a, b: b.div(-3),
        lambda M, a, b: M.atan2(a, b),
        lambda M, a, b: M.xlogy(a, b),
        lambda M, a, b: M.special.xlog1py(b, a),
        lambda M, a, b: M.copysign(b, a),
    ],
)
@pytest.mark.parametrize("other", [U8, I8], ids=["uint8", "int8"])
def test_integers_are_cast_to_float_from_their_own_dtype(fn, other):
    # before: -4 became uint8 252 (and 300 int8 44) first, so -4 / 6 gave 42.0
    _same(fn, NEG, other)
    _same(fn, np.array(300), other)


def test_gcd_and_lcm_keep_the_dimensioned_tensors_integer_dtype():
    # before: a 0-d int8 beside a uint8 (2,) gave int16 (NumPy's rule), PyTorch's is uint8
    for fn in (lambda M, a, b: M.gcd(a, b), lambda M, a, b: M.lcm(b, a)):
        _same(fn, np.array([6, 12], np.uint8), np.array(-4, np.int8))
        _same(fn, np.array([6, 12], np.uint8), np.array([-4, 6], np.int8))  # both with dims: int16


# ------------------------------------------------------------------ values
def test_unique_keeps_each_nan_as_pytorch():
    x = np.array([1.0, np.nan, 2.0, np.nan, 1.0, 0.5])
    for M in (torch, gg):
        values, inverse, counts = M.unique(M.tensor(x), return_inverse=True, return_counts=True)
        assert _read(values).shape == (5,), M  # before: the two NaNs were one value
        assert inverse.tolist() == [1, 3, 2, 4, 1, 0]
        assert counts.tolist() == [1, 2, 1, 1, 1]


def test_xlogy_of_float32_beside_float64_takes_its_log_in_float64():
    a = np.array([[1.9, 2.1, -2.4]])
    b = np.array([2.258189, 0.1, 7.3], np.float32)
    _same(lambda M, x, y: M.xlogy(x, y), a, b, grad=(0, 1))
    _same(lambda M, x, y: M.special.xlog1py(x, y), a, b, grad=(0, 1))


# ------------------------------------------------------------------ gradients at NaN, inf, 0
EDGES = np.array([np.nan, np.inf, -np.inf, 3.0, -3.0, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.2])


@pytest.mark.parametrize(
    "fn",
    [
        lambda M, x: M.abs(x),
        lambda M, x: M.nn.functional.l1_loss(x, M.zeros_like(x), reduction="none"),
        lambda M, x: M.nn.functional.huber_loss(x, M.zeros_like(x), reduction="none", delta=0.7),
        lambda M, x: M.nn.functional.huber_loss(x, M.zeros_like(x), reduction="none"),
        lambda M, x: M.nn.functional.smooth_l1_loss(x, M.zeros_like(x), reduction="none", beta=0.5),
    ],
)
def test_gradients_at_nan_inf_and_zero_as_pytorch(fn):
    # before: |x|'s slope at NaN was NaN (PyTorch's is 0), Huber/smooth L1's at +-inf NaN (+-1)
    _same(fn, EDGES, grad=(0,))
    _same(fn, EDGES.astype(np.float32), grad=(0,))


def test_logit_gradient_outside_and_at_the_ends_of_its_domain():
    # 64 elements: every one in PyTorch's vectorised loop (its scalar loop over a small tensor's
    # tail gives +inf at -0.0, and NaN at NaN with eps; round 49 follows the vectorised kernel)
    x = np.tile(np.array([-0.5, 1.5, 0.0, -0.0, 1.0, 0.3, 0.05, np.nan]), 8)
    # before: finite outside [0, 1] (the value is NaN there), NaN at 0 and 1
    _same(lambda M, t: M.logit(t), x, grad=(0,))
    _same(lambda M, t: M.logit(t) * -1, x, grad=(0,))  # a negative upstream gradient: -inf at 0 and 1
    _same(lambda M, t: M.logit(t, eps=0.1), x, grad=(0,))
    _same(lambda M, t: M.logit(t), x.astype(np.float32), grad=(0,))
    _same(lambda M, t: M.logit(t), np.array([0, 1, 2], np.uint8))
    y = gg.logit(gg.tensor([0.25], requires_grad=True))
    assert y.grad_fn.name() == torch.logit(torch.tensor([0.25], requires_grad=True)).grad_fn.name()


@pytest.mark.parametrize("eps", [None, 0.2])
def test_logit_gradcheck_and_gradgradcheck(eps):
    x = gg.tensor([[0.1, 0.35], [0.6, 0.93]], dtype=gg.float64, requires_grad=True)
    assert gradcheck(lambda t: gg.logit(t, eps), (x,))
    assert gradgradcheck(lambda t: gg.logit(t, eps), (x,))


def test_logit_second_derivative_as_pytorch():
    x = np.array([0.2, 0.7, 1.5, -0.1])
    for eps in (None, 0.25):
        res = []
        for M in (torch, gg):
            t = M.tensor(x, requires_grad=True)
            (g,) = M.autograd.grad(M.logit(t, eps).sum(), t, create_graph=True)
            (h,) = M.autograd.grad(g.sum(), t)
            res.append((_read(g), _read(h)))
        for a, b in zip(*res, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ numbers written into integer tensors
@pytest.mark.parametrize(
    "make",
    [
        lambda M, v: M.full((2,), v, dtype=M.uint8),
        lambda M, v: M.zeros(2, dtype=M.uint8).new_full((2,), v),
        lambda M, v: M.full_like(M.zeros(2, dtype=M.uint8), v),
        lambda M, v: M.zeros(2, dtype=M.uint8).fill_(v),
        lambda M, v: M.tensor([1, 2], dtype=M.uint8).masked_fill(M.tensor([True, False]), v),
        lambda M, v: M.tensor([1, 2], dtype=M.uint8).index_fill(0, M.tensor([0]), v),
    ],
)
def test_numbers_into_uint8_convert_or_raise_as_pytorch(make):
    # before: full(-1) raised NumPy's OverflowError (PyTorch: 255), fill_(256) and masked_fill(256)
    # wrote 0 and full(-1.5) wrote 255 silently (PyTorch refuses them)
    for v in (-1, -255, 255, 7, 2.9):
        assert make(gg, v).tolist() == make(torch, v).tolist(), v
    for v in (256, -256, -1.5, 255.5, float("nan")):
        with pytest.raises(RuntimeError):
            make(torch, v)
        with pytest.raises(
            OverflowError, match="cannot be converted to type glassgrad.uint8 without overflow"
        ):
            make(gg, v)


def test_numbers_into_signed_integers_raise_past_their_range():
    for M, err in ((torch, RuntimeError), (gg, OverflowError)):
        with pytest.raises(err):
            M.zeros(2, dtype=M.int8).fill_(200)  # before: -56
        with pytest.raises(err):
            M.full((2,), 1e10, dtype=M.int32)  # before: -2147483648
        with pytest.raises(err):
            M.zeros(2, dtype=M.int64).fill_(2**63)
        assert M.full((1,), -(2**63), dtype=M.int64).tolist() == [-(2**63)]
        assert M.zeros(2, dtype=M.uint8).fill_(M.tensor(300)).tolist() == [44, 44]  # a tensor is cast


# ------------------------------------------------------------------ out= and bool operands
@pytest.mark.parametrize(
    "call",
    [
        lambda M: M.clamp_min(
            M.tensor([2, 8, 7], dtype=M.uint8), M.tensor(6, dtype=M.uint8), out=M.empty(3, dtype=M.int32)
        ),
        lambda M: M.clamp(M.tensor([1.5, -2.0]), M.tensor(-1.0), out=M.empty(2, dtype=M.float64)),
        lambda M: M.clip(M.tensor([1.5, -2.0]), None, M.tensor(1.0), out=M.empty(2, dtype=M.float64)),
        lambda M: M.fmod(M.tensor([True, False]), M.tensor([2, 3])),
        lambda M: M.fmod(M.tensor([True, False]), 2),
        lambda M: M.fmod(M.tensor([3, 4], dtype=M.int16), M.tensor([True, True])),
    ],
)
def test_computed_as_pytorch_where_glassgrad_refused(call):
    # before: clamp with a tensor bound refused a wider out= (PyTorch's clamp.Tensor casts into it,
    # its number-bound clamp does not), fmod refused a bool beside an integer
    expected, got = call(torch), call(gg)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert got.tolist() == expected.tolist()


def test_still_refused_as_pytorch():
    for M in (torch, gg):
        with pytest.raises((RuntimeError, gg.errors.DTypeError)):
            M.clamp(M.tensor([1.5, -2.0]), -1, 1, out=M.empty(2, dtype=M.float64))  # a number bound
        with pytest.raises((RuntimeError, NotImplementedError, gg.errors.DTypeError)):
            M.fmod(M.tensor([True, False]), M.tensor([True, True]))


def test_the_zero_norm_gives_no_gradient_as_pytorch():
    # before: zeros, so x.grad became a tensor of zeros where PyTorch's stays None
    for M in (torch, gg):
        x = M.tensor([1.0, 0.0, 2.0], requires_grad=True)
        M.linalg.vector_norm(x, 0).backward()
        assert x.grad is None
        (g,) = M.autograd.grad((M.linalg.vector_norm(x, 0) * x).sum(), x, create_graph=True)
        assert g.tolist() == [2.0, 2.0, 2.0]
        assert M.autograd.grad(g.sum(), x, allow_unused=True) == (None,)


def test_max_and_min_of_everything_send_a_nan_extremes_gradient_to_the_nans():
    # before: NaN everywhere (x == nan matches nothing); PyTorch's max()/min() share it among the
    # NaNs, while amax/amin keep NaN everywhere (and do here too)
    x = np.array([[np.nan, 1.0, 2.0], [3.0, np.nan, 3.0]])
    for fn in (lambda M, t: t.max(), lambda M, t: M.min(t), lambda M, t: t.amax(), lambda M, t: t.amin(1)):
        _same(fn, x, grad=(0,))
    _same(lambda M, t: t.max(), np.array([1.0, 3.0, 3.0]), grad=(0,))  # ties still split evenly
    for M in (torch, gg):
        t = M.tensor(x, requires_grad=True)
        (g,) = M.autograd.grad(t.max() * 2, t, create_graph=True)
        assert _read(g).ravel().tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
