"""Margin, embedding and likelihood losses and the distance modules (loss_more.py, distance.py):
float64 gradchecks, PyTorch parity of values and gradients (every reduction and option, broadcasting,
unbatched and empty inputs, hinge kinks), module reprs, legacy size_average/reduce, error messages."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, GraphError, ShapeError
from tests.nn.test_functional_parity import REDUCTIONS, Const, check

R = np.random.default_rng(7)


def rn(*shape):
    return R.standard_normal(shape)


def pm1(*shape):  # targets in {-1, 1}
    return R.choice([-1.0, 1.0], shape)


def cls(n, c):
    return R.integers(0, c, n)


def labels(n, c):
    """Multilabel-margin targets: a few classes per row, padded with -1 (and junk after the -1)."""
    t = np.full((n, c), -1, dtype=np.int64)
    for i in range(n):
        k = i % c
        t[i, :k] = R.permutation(c)[:k]
        if k + 1 < c:
            t[i, k + 1] = R.integers(0, c)  # after the first -1: ignored
    return t


def _cos_dist(lib):
    return lambda a, b: 1.0 - lib.cosine_similarity(a, b, dim=-1)


# (name, arrays, kwargs); a float array requires grad unless wrapped in Const
CASES = [
    ("cosine_embedding_loss", lambda: (rn(5, 4), rn(5, 4), Const(pm1(5))), {}),
    ("cosine_embedding_loss", lambda: (rn(5, 4), rn(5, 4), Const(pm1(5))), {"margin": 0.3}),
    ("cosine_embedding_loss", lambda: (rn(4), rn(4), Const(np.array(-1.0))), {"margin": -0.5}),
    ("cosine_embedding_loss", lambda: (rn(5, 4), rn(1, 4), np.array([1, -1, 1, -1, 1])), {}),
    ("cosine_embedding_loss", lambda: (rn(5, 4), rn(5, 4), Const(np.array([1.0, -1, 0, 0.5, 1]))), {}),
    ("cosine_embedding_loss", lambda: (rn(0, 4), rn(0, 4), Const(rn(0))), {}),
    ("margin_ranking_loss", lambda: (rn(6), rn(6), pm1(6)), {}),
    ("margin_ranking_loss", lambda: (rn(2, 3), rn(2, 3), pm1(2, 3)), {"margin": 0.5}),
    ("margin_ranking_loss", lambda: (rn(6), rn(1), np.array([1, -1, 1, 1, -1, -1])), {"margin": 0.2}),
    ("margin_ranking_loss", lambda: (rn(), rn(), pm1()), {"margin": 1.0}),
    ("margin_ranking_loss", lambda: (rn(0), rn(0), pm1(0)), {}),
    ("hinge_embedding_loss", lambda: (rn(3, 4), Const(pm1(3, 4))), {}),
    ("hinge_embedding_loss", lambda: (rn(3, 4), Const(pm1(4))), {"margin": 0.5}),
    ("hinge_embedding_loss", lambda: (rn(4), Const(np.array([[1.0, -1, 0, 2]] * 3))), {"margin": 2.0}),
    ("hinge_embedding_loss", lambda: (rn(3, 4), np.where(rn(3, 4) > 0, 1, -1)), {}),
    ("hinge_embedding_loss", lambda: (rn(0, 4), Const(pm1(0, 4))), {}),
    ("triplet_margin_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {}),
    ("triplet_margin_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {"margin": 2.0, "p": 1, "swap": True}),
    ("triplet_margin_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {"p": 3, "eps": 1e-3, "swap": True}),
    ("triplet_margin_loss", lambda: (rn(5, 4), rn(1, 4), rn(5, 4)), {"p": math.inf, "margin": 3.0}),
    ("triplet_margin_loss", lambda: (rn(4), rn(4), rn(4)), {"margin": 2.5}),
    ("triplet_margin_loss", lambda: (rn(2, 3, 4), rn(2, 3, 4), rn(2, 3, 4)), {"margin": 1.5}),
    ("triplet_margin_loss", lambda: (rn(0, 4), rn(0, 4), rn(0, 4)), {}),
    ("triplet_margin_with_distance_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {}),
    ("triplet_margin_with_distance_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {"margin": 2.0, "swap": True}),
    ("triplet_margin_with_distance_loss", lambda: (rn(5, 4), rn(5, 4), rn(5, 4)), {"distance_function": "cos"}),
    ("triplet_margin_with_distance_loss", lambda: (rn(4), rn(4), rn(4)), {"distance_function": "cos", "swap": True}),
    ("soft_margin_loss", lambda: (rn(3, 4), Const(pm1(3, 4))), {}),
    ("soft_margin_loss", lambda: (rn(3, 4) * 30, Const(pm1(4))), {}),
    ("soft_margin_loss", lambda: (rn(3), np.array([1, -1, 1])), {}),
    ("soft_margin_loss", lambda: (rn(0, 2), Const(pm1(0, 2))), {}),
    ("multilabel_soft_margin_loss", lambda: (rn(3, 5), R.integers(0, 2, (3, 5)).astype(float)), {}),
    ("multilabel_soft_margin_loss", lambda: (rn(3, 5) * 30, Const(R.random((3, 5))), R.random(5)), {}),
    ("multilabel_soft_margin_loss", lambda: (rn(3, 5), Const(R.random(5)), R.random((3, 1))), {}),
    ("multilabel_soft_margin_loss", lambda: (rn(5), Const(R.random(5))), {}),
    ("multilabel_soft_margin_loss", lambda: (rn(0, 5), Const(R.random((0, 5)))), {}),
    ("multi_margin_loss", lambda: (rn(4, 5), cls(4, 5)), {}),
    ("multi_margin_loss", lambda: (rn(4, 5), cls(4, 5)), {"p": 2, "margin": 0.5}),
    ("multi_margin_loss", lambda: (rn(4, 5), cls(4, 5)), {"weight": "w5", "margin": 2.0}),
    ("multi_margin_loss", lambda: (rn(5), np.array(3)), {"p": 2, "weight": "w5"}),
    ("multi_margin_loss", lambda: (rn(5), np.array([3])), {}),
    ("multi_margin_loss", lambda: (rn(), np.array(0)), {}),
    ("multilabel_margin_loss", lambda: (rn(5, 4), labels(5, 4)), {}),
    ("multilabel_margin_loss", lambda: (rn(4), np.array([2, 2, 0, -1])), {}),
    ("poisson_nll_loss", lambda: (rn(3, 4), R.random((3, 4)) * 4), {}),
    ("poisson_nll_loss", lambda: (R.random((3, 4)) + 0.1, R.random((3, 4)) * 4), {"log_input": False, "eps": 1e-3}),
    ("poisson_nll_loss", lambda: (rn(3, 4), Const(np.array([0.0, 0.5, 1, 3]))), {"full": True}),
    ("poisson_nll_loss", lambda: (rn(3, 4), R.random((3, 4)) * 4 + 0.1), {"full": True}),
    ("poisson_nll_loss", lambda: (R.random(4) + 0.1, Const(np.array([0.0, 1, 2, 7]))), {"log_input": False, "full": True}),
    ("poisson_nll_loss", lambda: (rn(4), np.array([0, 1, 2, 7])), {}),  # int counts; not full: torch logs them in float32
    ("gaussian_nll_loss", lambda: (rn(3, 4), rn(3, 4), R.random((3, 4)) + 0.1), {}),
    ("gaussian_nll_loss", lambda: (rn(3, 4), rn(3, 4), R.random(3) + 0.1), {"full": True}),
    ("gaussian_nll_loss", lambda: (rn(3, 4), rn(3, 1), R.random((3, 1)) + 0.1), {}),
    ("gaussian_nll_loss", lambda: (rn(3, 4), rn(4), R.random((1, 4)) * 0.2), {"eps": 0.05}),
    ("gaussian_nll_loss", lambda: (rn(3, 1), rn(3, 1), R.random(3) + 0.1), {}),
    ("gaussian_nll_loss", lambda: (rn(), rn(), np.array(0.5)), {"full": True}),
    ("gaussian_nll_loss", lambda: (rn(3, 4), rn(3, 4)), {"var": 0.7}),
]  # fmt: skip
NO_REDUCTION = {"pairwise_distance"}


def _run(torch, name, arrays, kwargs, reduction, tol=None):
    kw = {k: v for k, v in kwargs.items() if k not in ("weight", "distance_function", "var")}
    if reduction is not None:
        kw["reduction"] = reduction
    extra = [] if kwargs.get("weight") != "w5" else [Const(R.random(5) + 0.5)]

    def call(lib, mod):
        def fn(*ts):
            more = dict(kw)
            if extra:
                ts, more["weight"] = ts[:-1], ts[-1]
            if kwargs.get("distance_function") == "cos":
                more["distance_function"] = _cos_dist(lib)
            if "var" in kwargs:
                ts = (*ts, kwargs["var"])
            return getattr(mod, name)(*ts, **more)

        return fn

    return check(call(F, F), call(torch.nn.functional, torch.nn.functional), *arrays, *extra, tol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "make", "kwargs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_parity(torch, name, make, kwargs, reduction):
    _run(torch, name, make(), kwargs, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "target"),
    [("multi_margin_loss", np.zeros(0, np.int64)), ("multilabel_margin_loss", np.zeros((0, 4), np.int64))],
)
def test_margin_losses_of_an_empty_batch(name, target, reduction):
    """Not against PyTorch: its CPU kernels return the output buffer unwritten for an empty batch
    (uninitialised memory: 6.9e-310 in one call, -0.26 in another), so there is no value to match.
    glassgrad gives 0 for 'mean' and 'sum' (an empty batch adds nothing to a training loss) and an
    empty vector for 'none', and the input's gradient is empty."""
    x = gg.zeros(0, 4, dtype=gg.float64, requires_grad=True)
    loss = getattr(F, name)(x, gg.tensor(target), reduction=reduction)
    if reduction == "none":
        assert loss.shape == (0,)
        loss = loss.sum()
    else:
        assert loss.shape == () and loss.item() == 0.0
    loss.backward()
    assert x.grad.shape == (0, 4)


