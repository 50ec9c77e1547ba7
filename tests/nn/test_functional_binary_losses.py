"""F.binary_cross_entropy and F.binary_cross_entropy_with_logits: PyTorch parity (values and
gradients, float32 and float64, weights and pos_weight), stability at 0, 1 and large logits, the
fused ops against their composites, and error messages."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError, GraphError, ShapeError
from tests.nn.test_functional_parity import DTYPES, REDUCTIONS, Const, check


# ------------------------------------------------------------------ binary cross-entropy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("weight_shape", [None, "full", "last"])
def test_binary_cross_entropy_parity(torch, dtype, reduction, shape, weight_shape):
    TF = torch.nn.functional
    rng = np.random.default_rng(7)
    p = rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0, 1, shape)  # soft labels; the target gets a gradient too
    w = []
    if weight_shape:
        w = [Const(rng.uniform(0.2, 2.0, shape if weight_shape == "full" else shape[-1:]).astype(dtype))]
    kw = dict(reduction=reduction)
    check(
        lambda *a: F.binary_cross_entropy(*a, **kw),
        lambda *a: TF.binary_cross_entropy(*a, **kw),
        p,
        y,
        *w,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_0_and_1_is_finite_like_torch(torch, dtype):
    TF = torch.nn.functional
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    out = check(
        lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
        lambda p, y: TF.binary_cross_entropy(p, y, reduction="none"),
        p,
        Const(y),
        dtype=dtype,
    )
    np.testing.assert_allclose(out._data, [0, 0, 100, 100, np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_parity(torch, dtype, reduction, shape, weight, pos_weight):
    TF = torch.nn.functional
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape) * 3
    y = rng.uniform(0, 1, shape)
    w = Const(rng.uniform(0.2, 2.0, shape).astype(dtype)) if weight else None
    pw = Const(rng.uniform(0.2, 3.0, shape[-1:]).astype(dtype)) if pos_weight else None

    def fn(x, y, *c):
        c = list(c)
        return F.binary_cross_entropy_with_logits(
            x,
            y,
            c.pop(0) if weight else None,
            reduction=reduction,
            pos_weight=c.pop(0) if pos_weight else None,
        )

    def tfn(x, y, *c):
        c = list(c)
        return TF.binary_cross_entropy_with_logits(
            x,
            y,
            c.pop(0) if weight else None,
            reduction=reduction,
            pos_weight=c.pop(0) if pos_weight else None,
        )

    check(fn, tfn, x, y, *[a for a in (w, pw) if a is not None], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_is_stable_at_huge_logits(torch, dtype, pos_weight):
    TF = torch.nn.functional
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 88.0, -104.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 1.0])
    pw = [Const(np.array([2.5]))] if pos_weight else []

    def fn(x, y, *c):
        return F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=c[0] if c else None)

    def tfn(x, y, *c):
        return TF.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=c[0] if c else None)

    out = check(fn, tfn, x, y, *pw, dtype=dtype)
    assert np.isfinite(out._data).all()


def _bce_with_logits_composite(x, y, weight, pos_weight, reduction):
    """From primitives: (1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0))."""
    softplus_neg = (-x.abs()).exp().log1p() + (-x).clamp(min=0)
    lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    loss = (1 - y) * x + lw * softplus_neg
    loss = loss if weight is None else loss * weight
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def _bce_composite(p, y, weight, reduction):
    """From primitives: -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)) * w."""
    loss = -(y * p.log().clamp(min=-100) + (1 - y) * (1 - p).log().clamp(min=-100))
    loss = loss if weight is None else loss * weight
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True])
def test_fused_bce_ops_equal_composites(reduction, pos_weight):
    rng = np.random.default_rng(9)
    x_np, y_np = rng.standard_normal((5, 3)) * 2, rng.uniform(0, 1, (5, 3))
    w = gg.tensor(rng.uniform(0.5, 2.0, (5, 1)))
    pw = gg.tensor(rng.uniform(0.5, 2.0, 3)) if pos_weight else None
    cases = [
        (lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw),
         lambda x, y: _bce_with_logits_composite(x, y, w, pw, reduction), x_np),
        (lambda x, y: F.binary_cross_entropy(x, y, w, reduction=reduction),
         lambda x, y: _bce_composite(x, y, w, reduction), 1 / (1 + np.exp(-x_np))),
    ]  # fmt: skip
    for fused_fn, comp_fn, xin in cases:
        xs = [gg.tensor(xin, requires_grad=True) for _ in range(2)]
        ys = [gg.tensor(y_np, requires_grad=True) for _ in range(2)]
        fused, comp = fused_fn(xs[0], ys[0]), comp_fn(xs[1], ys[1])
        np.testing.assert_allclose(fused._data, comp._data, atol=1e-12, rtol=1e-12)
        up = gg.tensor(rng.standard_normal(fused.shape))
        fused.backward(up)
        comp.backward(up)
        for a, b in ((xs[0], xs[1]), (ys[0], ys[1])):
            np.testing.assert_allclose(a.grad._data, b.grad._data, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("bad", [1.5, -0.5, float("nan")])
def test_binary_cross_entropy_out_of_range_is_pytorchs_runtime_error(torch, bad):
    """Probabilities outside [0, 1] (NaN too): PyTorch raises RuntimeError (the uvadlc debugging
    guide's "use loss functions on logits"); glassgrad's error is a RuntimeError and a ValueError."""
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([bad]), torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: expected input probabilities in \[0, 1\]"):
        F.binary_cross_entropy(gg.tensor([bad]), gg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="binary_cross_entropy"):
        gg.nn.BCELoss()(gg.tensor([0.5, bad]), gg.tensor([1.0, 0.0]))


def test_binary_loss_errors():
    x = gg.rand(4, 3)
    with pytest.raises(ShapeError, match=r"binary_cross_entropy: .*input \(4, 3\) and target \(4,\)"):
        F.binary_cross_entropy(x, gg.rand(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: expected input probabilities in \[0, 1\]"):
        F.binary_cross_entropy(x * 2 - 1, gg.rand(4, 3))
    with pytest.raises(
        ShapeError, match=r"binary_cross_entropy_with_logits: .*input \(4, 3\) and target \(3,\)"
    ):
        F.binary_cross_entropy_with_logits(x, gg.rand(3))
    with pytest.raises(ShapeError, match=r"pos_weight broadcastable to input \(4, 3\), got \(4,\)"):
        F.binary_cross_entropy_with_logits(x, gg.rand(4, 3), pos_weight=gg.ones(4))
    with pytest.raises(GraphError, match="pos_weight gets no gradient"):
        F.binary_cross_entropy_with_logits(x, gg.rand(4, 3), pos_weight=gg.ones(3, requires_grad=True))


def test_binary_cross_entropy_refuses_a_target_of_another_dtype():
    import glassgrad as gg
    import glassgrad.nn.functional as F

    with pytest.raises(DTypeError, match="binary_cross_entropy: expected target of the input's dtype"):
        F.binary_cross_entropy(gg.rand(3), gg.rand(3).double())


@pytest.mark.parametrize("wdtype", ["int64", "int32", "bool", "float64", "float16"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_keep_the_input_dtype_whatever_the_weight(torch, wdtype, reduction):
    # a 0/1 int64 mask as `weight` (skip-gram's masked BCE) must not make a float32 loss float64
    TF = torch.nn.functional
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, (2, 4)).astype(np.float32)
    y = (rng.uniform(size=(2, 4)) < 0.5).astype(np.float32)
    w = np.array([[1, 1, 1, 1], [1, 1, 0, 0]]).astype(wdtype)
    cases = [
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x, "weight"),
        (F.binary_cross_entropy, TF.binary_cross_entropy, 1 / (1 + np.exp(-x)), "weight"),
    ]
    if wdtype != "bool":
        cases.append(
            (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x, "pos_weight")
        )
    for ours, theirs, inp, name in cases:
        ww = w[0] if name == "pos_weight" else w
        got = ours(gg.tensor(inp), gg.tensor(y), reduction=reduction, **{name: gg.tensor(ww)})
        want = theirs(torch.tensor(inp), torch.tensor(y), reduction=reduction, **{name: torch.tensor(ww)})
        assert str(want.dtype) == "torch.float32" and got.dtype == gg.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def test_bce_with_logits_refuses_a_bool_pos_weight(torch):
    x, y, pw = np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32), np.array([True, False, True])
    with pytest.raises(RuntimeError):  # PyTorch: "Subtraction ... with a bool tensor is not supported"
        torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(x), torch.tensor(y), pos_weight=torch.tensor(pw)
        )
    with pytest.raises(DTypeError, match="pos_weight"):
        F.binary_cross_entropy_with_logits(gg.tensor(x), gg.tensor(y), pos_weight=gg.tensor(pw))


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        ("binary_cross_entropy", "weight"),
        ("binary_cross_entropy_with_logits", "weight"),
        ("binary_cross_entropy_with_logits", "pos_weight"),
    ],
)
def test_binary_losses_refuse_a_complex_weight(torch, fn, name):
    # PyTorch: "result type ComplexFloat can't be cast to the desired output type Float"; casting
    # the weight to the input's real dtype would silently drop its imaginary parts
    x, y, w = np.full(3, 0.3, np.float32), np.ones(3, np.float32), np.array([1, 2, 3], np.complex64)
    for lib, error in ((torch, RuntimeError), (gg, DTypeError)):
        with pytest.raises(error, match="[Cc]omplex"):
            getattr(lib.nn.functional, fn)(lib.tensor(x), lib.tensor(y), **{name: lib.tensor(w)})
