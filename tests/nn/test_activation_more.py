"""The long tail of activations (nn/functional/activation_more.py, nn/activation_more.py): float64
gradchecks away from the kinks, PyTorch parity of outputs and gradients at the kinks, zeros, large
magnitudes and empty tensors, reprs, PReLU's state_dict, RReLU's randomness, inplace, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, GraphError, ShapeError

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
LAMBD, THRESH = 0.5, 0.25

# (name, glassgrad fn, torch fn taking (torch, t), kinks the gradcheck keeps away from)
FUNCS = [
    ("selu", F.selu, lambda T, t: T.nn.functional.selu(t), [0.0]),
    ("celu", F.celu, lambda T, t: T.nn.functional.celu(t), [0.0]),
    ("celu_a2", lambda x: F.celu(x, 2.0), lambda T, t: T.nn.functional.celu(t, 2.0), [0.0]),
    ("celu_neg", lambda x: F.celu(x, -1.5), lambda T, t: T.nn.functional.celu(t, -1.5), [0.0]),
    ("mish", F.mish, lambda T, t: T.nn.functional.mish(t), []),
    ("hardswish", F.hardswish, lambda T, t: T.nn.functional.hardswish(t), [-3.0, 3.0]),
    ("hardsigmoid", F.hardsigmoid, lambda T, t: T.nn.functional.hardsigmoid(t), [-3.0, 3.0]),
    ("softsign", F.softsign, lambda T, t: T.nn.functional.softsign(t), []),
    ("logsigmoid", F.logsigmoid, lambda T, t: T.nn.functional.logsigmoid(t), []),
    ("softmin0", lambda x: F.softmin(x, 0), lambda T, t: T.nn.functional.softmin(t, 0), []),
    ("softmin-1", lambda x: F.softmin(x, -1), lambda T, t: T.nn.functional.softmin(t, -1), []),
    ("glu", F.glu, lambda T, t: T.nn.functional.glu(t), []),
    ("glu0", lambda x: F.glu(x, 0), lambda T, t: T.nn.functional.glu(t, 0), []),
    (
        "threshold",
        lambda x: F.threshold(x, THRESH, -7.0),
        lambda T, t: T.nn.functional.threshold(t, THRESH, -7.0),
        [THRESH],
    ),
    ("hardshrink", F.hardshrink, lambda T, t: T.nn.functional.hardshrink(t), [-LAMBD, LAMBD]),
    ("hardshrink1", lambda x: F.hardshrink(x, 1.0), lambda T, t: T.nn.functional.hardshrink(t, 1.0), [-1, 1]),
    ("softshrink", F.softshrink, lambda T, t: T.nn.functional.softshrink(t), [-LAMBD, LAMBD]),
    ("softshrink0", lambda x: F.softshrink(x, 0.0), lambda T, t: T.nn.functional.softshrink(t, 0.0), [0.0]),
    ("tanhshrink", F.tanhshrink, lambda T, t: T.nn.functional.tanhshrink(t), []),
    ("rrelu_eval", F.rrelu, lambda T, t: T.nn.functional.rrelu(t), [0.0]),
    (
        "rrelu_eval2",
        lambda x: F.rrelu(x, 0.1, 0.3),
        lambda T, t: T.nn.functional.rrelu(t, 0.1, 0.3),
        [0.0],
    ),
]
IDS = [f[0] for f in FUNCS]


def _away(x: np.ndarray, kinks: list, gap: float = 0.02) -> np.ndarray:
    for k in kinks:
        x = np.where(np.abs(x - k) < gap, k + np.copysign(2 * gap, x - k + 1e-300), x)
    return x


@pytest.mark.parametrize("shape", [(), (4,), (2, 3, 4)])
@pytest.mark.parametrize(("name", "fn", "_", "kinks"), FUNCS, ids=IDS)
def test_gradcheck_float64_away_from_kinks(name, fn, _, kinks, shape):
    if name.startswith(("glu", "softmin0")) and shape == ():
        shape = (2,)
    x = _away(np.random.default_rng(len(shape)).uniform(-5, 5, shape), kinks)
    assert gradcheck(fn, (gg.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("weight_shape", [(), (1,), (3,)])
def test_prelu_gradcheck_input_and_weight(weight_shape):
    rng = np.random.default_rng(0)
    x = _away(rng.uniform(-3, 3, (2, 3, 4)), [0.0])
    w = rng.uniform(-1, 1, weight_shape)
    assert gradcheck(F.prelu, (gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)))


def test_rrelu_training_gradcheck_with_the_slopes_held_fixed():
    def fn(t):
        gg.manual_seed(5)  # the same slopes on every call of the finite differences
        return F.rrelu(t, 0.1, 0.4, training=True)

    x = _away(np.random.default_rng(0).uniform(-3, 3, (3, 5)), [0.0])
    assert gradcheck(fn, (gg.tensor(x, requires_grad=True),))


def _inputs(dtype) -> list[np.ndarray]:
    """Random values plus the kinks, zeros, +-1e3 and saturating values, as (8, 6); and empties."""
    special = [0.0, -0.0, 3.0, -3.0, LAMBD, -LAMBD, 1.0, -1.0, THRESH, 1e3, -1e3, 30.0, -30.0, 25.0, -25.0]
    rest = np.random.default_rng(2).standard_normal(48 - len(special)) * 3
    x = np.concatenate([special, rest]).reshape(8, 6).astype(dtype)
    return [x, np.zeros((0, 6), dtype), np.zeros((2, 0, 4), dtype)]


def _parity(torch, ours, theirs, x: np.ndarray, dtype, tol=None, extra=()):
    """Same output and input gradient (and the gradients of ``extra`` pairs) for one upstream."""
    tol = tol or TOL[dtype]
    a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(a), theirs(t)
    assert out.dtype == a.dtype and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), **TOL[dtype])
    up = np.random.default_rng(3).standard_normal(out.shape).astype(dtype)
    out.backward(gg.tensor(up))
    ref.backward(torch.from_numpy(up))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tol)
    for g, tg in extra:
        np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn", "tfn", "_"), FUNCS, ids=IDS)
def test_functional_parity_with_pytorch_at_kinks_zeros_large_and_empty(torch, name, fn, tfn, _, dtype):
    tol = None
    if name == "hardsigmoid" and dtype == np.float64:
        tol = dict(rtol=1e-7, atol=0)  # PyTorch's float64 gradient is float32(1/6) = 0.16666667163
    for x in _inputs(dtype):
        if name == "glu0" and x.shape[0] % 2:
            continue
        _parity(torch, fn, lambda t: tfn(torch, t), x, dtype, tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 6])
def test_prelu_parity_of_input_and_weight_gradients(torch, dtype, channels):
    w = np.random.default_rng(4).uniform(-0.5, 0.5, channels).astype(dtype)
    for x in _inputs(dtype)[:2]:
        gw, tw = gg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        _parity(
            torch,
            lambda a, gw=gw: F.prelu(a, gw),
            lambda t, tw=tw: torch.nn.functional.prelu(t, tw),
            x,
            dtype,
            extra=[(gw, tw)],
        )


def test_hardswish_and_hardsigmoid_one_ulp_inside_the_kinks_match_pytorch(torch):
    for dtype in (np.float32, np.float64):
        three = dtype(3)
        x = np.array([np.nextafter(three, 0), -np.nextafter(three, 0), 3, -3], dtype)
        for fn, tfn in (
            (F.hardswish, torch.nn.functional.hardswish),
            (F.hardsigmoid, torch.nn.functional.hardsigmoid),
        ):
            tol = dict(rtol=1e-7, atol=0) if fn is F.hardsigmoid else TOL[dtype]
            _parity(torch, fn, tfn, x, dtype, tol)


def test_no_overflow_warnings_at_large_magnitudes():
    x = gg.tensor([-1e4, -1e3, -100.0, 100.0, 1e3, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (F.selu, F.celu, F.mish, F.logsigmoid, F.softsign, F.tanhshrink, F.hardswish):
            out = fn(x)
            out.sum().backward()
            assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
            x.grad = None
    assert F.logsigmoid(gg.tensor([-1000.0], dtype=gg.float64)).item() == -1000.0
    assert F.mish(gg.tensor([1000.0])).item() == 1000.0


MODULES = [
    lambda lib: lib.PReLU(),
    lambda lib: lib.PReLU(3, 0.1),
    lambda lib: lib.SELU(),
    lambda lib: lib.SELU(inplace=True),
    lambda lib: lib.CELU(),
    lambda lib: lib.CELU(2.0, inplace=True),
    lambda lib: lib.Mish(),
    lambda lib: lib.Mish(inplace=True),
    lambda lib: lib.Hardswish(),
    lambda lib: lib.Hardswish(inplace=True),
    lambda lib: lib.Hardsigmoid(inplace=True),
    lambda lib: lib.Softsign(),
    lambda lib: lib.LogSigmoid(),
    lambda lib: lib.Softmin(),
    lambda lib: lib.Softmin(dim=1),
    lambda lib: lib.GLU(),
    lambda lib: lib.GLU(0),
    lambda lib: lib.Threshold(0.1, 20),
    lambda lib: lib.Threshold(0.1, 20.0, inplace=True),
    lambda lib: lib.Hardshrink(),
    lambda lib: lib.Hardshrink(lambd=1),
    lambda lib: lib.Softshrink(0.25),
    lambda lib: lib.Tanhshrink(),
    lambda lib: lib.RReLU(),
    lambda lib: lib.RReLU(0.1, 0.3, inplace=True),
    lambda lib: lib.Softmax2d(),
]


@pytest.mark.parametrize("build", MODULES)
def test_module_repr_and_state_dict_keys_match_pytorch(torch, build):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }


@pytest.mark.filterwarnings("ignore:.*mplicit dimension")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_modules_forward_backward_match_pytorch(torch, dtype):
    x = _inputs(dtype)[0].reshape(2, 6, 2, 2)
    for build in MODULES:
        ours, theirs = build(nn).eval(), build(torch.nn).eval()
        if dtype == np.float64:
            ours, theirs = ours.double(), theirs.double()
        if isinstance(ours, nn.PReLU) and ours.num_parameters == 3:
            continue  # 3 slopes need 3 channels: the PReLU tests cover it
        tol = dict(rtol=1e-7, atol=1e-6) if isinstance(ours, nn.Hardsigmoid) else None
        # clone: an inplace torch module must not write into a leaf; ours gets a non-leaf too
        _parity(torch, lambda a, m=ours: m(a * 1), lambda t, m=theirs: m(t.clone()), x, dtype, tol)


def test_prelu_state_dict_loads_pytorch_weights_both_ways(torch):
    theirs = torch.nn.PReLU(4)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.2, 0.3, 0.9]))
    ours = nn.PReLU(4)
    assert ours.weight.shape == (4,) and ours.weight.tolist() == [0.25] * 4
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(
        ours(gg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )
    back = torch.nn.PReLU(4)
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    assert back.weight.tolist() == theirs.weight.tolist()
    assert [n for n, _ in ours.named_parameters()] == ["weight"]


def test_rrelu_eval_is_leaky_relu_with_the_mean_slope_and_training_draws_seeded_slopes():
    x = gg.tensor(np.random.default_rng(6).standard_normal((50, 40)))
    lower, upper = 0.1, 0.3
    np.testing.assert_array_equal(F.rrelu(x, lower, upper).numpy(), F.leaky_relu(x, 0.2).numpy())
    m = nn.RReLU(lower, upper)
    np.testing.assert_array_equal(m.eval()(x).numpy(), F.leaky_relu(x, 0.2).numpy())
    m.train()
    gg.manual_seed(7)
    a = gg.tensor(x.numpy(), requires_grad=True)
    y = m(a)
    neg, d = x.numpy() <= 0, x.numpy()
    slopes = y.detach().numpy()[neg] / d[neg]
    assert ((slopes >= lower) & (slopes <= upper)).all() and slopes.std() > 0.04  # varied, per element
    np.testing.assert_array_equal(y.detach().numpy()[~neg], d[~neg])
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy()[neg], slopes, rtol=1e-12)
    assert (a.grad.numpy()[~neg] == 1).all()
    gg.manual_seed(7)
    np.testing.assert_array_equal(m(x).numpy(), y.detach().numpy())  # reproducible under manual_seed
    assert not np.array_equal(m(x).numpy(), y.detach().numpy())  # and fresh on the next draw
    y32 = F.rrelu(x.float(), training=True)
    assert y32.dtype == gg.float32


INPLACE = [
    ("selu", lambda x, ip: F.selu(x, inplace=ip)),
    # (an alpha exact in float32: PyTorch's celu gradient rounds alpha to float32, which its
    # in-place form's result-based gradient does not undo; tests/autograd/test_double_backward_round60.py)
    ("celu", lambda x, ip: F.celu(x, 0.75, inplace=ip)),
    ("mish", lambda x, ip: F.mish(x, inplace=ip)),
    ("hardswish", lambda x, ip: F.hardswish(x, inplace=ip)),
    ("hardsigmoid", lambda x, ip: F.hardsigmoid(x, inplace=ip)),
    ("threshold", lambda x, ip: F.threshold(x, 0.1, 2.0, inplace=ip)),
    ("rrelu", lambda x, ip: F.rrelu(x, inplace=ip)),
    ("rrelu_train", lambda x, ip: F.rrelu(x, training=True, inplace=ip)),
]


@pytest.mark.parametrize(("name", "fn"), INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_writes_the_result_into_the_input_as_pytorch(name, fn):
    # inplace=True changes the input, as PyTorch (a script reading x afterwards sees the same values)
    data = np.random.default_rng(8).standard_normal((3, 4)) * 4
    gg.manual_seed(1)
    expected = fn(gg.tensor(data), False).numpy()
    x = gg.tensor(data)
    gg.manual_seed(1)
    y = fn(x, True)
    assert y is x
    np.testing.assert_array_equal(x.numpy(), expected)
    leaf = gg.tensor(data, requires_grad=True)
    with pytest.raises(GraphError):  # a view of a leaf that requires grad: PyTorch refuses it too
        fn(leaf[1:], True)
    gg.manual_seed(1)
    fn(leaf * 1, True).sum().backward()  # a non-leaf: recorded, as relu_
    gg.manual_seed(1)
    ref = gg.tensor(data, requires_grad=True)
    fn(ref, False).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), ref.grad.numpy())


def test_inplace_modules_return_the_activation():
    x = gg.tensor([-1.0, 0.5, 2.0])
    assert nn.SELU(inplace=True)(x).tolist() == pytest.approx(F.selu(gg.tensor([-1.0, 0.5, 2.0])).tolist())
    assert nn.Threshold(0.1, 9.0, inplace=True)(gg.tensor([-1.0, 0.05, 2.0])).tolist() == [9.0, 9.0, 2.0]


def test_threshold_keeps_integer_inputs_integer_like_pytorch(torch):
    out = F.threshold(gg.tensor([1, 2, 3, 4]), 1.5, 7.5)
    ref = torch.nn.functional.threshold(torch.tensor([1, 2, 3, 4]), 1.5, 7.5)
    assert out.dtype == gg.int64 and out.tolist() == ref.tolist()


def test_softmin_without_dim_warns_and_softmax2d_normalises_channels(torch):
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 5)).astype(np.float32)
    with pytest.warns(UserWarning, match="softmin: implicit dimension"):
        out = F.softmin(gg.tensor(x))
    with pytest.warns(UserWarning):
        ref = torch.nn.functional.softmin(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    s = nn.Softmax2d()(gg.tensor(x[0]))
    np.testing.assert_allclose(s.numpy(), torch.nn.Softmax2d()(torch.tensor(x[0])).numpy(), rtol=1e-6)
    assert F.softmin(gg.tensor([1.0, 2.0]), 0, dtype=gg.float64).dtype == gg.float64


def test_errors_name_the_op_the_shapes_and_what_was_expected():
    x = gg.zeros(2, 3, 4)
    with pytest.raises(
        ShapeError, match=r"prelu: expected weight of 3 element\(s\).*\(2, 3, 4\).*got weight shape \(2,\)"
    ):
        F.prelu(x, gg.zeros(2))
    with pytest.raises(
        ShapeError, match=r"prelu: expected weight of 3 element\(s\).*got weight shape \(5,\)"
    ):
        nn.PReLU(5)(x)
    with pytest.raises(ShapeError, match=r"prelu: expected weight of 1 element\(s\).*\(4,\)"):
        F.prelu(gg.zeros(4), gg.zeros(4))
    with pytest.raises(
        ShapeError, match=r"prelu: expected weight to be a scalar or 1-D tensor, got shape \(1, 3\)"
    ):
        F.prelu(x, gg.zeros(1, 3))
    with pytest.raises(ShapeError, match="prelu: expected a 1-element weight for a 0-d input"):
        F.prelu(gg.tensor(1.0), gg.zeros(3))
    with pytest.raises(
        DTypeError,
        match="prelu: expected weight of the input's dtype glassgrad.float64 .*got glassgrad.float32",
    ):
        nn.PReLU()(x.double())
    with pytest.raises(TypeError, match="prelu: expected weight to be a Tensor, got float"):
        F.prelu(x, 0.25)
    with pytest.raises(TypeError, match="PReLU: expected num_parameters to be a non-negative int, got 2.5"):
        nn.PReLU(2.5)
    with pytest.raises(
        ShapeError, match=r"glu: expected an even size along dim 1 .*size 3 \(input shape \(2, 3, 4\)\)"
    ):
        F.glu(x, 1)
    with pytest.raises(ShapeError, match=r"glu: expected an even size along dim -1 .*size 5"):
        nn.GLU()(gg.zeros(2, 5))
    with pytest.raises(ShapeError, match="glu: expected an input with at least 1 dim"):
        F.glu(gg.tensor(1.0))
    with pytest.raises(IndexError, match=r"glu: expected dim in \[-3, 2\]"):
        F.glu(x, 3)
    with pytest.raises(TypeError, match="GLU: expected dim to be an int, got str"):
        nn.GLU("last")
    with pytest.raises(ValueError, match="softshrink: expected lambd >= 0, got -1"):
        F.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="Softshrink: expected lambd >= 0"):
        nn.Softshrink(-0.5)
    with pytest.raises(ValueError, match="celu: expected alpha != 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="CELU: expected alpha != 0"):
        nn.CELU(0)
    with pytest.raises(ValueError, match="rrelu: expected lower <= upper, got lower=0.5 > upper=0.1"):
        F.rrelu(x, 0.5, 0.1)
    with pytest.raises(ValueError, match="RReLU: expected lower <= upper"):
        nn.RReLU(0.5, 0.1)
    with pytest.raises(
        ShapeError, match=r"Softmax2d: expected input to be 3D or 4D.*got 2D \(shape \(3, 4\)\)"
    ):
        nn.Softmax2d()(gg.zeros(3, 4))
    with pytest.raises(TypeError, match="Softmin: expected dim to be an int or None"):
        nn.Softmin("last")