@pytest.mark.parametrize(
    ("arrays", "kwargs"),
    [((rn(5, 4), rn(5, 4)), {}), ((rn(5, 4), rn(5, 4)), {"p": 1.0, "keepdim": True}),
     ((rn(5, 4), rn(4)), {"p": 3.0, "eps": 0.0}), ((rn(2, 3, 4), rn(3, 1)), {"p": 0.5}),
     ((rn(5, 4), rn(5, 4)), {"p": math.inf}), ((rn(5, 4), rn(5, 4)), {"p": -math.inf}),
     ((rn(5, 4), rn(5, 4)), {"p": 0}), ((rn(5, 4), rn(5, 4)), {"p": -1.0}), ((rn(4), rn(4)), {"keepdim": True}),
     ((rn(), rn()), {}), ((rn(3, 0), rn(3, 0)), {}), ((np.ones((2, 2)), np.ones((2, 2))), {"eps": 0.0})],
)  # fmt: skip
def test_pairwise_distance_parity(torch, arrays, kwargs):
    _run(torch, "pairwise_distance", arrays, kwargs, None)


@pytest.mark.parametrize(
    ("name", "arrays", "kwargs"),
    [("margin_ranking_loss", (np.array([1.0, 2, 3]), np.array([0.5, 2, 1]), np.array([1.0, -1, -1])), {"margin": 0.5}),
     ("hinge_embedding_loss", (np.array([1.0, 0.5, 2.0, 0.0]), Const(np.array([-1.0, -1, -1, 1]))), {"margin": 2.0}),
     ("cosine_embedding_loss", (np.array([[1.0, 0], [0, 0]]), np.array([[0.0, 1], [0, 1]]), Const(np.array([-1.0, 1]))), {}),
     ("triplet_margin_loss", (np.zeros((1, 2)), np.array([[1.0, 0]]), np.array([[2.0, 0]])), {}),
     ("triplet_margin_loss", (np.zeros((1, 2)), np.zeros((1, 2)), np.array([[1.0, 0]])), {"swap": True}),
     ("multi_margin_loss", (np.array([[1.0, 0.0, 0.5]]), np.array([0])), {}),
     ("multi_margin_loss", (np.array([[1.0, 0.0, 0.5]]), np.array([0])), {"p": 2}),
     ("multilabel_margin_loss", (np.array([[1.0, 0.0, 0.5]]), np.array([[0, -1, 2]])), {}),
     ("soft_margin_loss", (np.array([0.0, 0.0]), Const(np.array([1.0, -1]))), {}),
     ("multilabel_soft_margin_loss", (np.zeros((1, 3)), Const(np.array([[1.0, 0, 0.5]]))), {})],
)  # fmt: skip
def test_gradients_at_kinks_are_pytorchs(torch, name, arrays, kwargs):
    _run(torch, name, arrays, kwargs, "none", tol=1e-8)  # a zero vector's cosine gradient is ~1e6


