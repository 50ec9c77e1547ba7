"""F.nll_loss and F.cross_entropy: PyTorch parity (values and gradients, float32 and float64, every
option), stability at large logits, the fused op against its composite, and error messages (the
binary cross-entropies are in ``test_functional_binary_losses.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError, GraphError, ShapeError
from tests.nn.test_functional_parity import DTYPES, REDUCTIONS, Const, check


def targets(rng, shape, n_classes, ignore=None):
    t = rng.integers(0, n_classes, size=shape).astype(np.int64)
    if ignore is not None:
        t.flat[::3] = ignore  # every third target ignored
    return t


# ------------------------------------------------------------------ cross_entropy, class indices
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 2])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_indices_parity(torch, dtype, reduction, shape, use_weight, ignore_index, smoothing):
    TF = torch.nn.functional
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    t = targets(rng, (shape[0], *shape[2:]), shape[1], ignore_index)
    w = Const(rng.uniform(0.2, 2.0, shape[1]).astype(dtype)) if use_weight else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index

    def fn(x, t, *w):
        return F.cross_entropy(x, t, *w, **kw)

    def tfn(x, t, *w):
        return TF.cross_entropy(x, t, *w, **kw)

    check(fn, tfn, x, t, *([w] if w else []), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched(torch, dtype, reduction):
    TF = torch.nn.functional
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal(5), np.array(3)
    kw = dict(reduction=reduction, label_smoothing=0.1)
    out = check(
        lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw), x, t, dtype=dtype
    )
    assert out.shape == ()
    probs = rng.dirichlet(np.ones(5))
    check(
        lambda x, p: F.cross_entropy(x, p, **kw),
        lambda x, p: TF.cross_entropy(x, p, **kw),
        x,
        probs,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities_parity(torch, dtype, reduction, shape, use_weight, smoothing):
    """Probability targets: gradients reach the target (and the weight) too, as in PyTorch."""
    TF = torch.nn.functional
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    p = np.moveaxis(rng.dirichlet(np.ones(shape[1]), size=(shape[0], *shape[2:])), -1, 1)
    w = [rng.uniform(0.2, 2.0, shape[1])] if use_weight else []
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(lambda *a: F.cross_entropy(*a, **kw), lambda *a: TF.cross_entropy(*a, **kw), x, p, *w, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_is_stable_at_huge_logits(torch, dtype, reduction, smoothing):
    TF = torch.nn.functional
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -1e4]])
    t = np.array([0, 1, 2])
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    out = check(
        lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw), x, t, dtype=dtype
    )
    assert np.isfinite(out._data).all()
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.2, 0.2, 0.6]])
    out = check(
        lambda x, p: F.cross_entropy(x, p, **kw),
        lambda x, p: TF.cross_entropy(x, p, **kw),
        x,
        probs,
        dtype=dtype,
    )
    assert np.isfinite(out._data).all()


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_targets_ignored_like_torch(torch, loss, reduction):
    """'mean' is 0 / 0 = nan, but the gradient is 0: no input affects the loss."""
    TF = torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, 3))
    t = np.array([-100, -100])
    out = check(
        lambda x, t: getattr(F, loss)(x, t, reduction=reduction),
        lambda x, t: getattr(TF, loss)(x, t, reduction=reduction),
        x,
        t,
    )
    assert np.isnan(out._data).all() if reduction == "mean" else (out._data == 0).all()


def test_cross_entropy_softmax_minus_onehot():
    """The lesson: d(sum of per-sample losses)/dx = softmax(x) - onehot(y)."""
    rng = np.random.default_rng(4)
    x = gg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    y = rng.integers(0, 5, 6)
    F.cross_entropy(x, gg.tensor(y), reduction="sum").backward()
    e = np.exp(x._data - x._data.max(1, keepdims=True))
    np.testing.assert_allclose(x.grad._data, e / e.sum(1, keepdims=True) - np.eye(5)[y], atol=1e-12)


def _cross_entropy_composite(x, t, weight, ignore_index, smoothing, reduction):
    """Cross-entropy with class indices from primitives: log_softmax, nll_loss, sum, mul."""
    logp = F.log_softmax(x, 1)
    nll = F.nll_loss(logp, t, weight, ignore_index=ignore_index, reduction=reduction)
    if smoothing == 0:
        return nll
    c = x.shape[1]
    valid = gg.Tensor((t._data != ignore_index).astype(x._data.dtype), _wrap=True)
    wl = logp if weight is None else logp * weight.reshape(1, c, *([1] * (x.ndim - 2)))
    smooth = -wl.sum(1) * valid
    if reduction == "mean":
        denom = (
            valid.sum()
            if weight is None
            else (valid * weight._data[np.where(valid._data > 0, t._data, 0)]).sum()
        )
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - smoothing) + smooth * (smoothing / c)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_fused_cross_entropy_equals_composite(reduction, use_weight, smoothing):
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((4, 5, 3))
    t = gg.tensor(targets(rng, (4, 3), 5, ignore=-100))
    w = gg.tensor(rng.uniform(0.5, 2.0, 5)) if use_weight else None
    xs = [gg.tensor(x_np, requires_grad=True) for _ in range(2)]
    fused = F.cross_entropy(xs[0], t, w, reduction=reduction, label_smoothing=smoothing)
    comp = _cross_entropy_composite(xs[1], t, w, -100, smoothing, reduction)
    np.testing.assert_allclose(fused._data, comp._data, atol=1e-12, rtol=1e-12)
    up = rng.standard_normal(fused.shape)
    fused.backward(gg.tensor(up))
    comp.backward(gg.tensor(up))
    np.testing.assert_allclose(xs[0].grad._data, xs[1].grad._data, atol=1e-12, rtol=1e-12)


# ------------------------------------------------------------------ nll_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 6), (2, 3, 4, 5), (4,)])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 1])
def test_nll_loss_parity(torch, dtype, reduction, shape, use_weight, ignore_index):
    TF = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    t_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    t = targets(rng, t_shape, n_classes, ignore_index)
    if t_shape == () and ignore_index is not None:
        t = np.array(0)
    w = [Const(rng.uniform(0.2, 2.0, n_classes).astype(dtype))] if use_weight else []
    kw = dict(reduction=reduction)
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    check(lambda *a: F.nll_loss(*a, **kw), lambda *a: TF.nll_loss(*a, **kw), x, t, *w, dtype=dtype)


# ------------------------------------------------------------------ errors
def test_class_target_errors():
    x = gg.randn(4, 3, requires_grad=True)
    with pytest.raises(
        ShapeError, match=r"cross_entropy: expected target of shape \(4,\) for input \(4, 3\), got \(4, 1\)"
    ):
        F.cross_entropy(x, gg.tensor([[0], [1], [2], [0]]))
    with pytest.raises(IndexError, match=r"nll_loss: expected class indices in \[0, 3\).*got 3"):
        F.nll_loss(x, gg.tensor([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="got -1"):
        F.cross_entropy(x, gg.tensor([0, -1, 2, 0]))
    with pytest.raises(
        ShapeError,
        match=r"cross_entropy: expected target of the same shape as input, got input \(4, 3\) and target \(1, 2\)",
    ):
        F.cross_entropy(x, gg.tensor([[0.5, 0.5]]))
    with pytest.raises(ShapeError, match=r"weight of shape \(3,\), got \(4,\)"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 0]), gg.ones(4))
    # labels kept as floats (y from a float array): say so, not "same shape as input"
    for logits, labels in [(x, gg.tensor([0.0, 1.0, 2.0, 0.0])), (gg.randn(4, 3, 5), gg.zeros(4, 5)), (gg.randn(3), gg.tensor(1.0))]:  # fmt: skip
        with pytest.raises(DTypeError, match=r"cross_entropy: expected integer class indices \(int64\) of shape .* use target.long\(\)"):  # fmt: skip
            F.cross_entropy(logits, labels)
    with pytest.raises(DTypeError, match="nll_loss: expected integer class indices"):
        F.nll_loss(x, gg.tensor([0.0, 1.0, 2.0, 0.0]).reshape(4, 1))
    with pytest.raises(GraphError, match="weight gets no gradient"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 0]), gg.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    # (a (1,) target is one unbatched sample's label, as PyTorch takes it: test_port_round62_errors)
    with pytest.raises(ShapeError, match=r"scalar target \(\) or a target of shape \(1,\) for unbatched input \(3,\), got \(2,\)"):  # fmt: skip
        F.cross_entropy(gg.randn(3), gg.tensor([1, 2]))


def test_integer_targets_become_input_dtype(torch):
    TF = torch.nn.functional
    x = gg.tensor([0.3, -1.0], requires_grad=True)
    out = F.binary_cross_entropy_with_logits(x, gg.tensor([1, 0]))
    ref = TF.binary_cross_entropy_with_logits(torch.tensor([0.3, -1.0]), torch.tensor([1.0, 0.0]))
    assert out.dtype == gg.float32
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-6)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_like_torch(torch, loss, reduction):
    TF = torch.nn.functional
    out = check(
        lambda x, t: getattr(F, loss)(x, t, reduction=reduction),
        lambda x, t: getattr(TF, loss)(x, t, reduction=reduction),
        np.zeros((0, 3)),
        np.zeros(0, dtype=np.int64),
    )
    assert out.shape == ((0,) if reduction == "none" else ())


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4),
    c=st.integers(1, 5),
    trailing=st.lists(st.integers(1, 3), max_size=2),
    use_weight=st.booleans(),
    ignore=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
    reduction=st.sampled_from(REDUCTIONS),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_parity_on_drawn_shapes(
    torch, n, c, trailing, use_weight, ignore, smoothing, reduction, seed
):
    TF = torch.nn.functional
    rng = np.random.default_rng(seed)
    shape = (n, c, *trailing)
    x = rng.standard_normal(shape) * 3
    t = targets(rng, (n, *trailing), c, -100 if ignore else None)
    w = [Const(rng.uniform(0.2, 2.0, c))] if use_weight else []
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(lambda *a: F.cross_entropy(*a, **kw), lambda *a: TF.cross_entropy(*a, **kw), x, t, *w)


def test_cross_entropy_probabilities_refuse_ignore_index(torch):
    # it was passed along and ignored: the loss came out as if no class were ignored
    x, t = gg.randn(3, 4), gg.softmax(gg.randn(3, 4), 1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        torch.nn.functional.cross_entropy(
            torch.from_numpy(x.numpy()), torch.from_numpy(t.numpy()), ignore_index=1
        )
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index=1 applies to class-index targets"):
        F.cross_entropy(x, t, ignore_index=1)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint16", "uint8", "int64"])
def test_class_index_targets_of_pytorchs_dtypes_only(torch, dtype):
    """PyTorch's kernels take int64 (Long) or uint8 (Byte) class indices and refuse the other
    integer dtypes (port round 42: fastai's int8 targets); glassgrad refuses the same ones."""
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    y = np.array([0, 1, 3]).astype(dtype)
    for fn in ("cross_entropy", "nll_loss"):
        try:
            want = float(getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(y)))
        except RuntimeError:
            with pytest.raises(DTypeError, match=f"{fn}: expected class indices of dtype int64"):
                getattr(F, fn)(gg.tensor(x), gg.tensor(y))
            continue
        assert float(getattr(F, fn)(gg.tensor(x), gg.tensor(y))) == pytest.approx(want, rel=1e-6)
