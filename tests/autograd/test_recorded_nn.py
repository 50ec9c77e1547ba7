"""Recorded VJP rules of the products, activations, losses and norms (autograd/recorded_rules_nn*.py):
each checked by ``gradgradcheck`` (the recorded VJP against finite differences of the first-order
one, d/d(grad_output) included) and against PyTorch's second derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradgradcheck
from glassgrad.errors import GraphError


def _t(*shape, seed=0, away=0.0, grad=True):
    """A float64 tensor of standard normals, kept ``away`` from 0."""
    a = np.random.default_rng(seed).standard_normal(shape)
    if away:
        a = np.where(a >= 0, a + away, a - away)
    return gg.tensor(a, requires_grad=grad)


def _check(fn, *inputs):
    assert gradgradcheck(fn, inputs)


# ------------------------------------------------------------------ gradgradcheck, products
_MM = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)),
       ((5, 2, 3), (3,)), ((2, 1, 2, 3), (4, 3, 2)), ((2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 1))]  # fmt: skip


@pytest.mark.parametrize(("sa", "sb"), _MM)
def test_matmul(sa, sb):
    _check(lambda a, b: a @ b, _t(*sa, seed=1), _t(*sb, seed=2))


def test_matmul_one_side_constant():
    _check(lambda a: a @ _t(3, 4, seed=3, grad=False), _t(2, 3))
    _check(lambda b: _t(5, 2, 3, seed=3, grad=False) @ b, _t(3, 4))


@pytest.mark.parametrize("xshape", [(3,), (2, 3), (2, 4, 3), (2, 1, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xshape, bias):
    args = (_t(*xshape), _t(5, 3, seed=1)) + ((_t(5, seed=2),) if bias else ())
    _check(lambda x, w, *b: F.linear(x, w, *b), *args)


# ------------------------------------------------------------------ activations
# fmt: off
_ACTS = {
    "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "leaky_relu_neg": lambda x: F.leaky_relu(x, -0.5),
    "leaky_relu_result": lambda x: gg.ops.activation.leaky_relu(x, 0.1, result=True), "sigmoid": F.sigmoid,
    "silu": F.silu, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "elu": F.elu,
    "elu_alpha": lambda x: F.elu(x, 0.5), "elu_result": lambda x: gg.ops.activation.elu(x, 1.5, result=True),
    "softplus": F.softplus, "softplus_beta": lambda x: F.softplus(x, beta=2.0, threshold=1.5),
    "softplus_small_beta": lambda x: F.softplus(x, beta=0.5, threshold=0.3), "hardtanh": F.hardtanh,
    "hardtanh_bounds": lambda x: F.hardtanh(x, -0.5, 1.5), "logsigmoid": F.logsigmoid,
    "hardswish": F.hardswish, "softmax0": lambda x: F.softmax(x, 0), "softmax": lambda x: F.softmax(x, -1),
    "log_softmax": lambda x: F.log_softmax(x, 1), "log_softmax0": lambda x: F.log_softmax(x, 0),
}
# fmt: on


@pytest.mark.parametrize("name", list(_ACTS))
@pytest.mark.parametrize("shape", [(4, 5), (2, 1, 3)])
def test_activation(name, shape):
    # scaled to reach every branch (hardswish's +-3, softplus's threshold), kept off the kinks
    a = _t(*shape, away=0.05, grad=False).numpy() * 2.5
    x = gg.tensor(np.where(np.abs(np.abs(a) - 3) < 0.05, 2.0, a), requires_grad=True)
    _check(_ACTS[name], x)


def test_in_place_results_with_negative_slope_refuse():
    for f in (lambda x: gg.ops.activation.leaky_relu(x, -0.1, result=True),
              lambda x: gg.ops.activation.elu(x, -1.0, result=True)):  # fmt: skip
        x = _t(3)
        with pytest.raises(GraphError):
            gg.autograd.grad(f(x).sum(), x, create_graph=True)


# ------------------------------------------------------------------ losses
# fmt: off
_CE = [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": True}, {"weight": True, "reduction": "none"},
    {"ignore_index": 1}, {"ignore_index": 1, "weight": True}, {"label_smoothing": 0.2},
    {"label_smoothing": 0.2, "weight": True, "ignore_index": 2},
    {"label_smoothing": 0.3, "weight": True, "reduction": "sum"},
]
# fmt: on


@pytest.mark.parametrize("kw", _CE)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)])
def test_cross_entropy(kw, shape):
    kw = dict(kw)
    rng = np.random.default_rng(4)
    target = gg.tensor(rng.integers(0, 4, (shape[0], *shape[2:])))
    if kw.pop("weight", False):
        kw["weight"] = gg.tensor(rng.uniform(0.5, 2, 4))
    _check(lambda x: F.cross_entropy(x, target, **kw), _t(*shape))


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1, "reduction": "sum"}, {"weight": True}])
def test_cross_entropy_probability_targets(kw):
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = gg.tensor(np.linspace(0.5, 2, 4))
    _check(lambda x, t: F.cross_entropy(x, F.softmax(t, 1), **kw), _t(5, 4), _t(5, 4, seed=3))


def test_cross_entropy_all_ignored_gives_zero_gradients():
    x = _t(3, 4)
    loss = F.cross_entropy(x, gg.tensor([-100, -100, -100]), reduction="sum")
    (g,) = gg.autograd.grad(loss, x, create_graph=True)
    assert np.all(g.detach().numpy() == 0)  # (it requires grad, as PyTorch's: round 60)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits(reduction, weight, pos_weight):
    w = gg.tensor(np.linspace(0.5, 2, 3)) if weight else None
    pw = gg.tensor(np.array([0.5, 3.0, 1.5])) if pos_weight else None
    y = gg.tensor(np.random.default_rng(5).uniform(0, 1, (4, 3)), requires_grad=True)
    f = lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw)  # noqa: E731
    _check(f, _t(4, 3), y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [False, True])
def test_bce(reduction, weight):
    rng = np.random.default_rng(6)
    w = gg.tensor(rng.uniform(0.5, 2, (1, 3))) if weight else None
    p = gg.tensor(rng.uniform(0.05, 0.95, (4, 3)), requires_grad=True)
    y = gg.tensor(rng.uniform(0, 1, (4, 3)), requires_grad=True)
    _check(lambda p, y: F.binary_cross_entropy(p, y, w, reduction=reduction), p, y)


# ------------------------------------------------------------------ normalisation
@pytest.mark.parametrize(("shape", "norm"), [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 1, 4), (4,))])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm(shape, norm, affine):
    w = _t(*norm, seed=1) if affine in ("both", "weight") else None
    b = _t(*norm, seed=2) if affine in ("both", "bias") else None
    _check(lambda x, w, b: F.layer_norm(x, norm, w, b), _t(*shape), w, b)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, affine, training):
    rm, rv = gg.tensor(np.linspace(-1, 1, 3)), gg.tensor(np.linspace(0.5, 2, 3))
    args = (_t(3, seed=1), _t(3, seed=2)) if affine else ()
    f = lambda x, *wb: F.batch_norm(x, rm.clone(), rv.clone(), *wb, training=training)  # noqa: E731
    _check(f, _t(*shape), *args)


# ------------------------------------------------------------------ einsum, cdist
@pytest.mark.parametrize(
    ("eq", "shapes"),
    [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("i,i->", [(3,), (3,)]),
     ("ij->j", [(2, 3)]), ("ij", [(2, 3)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
     ("ij,kj->ikj", [(2, 3), (4, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
     ("ij,ij->i", [(1, 3), (4, 3)]), ("ij,k->ik", [(2, 3), (4,)])],
)  # fmt: skip
def test_einsum(eq, shapes):
    ts = [_t(*s, seed=i) for i, s in enumerate(shapes)]
    _check(lambda *xs: gg.einsum(eq, *xs), *ts)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, float("inf")])
@pytest.mark.parametrize(("s1", "s2"), [((3, 2), (4, 2)), ((2, 3, 2), (1, 4, 2))])
def test_cdist(p, s1, s2):
    _check(lambda a, b: gg.cdist(a, b, p=p), _t(*s1, seed=1), _t(*s2, seed=2))


def test_cdist_zero_distance_has_finite_second_derivatives():
    a = gg.tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
    for p in (2.0, 3.0, 0.5):
        (g,) = gg.autograd.grad(gg.cdist(a, a, p=p).sum(), a, create_graph=True)
        assert np.isfinite(gg.autograd.grad((g * g).sum(), a)[0].numpy()).all()


def test_one_tensor_in_several_operands():
    for f in (lambda a: a @ a, lambda a: gg.einsum("ij,jk->ik", a, a), lambda a: F.linear(a, a, a[0]),
              lambda a: F.layer_norm(a, (3,), a[0], a[1]), lambda a: F.binary_cross_entropy_with_logits(a, a.sigmoid()),
              lambda a: F.batch_norm(a, None, None, a[0], a[1], training=True)):  # fmt: skip
        _check(f, _t(3, 3))


# ------------------------------------------------------------------ PyTorch parity, second order
def _second_order(lib, fn, arrays, seed=0):
    """The create_graph=True VJP, then the gradient of a random weighting of it w.r.t. (inputs, v)."""
    rng = np.random.default_rng(seed)
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    v = lib.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    grads = lib.autograd.grad(out, ts, v, create_graph=True, allow_unused=True)
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads if g is not None)
    second = lib.autograd.grad(total, [*ts, v], allow_unused=True)
    first = [None if g is None else g.detach().numpy() for g in grads]
    return first, [np.zeros(a.shape) if h is None else h.numpy() for h, a in zip(second, [*arrays, out])]


def _compare(torch, fn, *shapes, seed=0):
    arrays = [np.random.default_rng(seed + i).standard_normal(s) for i, s in enumerate(shapes)]
    f_ours, s_ours = _second_order(gg, fn, arrays, seed)
    f_torch, s_torch = _second_order(torch, fn, arrays, seed)
    for a, b in zip(f_ours + s_ours, f_torch + s_torch):
        if a is None or b is None:
            assert a is None or not np.any(a)
            continue
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the create_graph=True first-order gradients are the plain backward's
    ts = [gg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(gg, *ts)
    v = gg.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
    plain = gg.autograd.grad(out, ts, v, allow_unused=True)
    for a, b in zip(f_ours, plain):
        if b is not None:
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize(("sa", "sb"), _MM)
def test_matmul_matches_torch(torch, sa, sb):
    _compare(torch, lambda lib, a, b: (a @ b).sin(), sa, sb)


@pytest.mark.parametrize("xshape", [(3,), (2, 3), (2, 4, 3)])
def test_linear_matches_torch(torch, xshape):
    _compare(torch, lambda lib, x, w, b: lib.tanh(lib.nn.functional.linear(x, w, b)), xshape, (5, 3), (5,))
    _compare(torch, lambda lib, x, w: lib.nn.functional.linear(x, w).exp(), xshape, (5, 3))


# fmt: off
_TORCH_ACTS = {
    "tanh": lambda F, h: h.tanh(), "relu": lambda F, h: F.relu(h),
    "leaky_relu": lambda F, h: F.leaky_relu(h, 0.2),
    "leaky_relu_": lambda F, h: F.leaky_relu(h * 1, 0.2, inplace=True), "sigmoid": lambda F, h: F.sigmoid(h),
    "silu": lambda F, h: F.silu(h), "gelu": lambda F, h: F.gelu(h),
    "gelu_tanh": lambda F, h: F.gelu(h, approximate="tanh"), "elu": lambda F, h: F.elu(h, 0.7),
    "elu_": lambda F, h: F.elu(h * 1, 0.7, inplace=True), "softplus": lambda F, h: F.softplus(h),
    "softplus_beta": lambda F, h: F.softplus(h, beta=2.0, threshold=1.0),
    "hardtanh": lambda F, h: F.hardtanh(h, -0.5, 0.8), "logsigmoid": lambda F, h: F.logsigmoid(h),
    "hardswish": lambda F, h: F.hardswish(h * 3),
}
# fmt: on


def _mlp(act, head):
    def fn(lib, x, w1, b1, w2, b2):
        F = lib.nn.functional
        h = _TORCH_ACTS[act](F, F.linear(x, w1, b1))
        return head(lib, F.linear(h, w2, b2))

    return fn


@pytest.mark.parametrize("act", list(_TORCH_ACTS))
def test_mlp_activation_matches_torch(torch, act):
    _compare(torch, _mlp(act, lambda lib, y: y.sin()), (4, 3), (6, 3), (6,), (2, 6), (2,))


_HEADS = {
    "softmax": lambda lib, y: lib.nn.functional.softmax(y, 1),
    "softmax0": lambda lib, y: lib.nn.functional.softmax(y, 0),
    "log_softmax": lambda lib, y: lib.nn.functional.log_softmax(y, -1),
    "layer_norm": lambda lib, y: lib.nn.functional.layer_norm(y, (3,)),
    "batch_norm": lambda lib, y: lib.nn.functional.batch_norm(y, None, None, training=True),
}


@pytest.mark.parametrize("head", list(_HEADS))
def test_mlp_head_matches_torch(torch, head):
    _compare(torch, _mlp("softplus", _HEADS[head]), (4, 3), (6, 3), (6,), (3, 6), (3,))


def _ce_kwargs(lib, kw):
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = lib.tensor(np.linspace(0.5, 2, 4))
    return kw


@pytest.mark.parametrize("kw", _CE)
def test_cross_entropy_matches_torch(torch, kw):
    target = np.array([0, 3, 1, 2, 1])

    def fn(lib, x, w1, b1, w2, b2):
        y = lib.nn.functional.linear(lib.tanh(lib.nn.functional.linear(x, w1, b1)), w2, b2)
        return lib.nn.functional.cross_entropy(y, lib.tensor(target), **_ce_kwargs(lib, kw))

    _compare(torch, fn, (5, 3), (6, 3), (6,), (4, 6), (4,))


@pytest.mark.parametrize("kw", _CE[:3] + _CE[7:8])
def test_cross_entropy_spatial_and_probabilities_match_torch(torch, kw):
    tgt = np.random.default_rng(9).integers(0, 4, (3, 2))
    _compare(torch, lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(tgt), **kw), (3, 4, 2))
    _compare(torch, lambda lib, x, p: lib.nn.functional.cross_entropy(x, p.softmax(1), **kw), (3, 4), (3, 4))


def test_gradient_penalty_matches_torch(torch):
    """A 2-layer MLP's gradient penalty: d loss / d x with create_graph, then the penalty's
    gradient w.r.t. every weight."""
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal(s) for s in ((5, 3), (6, 3), (6,), (6, 6), (6,), (4, 6), (4,))]
    results = []
    for lib in (gg, torch):
        F = lib.nn.functional
        x, w1, b1, w2, b2, w3, b3 = (lib.tensor(a, requires_grad=True) for a in arrays)
        h = F.gelu(F.layer_norm(F.linear(x, w1, b1), (6,)))
        h = F.softplus(F.linear(h, w2, b2), beta=1.5) + F.silu(h) + F.elu(h)
        y = F.linear(F.gelu(h, approximate="tanh"), w3, b3)
        loss = F.cross_entropy(y, lib.tensor([0, 3, 1, 2, 1]), label_smoothing=0.1)
        (gx,) = lib.autograd.grad(loss, x, create_graph=True)
        penalty = (gx * gx).sum()
        results.append([t.numpy() for t in lib.autograd.grad(penalty, [x, w1, b1, w2, b2, w3, b3])])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batch_norm_matches_torch(torch, affine, shape):
    extra = ((3,), (3,)) if affine else ()
    for training in (True, False):

        def fn(lib, x, *wb):
            rm, rv = lib.tensor(np.linspace(-1, 1, 3)), lib.tensor(np.linspace(0.5, 2, 3))
            return lib.nn.functional.batch_norm(x.sin(), rm, rv, *wb, training=training).exp()

        _compare(torch, fn, shape, *extra)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(torch, affine):
    extra = ((3, 4), (3, 4)) if affine else ()
    _compare(
        torch, lambda lib, x, *wb: lib.nn.functional.layer_norm(x.sin(), (3, 4), *wb).exp(), (2, 3, 4), *extra
    )


def test_group_two_matches_torch(torch):
    _compare(torch, lambda lib, a, b: lib.einsum("bij,jk->bik", a, b).sin(), (2, 2, 3), (3, 4))
    _compare(torch, lambda lib, x: lib.nn.functional.logsigmoid(x).exp(), (3, 4))
    _compare(torch, lambda lib, x: lib.nn.functional.hardswish(4 * x).sin(), (3, 4))
    rng = np.random.default_rng(2)
    w, pw = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, 4)
    for red in ("mean", "none"):
        _compare(
            torch,
            lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(
                x, y.sigmoid(), lib.tensor(w), reduction=red, pos_weight=lib.tensor(pw)
            ),
            (3, 4),
            (3, 4),
        )
        _compare(
            torch,
            lambda lib, p, y: lib.nn.functional.binary_cross_entropy(
                p.sigmoid(), y.sigmoid(), lib.tensor(w), reduction=red
            ),
            (3, 4),
            (3, 4),
        )


@pytest.mark.parametrize(
    "name",
    ["sigmoid", "silu", "softplus", "gelu_tanh", "elu", "logsigmoid", "hardswish", "softmax", "log_softmax"],
)
def test_third_order_matches_torch(torch, name):
    """The rules' own ops have rules: a third derivative (through a recorded gradient's recorded gradient)."""
    acts = {
        **_TORCH_ACTS,
        "softmax": lambda F, h: F.softmax(h, 1),
        "log_softmax": lambda F, h: F.log_softmax(h, 0),
    }
    x0 = np.random.default_rng(1).standard_normal((3, 4)) * 2
    results = []
    for lib in (gg, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = acts[name](lib.nn.functional, x * 1)
        (g1,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        results.append(g3.numpy())
    np.testing.assert_allclose(*results, rtol=1e-9, atol=1e-12)