@pytest.mark.parametrize("index", [0, 6, 11, 16, 28, 32, 36, 44, 49, 54])
def test_float32_parity(torch, index):
    name, make, kwargs = CASES[index]
    check(lambda *ts: getattr(F, name)(*ts, **kwargs), lambda *ts: getattr(torch.nn.functional, name)(*ts, **kwargs),
          *make(), dtype=np.float32)  # fmt: skip


def test_pairwise_distance_of_equal_points_and_integer_inputs(torch):
    out = _run(torch, "pairwise_distance", (np.array([[1.0, -1]]), np.array([[1.0, -1]])), {"eps": 0.0}, None)
    assert out.item() == 0.0  # gradient 0, not nan, where the distance is 0
    ints = F.pairwise_distance(gg.tensor([[1, 2]]), gg.tensor([[4, 6]]), eps=0.0)
    assert ints.dtype == gg.float32 and ints.item() == 5.0


# ------------------------------------------------------------------ gradchecks (float64, off the kinks)
def _t(a):
    return gg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


GRADCHECKS = [
    ("cosine_embedding_loss", lambda: (_t(rn(4, 3)), _t(rn(4, 3)), gg.tensor([1.0, -1, 1, -1])), {"margin": -2.0}),
    ("margin_ranking_loss", lambda: (_t(rn(5)), _t(rn(5)), _t(pm1(5))), {"margin": 10.0}),
    ("hinge_embedding_loss", lambda: (_t(R.random(6)), gg.tensor(pm1(6))), {"margin": 2.0}),
    ("triplet_margin_loss", lambda: (_t(rn(4, 3)), _t(rn(4, 3)), _t(rn(4, 3))), {"margin": 20.0, "p": 3}),
    ("triplet_margin_loss", lambda: (_t(rn(4, 3)), _t(rn(4, 3)), _t(rn(4, 3))), {"margin": 20.0, "swap": True}),
    ("triplet_margin_with_distance_loss", lambda: (_t(rn(4, 3)), _t(rn(4, 3)), _t(rn(4, 3))), {"margin": 20.0}),
    ("soft_margin_loss", lambda: (_t(rn(3, 4) * 3), gg.tensor(pm1(3, 4))), {}),  # (target: no grad, as PyTorch)
    ("multilabel_soft_margin_loss", lambda: (_t(rn(3, 4)), _t(R.random((3, 4))), _t(R.random(4))), {}),
    ("multi_margin_loss", lambda: (_t(rn(4, 5) * 5), gg.tensor(cls(4, 5))), {"p": 2, "margin": 100.0}),
    ("multi_margin_loss", lambda: (_t(rn(4, 5) * 5), gg.tensor(cls(4, 5))), {"weight": gg.tensor(R.random(5))}),
    ("multilabel_margin_loss", lambda: (_t(rn(3, 4) * 5), gg.tensor(labels(3, 4))), {}),
    ("poisson_nll_loss", lambda: (_t(rn(3, 4)), _t(R.random((3, 4)) * 4 + 0.1)), {"full": True}),
    ("poisson_nll_loss", lambda: (_t(R.random(4) + 0.5), _t(R.random(4) * 3)), {"log_input": False}),
    ("gaussian_nll_loss", lambda: (_t(rn(3, 4)), _t(rn(3, 4)), _t(R.random(3) + 0.5)), {"full": True}),
    ("pairwise_distance", lambda: (_t(rn(4, 3)), _t(rn(4, 3))), {"p": 1.5}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "make", "kwargs"), GRADCHECKS, ids=[f"{g[0]}-{i}" for i, g in enumerate(GRADCHECKS)]
)
def test_gradcheck(name, make, kwargs):
    fn = getattr(F, name)
    assert gradcheck(lambda *ts: fn(*ts, **kwargs), make())


