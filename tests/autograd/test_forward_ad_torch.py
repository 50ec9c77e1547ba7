"""Forward-mode AD against PyTorch: tangents of the common ops and of small models (input and
parameter tangents), and the examples of PyTorch's forward-mode AD tutorial."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
import glassgrad.nn as nn
import glassgrad.nn.functional as F

RNG = np.random.default_rng(0)


def _pair(torch, *shape, low=-2.0, high=2.0):
    a = RNG.uniform(low, high, size=shape)
    return gg.tensor(a), torch.tensor(a)


def _jvp_gg(fn, xs, vs):
    with fwAD.dual_level():
        out = fn(*(fwAD.make_dual(x, v) for x, v in zip(xs, vs)))
        return fwAD.unpack_dual(out).tangent.detach().numpy()


def _jvp_torch(torch, fn, xs, vs):
    import torch.autograd.forward_ad as tfwAD

    with tfwAD.dual_level():
        out = fn(*(tfwAD.make_dual(x, v) for x, v in zip(xs, vs)))
        return tfwAD.unpack_dual(out).tangent.detach().numpy()


OPS = {
    "arith": (lambda a, b: (a * b - a / (b * b + 1)) ** 2 + a.neg(), [(3, 4), (4,)]),
    "unary": (lambda a: a.exp() + a.abs().sqrt() + a.sin() * a.cos() + a.tanh() + a.sigmoid(), [(2, 3)]),
    "log_pow": (lambda a, b: a.abs().log() * b.abs() ** a, [(5,), (5,)]),
    "relu_where_clamp": (lambda a, b: a.relu() + b.clamp(-0.5, 0.5) + a.where(a > b, b), [(3, 3), (3,)]),
    "max_min": (lambda a, b: a.maximum(b) - a.minimum(b) + a.amax(1)[:, None], [(3, 4), (1, 4)]),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "reductions": (lambda a: a.sum(1) + a.mean(1) + a.std(1) + a.logsumexp(1) + a.max(1).values, [(3, 4)]),
    "softmaxes": (lambda a: a.softmax(-1) + a.log_softmax(0), [(3, 4)]),
    "views": (lambda a: a.reshape(4, 3).permute(1, 0)[1:, ::2].expand(3, 2, 2).flip(0), [(3, 4)]),
    "cat_stack": (
        lambda a, b: gg_or_torch(a).cat([a, b * 2], 0).sum(0) + gg_or_torch(a).stack([a, b]).prod(0).sum(0),
        [(2, 3), (2, 3)],
    ),
    "gelu_silu": (
        lambda a: F_of(a).gelu(a) + F_of(a).silu(a) + F_of(a).leaky_relu(a, 0.1) + F_of(a).softplus(a),
        [(4,)],
    ),
}


def gg_or_torch(a):
    if isinstance(a, gg.Tensor):
        return gg
    import torch

    return torch


def F_of(a):
    if isinstance(a, gg.Tensor):
        return F
    import torch.nn.functional as TF

    return TF


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_tangents_match_torch(torch, name):
    fn, shapes = OPS[name]
    pairs = [_pair(torch, *s) for s in shapes]
    tans = [_pair(torch, *s) for s in shapes]
    got = _jvp_gg(fn, [p[0] for p in pairs], [t[0] for t in tans])
    want = _jvp_torch(torch, fn, [p[1] for p in pairs], [t[1] for t in tans])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def _models(torch):
    return {
        "mlp": (
            lambda m: m.Sequential(m.Linear(5, 8), m.ReLU(), m.Linear(8, 4), m.Tanh(), m.Linear(4, 3)),
            (6, 5),
        ),
        "cnn": (
            lambda m: m.Sequential(
                m.Conv2d(2, 3, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Flatten(), m.Linear(12, 2)
            ),
            (2, 2, 4, 4),
        ),
        "norms_dropout": (
            lambda m: m.Sequential(m.Linear(6, 6), m.LayerNorm(6), m.Dropout(0.5), m.GELU(), m.Linear(6, 2)),
            (5, 6),
        ),
        "batchnorm": (
            lambda m: m.Sequential(m.Conv2d(1, 3, 2), m.BatchNorm2d(3), m.AvgPool2d(2), m.Flatten()),
            (4, 1, 5, 5),
        ),
        "loss": (
            lambda m: m.Sequential(m.Linear(4, 3), m.LogSoftmax(-1)),
            (5, 4),
        ),
    }


def _same_model(torch, build):
    tmodel = build(torch.nn).double()
    model = build(nn).double()
    model.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()})
    return model, tmodel


# dropout in training mode draws other masks in the two libraries: checked against differences below
_MODES = [(n, t) for n in ("mlp", "cnn", "norms_dropout", "batchnorm", "loss") for t in (False, True)]


@pytest.mark.parametrize(("name", "train"), [p for p in _MODES if p != ("norms_dropout", True)])
def test_model_input_tangent_matches_torch(torch, name, train):
    build, shape = _models(torch)[name]
    model, tmodel = _same_model(torch, build)
    model.train(train)
    tmodel.train(train)
    (x, tx), (v, tv) = _pair(torch, *shape), _pair(torch, *shape)
    got = _jvp_gg(model, [x], [v])
    want = _jvp_torch(torch, tmodel, [tx], [tv])
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_cross_entropy_tangent_matches_torch(torch):
    (x, tx), (v, tv) = _pair(torch, 5, 4), _pair(torch, 5, 4)
    y = RNG.integers(0, 4, size=5)
    for reduction in ("mean", "sum", "none"):
        got = _jvp_gg(lambda a: F.cross_entropy(a, gg.tensor(y), reduction=reduction), [x], [v])
        want = _jvp_torch(
            torch,
            lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(y), reduction=reduction),
            [tx],
            [tv],
        )
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_parameter_tangents_match_torch(torch):
    """Parameters as duals, through functional_call (the tutorial's way), as in PyTorch."""
    from torch.func import functional_call as t_call

    from glassgrad.func import functional_call

    build, shape = _models(torch)["cnn"]
    model, tmodel = _same_model(torch, build)
    (x, tx) = _pair(torch, *shape)
    names = [n for n, _ in tmodel.named_parameters()]
    vs = {n: _pair(torch, *p.shape) for n, p in tmodel.named_parameters()}
    params = dict(model.named_parameters())
    with fwAD.dual_level():
        duals = {n: fwAD.make_dual(params[n], vs[n][0]) for n in names}
        got = fwAD.unpack_dual(functional_call(model, duals, (x,))).tangent.detach().numpy()
    import torch.autograd.forward_ad as tfwAD

    tparams = dict(tmodel.named_parameters())
    with tfwAD.dual_level():
        duals = {n: tfwAD.make_dual(tparams[n], vs[n][1]) for n in names}
        want = tfwAD.unpack_dual(t_call(tmodel, duals, (tx,))).tangent.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


# --- the tutorial's own examples ------------------------------------------------------------


def test_tutorial_basic_usage():
    primal, tangent = gg.randn(10, 10), gg.randn(10, 10)

    def fn(x, y):
        return x**2 + y**2

    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual_input).tangent is tangent
        assert fwAD.unpack_dual(fwAD.make_dual(primal, tangent.T)).tangent is not tangent
        dual_output = fn(dual_input, gg.randn(10, 10))
        jvp = fwAD.unpack_dual(dual_output).tangent
    assert fwAD.unpack_dual(dual_output).tangent is None
    np.testing.assert_allclose(jvp.numpy(), 2 * primal.numpy() * tangent.numpy(), rtol=1e-5)