# ------------------------------------------------------------------ stability
def test_soft_margins_are_finite_for_large_inputs():
    x = gg.tensor([1e4, -1e4, 800.0, -800.0], dtype=gg.float64, requires_grad=True)
    y = gg.tensor([1.0, 1.0, -1.0, -1.0], dtype=gg.float64)
    loss = F.soft_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 1e4, 800.0, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1.0, 1.0, 0.0])
    ml = F.multilabel_soft_margin_loss(x.reshape(1, 4) * 10, (y.reshape(1, 4) + 1) / 2, reduction="none")
    assert np.isfinite(ml.item()) and ml.item() == pytest.approx((1e5 + 8000.0) / 4)


def test_poisson_full_stirling_has_no_nan_at_zero_target():
    """No nan in the value; the target's gradient at 0 is nan, as PyTorch's (its masked_fill's
    0 times log 0's slope), without NumPy warnings."""
    target = gg.tensor([0.0, 0.5, 1.0, 3.0], dtype=gg.float64, requires_grad=True)
    x = gg.zeros(4, dtype=gg.float64, requires_grad=True)
    with np.errstate(all="raise"):
        F.poisson_nll_loss(x, target, full=True, reduction="sum").backward()
    stirling3 = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
    np.testing.assert_allclose(target.grad.numpy(), [math.nan, 0.0, 0.0, math.log(3) + 0.5 / 3])
    assert F.poisson_nll_loss(x, target, full=True, reduction="sum").item() == pytest.approx(4.0 + stirling3)