def test_tutorial_modules_setattr_and_functional_call():
    from glassgrad.func import functional_call

    model, x = nn.Linear(5, 5), gg.randn(16, 5)
    params = dict(model.named_parameters())
    tangents = {name: gg.rand_like(p) for name, p in params.items()}
    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        jvp = fwAD.unpack_dual(model(x)).tangent
    with fwAD.dual_level():
        duals = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        jvp2 = fwAD.unpack_dual(functional_call(nn.Linear(5, 5), duals, x)).tangent
    assert gg.allclose(jvp, jvp2)
    expected = x.numpy() @ tangents["weight"].numpy().T + tangents["bias"].numpy()
    np.testing.assert_allclose(jvp.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_tutorial_custom_function_and_gradcheck(torch):
    class Fn(gg.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = gg.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO

    primal = gg.randn(10, 10, dtype=gg.float64, requires_grad=True)
    tangent = gg.randn(10, 10)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(Fn.apply(fwAD.make_dual(primal, tangent))).tangent
    np.testing.assert_allclose(
        jvp.detach().numpy(), tangent.numpy() * np.exp(primal.detach().numpy()), rtol=1e-6
    )
    assert jvp.dtype == gg.float64  # the output's dtype, as PyTorch's (float32 tangent times float64)
    assert gg.autograd.gradcheck(
        Fn.apply,
        (primal,),
        check_forward_ad=True,
        check_backward_ad=False,
        check_undefined_grad=False,
        check_batched_grad=False,
    )


def test_functional_jvp_matches_torch(torch):
    (x, tx), (y, ty) = _pair(torch, 3, 2), _pair(torch, 2)
    (vx, tvx), (vy, tvy) = _pair(torch, 3, 2), _pair(torch, 2)
    out, jvp = gg.autograd.functional.jvp(lambda a, b: (a @ b).tanh(), (x, y), (vx, vy))
    t_out, t_jvp = torch.autograd.functional.jvp(lambda a, b: (a @ b).tanh(), (tx, ty), (tvx, tvy))
    np.testing.assert_allclose(out.numpy(), t_out.numpy())
    np.testing.assert_allclose(jvp.numpy(), t_jvp.numpy(), rtol=1e-10)


def test_dropout_in_training_tangent_matches_differences_under_the_same_mask():
    """J v of a training-mode dropout model: the same seed gives the same mask for the dual pass
    and for the central differences, so J v must equal them."""
    model = nn.Sequential(
        nn.Linear(6, 6), nn.LayerNorm(6), nn.Dropout(0.5), nn.GELU(), nn.Linear(6, 2)
    ).double()
    x, v = gg.tensor(RNG.standard_normal((5, 6))), gg.tensor(RNG.standard_normal((5, 6)))

    def run(inp):
        gg.manual_seed(7)
        return model(inp)

    with fwAD.dual_level():
        got = fwAD.unpack_dual(run(fwAD.make_dual(x, v))).tangent.detach().numpy()
    eps = 1e-6
    with gg.no_grad():
        want = (run(x + eps * v).numpy() - run(x - eps * v).numpy()) / (2 * eps)
    assert (got != 0).any()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