# ------------------------------------------------------------------ modules
MODULES = [
    ("CosineEmbeddingLoss", (0.5,), {}, (rn(4, 3), rn(4, 3), Const(pm1(4)))),
    ("MarginRankingLoss", (), {"margin": 0.2}, (rn(5), rn(5), pm1(5))),
    ("HingeEmbeddingLoss", (2.0,), {}, (rn(3, 4), Const(pm1(3, 4)))),
    ("TripletMarginLoss", (1.5, 1.0, 1e-4, True), {}, (rn(4, 3), rn(4, 3), rn(4, 3))),
    ("TripletMarginWithDistanceLoss", (), {"margin": 0.5, "swap": True}, (rn(4, 3), rn(4, 3), rn(4, 3))),
    ("SoftMarginLoss", (), {}, (rn(3, 4), Const(pm1(3, 4)))),
    ("MultiMarginLoss", (2, 0.5, "w"), {}, (rn(4, 5), cls(4, 5))),
    ("MultiLabelMarginLoss", (), {}, (rn(5, 4), labels(5, 4))),
    ("MultiLabelSoftMarginLoss", ("w",), {}, (rn(4, 5), Const(R.random((4, 5))))),
    ("PoissonNLLLoss", (False, True), {"eps": 1e-4}, (R.random((3, 4)) + 0.1, Const(R.random((3, 4)) * 4))),
    ("GaussianNLLLoss", (), {"full": True, "eps": 0.1}, (rn(3, 4), rn(3, 4), R.random(3))),
    ("PairwiseDistance", (3.0, 1e-3, True), {}, (rn(4, 3), rn(4, 3))),
    ("CosineSimilarity", (0, 1e-4), {}, (rn(4, 3), rn(4, 3))),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "arrays", "reduction"),
    [(*m, r) for m in MODULES for r in ([None] if "Loss" not in m[0] else [None, "sum", "none"])],
    ids=[f"{m[0]}-{r}" for m in MODULES for r in ([None] if "Loss" not in m[0] else [None, "sum", "none"])],
)
def test_module_parity(torch, name, args, kwargs, arrays, reduction):
    w = R.random(5) + 0.5
    kw = dict(kwargs) if reduction is None else {**kwargs, "reduction": reduction}
    ours = getattr(nn, name)(*[gg.tensor(w) if a == "w" else a for a in args], **kw)
    theirs = getattr(torch.nn, name)(*[torch.tensor(w) if a == "w" else a for a in args], **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert getattr(ours, "reduction", None) == getattr(theirs, "reduction", None)
    check(ours, theirs, *arrays)


def test_module_reprs_and_attributes(torch):
    tm = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1.0))
    assert repr(tm) == repr(
        torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.PairwiseDistance(1.0))
    )
    assert repr(tm) == "TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance()\n)"
    plain = nn.TripletMarginWithDistanceLoss(distance_function=lambda a, b: (a - b).abs().sum(-1))
    assert repr(plain) == "TripletMarginWithDistanceLoss()" and not list(plain.children())
    pd, tpd = nn.PairwiseDistance(1.0, 1e-3, True), torch.nn.PairwiseDistance(1.0, 1e-3, True)
    assert (pd.norm, pd.eps, pd.keepdim) == (tpd.norm, tpd.eps, tpd.keepdim)
    t = nn.TripletMarginLoss(2.0, 1.0, 1e-3, True)
    assert (t.margin, t.p, t.eps, t.swap) == (2.0, 1.0, 1e-3, True)
    assert nn.CosineSimilarity().dim == 1 and nn.CosineSimilarity().eps == 1e-8


# ------------------------------------------------------------------ legacy size_average / reduce
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("size_average", "reduce", "expected"), [(False, None, "sum"), (None, False, "none"),
                                                                  (True, True, "mean"), (False, True, "sum")])  # fmt: skip
def test_legacy_size_average_and_reduce(torch, size_average, reduce, expected):
    legacy = {"size_average": size_average, "reduce": reduce}
    for name, args, kwargs, _ in MODULES:
        if name in ("TripletMarginWithDistanceLoss", "GaussianNLLLoss") or "Loss" not in name:
            continue
        args = [gg.tensor(np.ones(5)) if a == "w" else a for a in args]
        assert getattr(nn, name)(*args, **kwargs, **legacy).reduction == expected, name
    x1, x2, t = rn(5), rn(5), pm1(5)
    check(lambda a, b, y: F.margin_ranking_loss(a, b, y, 0.1, size_average, reduce),
          lambda a, b, y: torch.nn.functional.margin_ranking_loss(a, b, y, 0.1, size_average, reduce), x1, x2, t)  # fmt: skip
    x, c = rn(4, 5), cls(4, 5)
    check(lambda a, y: F.multi_margin_loss(a, y, size_average=size_average, reduce=reduce),
          lambda a, y: torch.nn.functional.multi_margin_loss(a, y, size_average=size_average, reduce=reduce), x, c)  # fmt: skip
    check(lambda a, y: F.poisson_nll_loss(a, y, True, False, size_average, 1e-8, reduce),
          lambda a, y: torch.nn.functional.poisson_nll_loss(a, y, True, False, size_average, 1e-8, reduce),
          rn(3), Const(R.random(3)))  # fmt: skip


def test_legacy_arguments_warn(torch):
    with pytest.warns(
        UserWarning, match="size_average and reduce args will be deprecated: soft_margin_loss reads them as"
    ) as record:
        F.soft_margin_loss(gg.randn(3), gg.ones(3), size_average=False)
    assert record[0].filename == __file__  # points at the caller
    with pytest.warns(UserWarning) as theirs:  # both name the reduction to use instead
        torch.nn.functional.soft_margin_loss(torch.randn(3), torch.ones(3), size_average=False)
    assert "reduction='sum'" in str(record[0].message) and "reduction='sum'" in str(theirs[0].message)
    with pytest.warns(UserWarning, match="deprecated: HingeEmbeddingLoss .* pass reduction='none' instead"):
        nn.HingeEmbeddingLoss(reduce=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.multilabel_soft_margin_loss(gg.randn(2, 3), gg.ones(2, 3))


# ------------------------------------------------------------------ errors
x23, i2 = gg.randn(2, 3), gg.tensor([0, 1])
ERRORS = [
    (lambda: F.cosine_embedding_loss(x23, x23, gg.ones(2, 1)), ShapeError, r"cosine_embedding_loss: expected target of shape \(N,\) or \(\).*got \(2, 1\)"),
    (lambda: F.cosine_embedding_loss(x23, x23, gg.tensor(1.0)), ShapeError, r"cosine_embedding_loss: expected 1-d inputs for target \(\), got input1 \(2, 3\) and input2 \(2, 3\)"),
    (lambda: F.cosine_embedding_loss(x23, gg.randn(2, 4), gg.ones(2)), ShapeError, r"cosine_embedding_loss: expected shapes that broadcast together, got input1 \(2, 3\), input2 \(2, 4\)"),
    (lambda: F.margin_ranking_loss(gg.randn(3), gg.randn(3, 1), gg.ones(3)), ShapeError, r"margin_ranking_loss: expected inputs with the same number of dims, got input1 \(3,\), input2 \(3, 1\), target \(3,\)"),
    (lambda: F.margin_ranking_loss(gg.randn(3), gg.randn(4), gg.ones(3)), ShapeError, r"margin_ranking_loss: expected shapes that broadcast together"),
    (lambda: F.margin_ranking_loss(gg.randn(3), gg.randn(3), gg.ones(3), reduction="avg"), ValueError, r"margin_ranking_loss: expected reduction in \('none', 'mean', 'sum'\), got 'avg'"),
    (lambda: F.hinge_embedding_loss(gg.randn(3), gg.ones(4)), ShapeError, r"hinge_embedding_loss: .*input \(3,\), target \(4,\)"),
    (lambda: F.soft_margin_loss(gg.randn(4), gg.ones(3, 4)), ShapeError, r"soft_margin_loss: expected shapes that broadcast to the input's \(4,\), got input \(4,\), target \(3, 4\)"),
    (lambda: F.triplet_margin_loss(x23, x23, x23, margin=0.0), ValueError, r"triplet_margin_loss: expected margin > 0, got 0.0"),
    (lambda: F.triplet_margin_loss(x23, x23[0], x23), ShapeError, r"triplet_margin_loss: expected inputs with the same number of dims, got anchor \(2, 3\), positive \(3,\), negative \(2, 3\)"),
    (lambda: F.triplet_margin_with_distance_loss(x23, x23, x23, reduction="x"), ValueError, r"triplet_margin_with_distance_loss: expected reduction"),
    (lambda: F.pairwise_distance(x23, gg.randn(4)), ShapeError, r"pairwise_distance: expected shapes that broadcast together, got x1 \(2, 3\), x2 \(4,\)"),
    (lambda: F.multi_margin_loss(x23, i2, p=3), ValueError, r"multi_margin_loss: expected p = 1 or p = 2, got 3"),
    (lambda: F.multi_margin_loss(x23, i2.double()), DTypeError, r"multi_margin_loss: expected float input and int64 target, got glassgrad.float32 and float64"),
    (lambda: F.multi_margin_loss(i2, gg.tensor(0)), DTypeError, r"multi_margin_loss: expected float input and int64 target, got glassgrad.int64 and int64"),
    (lambda: F.multi_margin_loss(x23, gg.tensor([0, 1, 1])), ShapeError, r"multi_margin_loss: expected target \(2,\) or \(\) for input \(2, 3\), got \(3,\)"),
    (lambda: F.multi_margin_loss(x23, gg.tensor([0, 3])), IndexError, r"multi_margin_loss: expected class indices in \[0, 3\), got \[0, 3\]"),
    (lambda: F.multi_margin_loss(gg.randn(2, 3, 4), i2), ShapeError, r"multi_margin_loss: expected input of shape \(N, C\) or \(C,\) with C > 0, got \(2, 3, 4\)"),
    (lambda: F.multi_margin_loss(x23, i2, weight=gg.ones(4)), ShapeError, r"multi_margin_loss: expected weight of shape \(3,\), got \(4,\)"),
    (lambda: F.multi_margin_loss(x23, i2, weight=gg.ones(3, dtype=gg.float64)), DTypeError, r"multi_margin_loss: expected weight of dtype glassgrad.float32 like input"),
    (lambda: F.multi_margin_loss(x23, i2, weight=gg.ones(3, requires_grad=True)), GraphError, r"multi_margin_loss: weight gets no gradient"),
    (lambda: F.multilabel_margin_loss(x23, gg.tensor([[0, 1, -1]])), ShapeError, r"multilabel_margin_loss: expected target of the input's shape \(2, 3\), got \(1, 3\)"),
    (lambda: F.multilabel_margin_loss(x23, gg.tensor([[0, -2, 1], [0, 1, 2]])), IndexError, r"multilabel_margin_loss: expected target entries in \[-1, 3\) \(-1 ends a list\), got \[-2, 2\]"),
    (lambda: F.multilabel_margin_loss(x23, gg.ones(2, 3)), DTypeError, r"multilabel_margin_loss: expected float input and int64 target"),
    (lambda: F.multilabel_soft_margin_loss(gg.tensor(1.0), gg.tensor(1.0)), ShapeError, r"multilabel_soft_margin_loss: expected input of shape \(N, C\) or \(C,\), got \(\)"),
    (lambda: F.multilabel_soft_margin_loss(x23, gg.ones(2)), ShapeError, r"multilabel_soft_margin_loss: expected shapes that broadcast together, got input \(2, 3\), target \(2,\)"),
    (lambda: F.poisson_nll_loss(x23, gg.ones(2)), ShapeError, r"poisson_nll_loss: expected shapes that broadcast together, got input \(2, 3\), target \(2,\)"),
    (lambda: F.gaussian_nll_loss(x23, x23, -gg.ones(2, 3)), ValueError, r"gaussian_nll_loss: expected var >= 0 everywhere, got a negative entry \(-1.0\)"),
    (lambda: F.gaussian_nll_loss(x23, x23, -0.5), ValueError, r"gaussian_nll_loss: expected var >= 0, got -0.5"),
    (lambda: F.gaussian_nll_loss(x23, x23, gg.ones(1, 1)), ShapeError, r"gaussian_nll_loss: expected var of shape \(2, 3\), \(2,\) or one dim 1, got \(1, 1\)"),
    (lambda: F.gaussian_nll_loss(x23, x23, gg.ones(3)), ShapeError, r"gaussian_nll_loss: expected var of shape"),
    (lambda: F.gaussian_nll_loss(x23, x23, "1"), DTypeError, r"gaussian_nll_loss: expected var to be a Tensor or a float, got str"),
    (lambda: F.gaussian_nll_loss(x23, gg.ones(2), gg.ones(2, 3)), ShapeError, r"gaussian_nll_loss: expected shapes that broadcast together"),
    (lambda: F.gaussian_nll_loss(x23, x23, gg.ones(2, 3), reduction="avg"), ValueError, r"gaussian_nll_loss: expected reduction"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError, r"TripletMarginLoss: expected margin > 0, got -1.0"),
    (lambda: nn.TripletMarginWithDistanceLoss(margin=0), ValueError, r"TripletMarginWithDistanceLoss: expected margin > 0, got 0"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, r"MultiMarginLoss: expected p = 1 or p = 2, got 3"),
    (lambda: nn.MultiMarginLoss(weight=gg.ones(2, 3)), ValueError, r"MultiMarginLoss: expected weight to be None or 1-d, got 2-d"),
    (lambda: nn.SoftMarginLoss(reduction="avg"), ValueError, r"SoftMarginLoss: expected reduction in"),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "exc", "match"), ERRORS, ids=[f"error-{i}" for i in range(len(ERRORS))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()
