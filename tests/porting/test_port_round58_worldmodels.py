"""Round 58, world models and flow matching (NM512/dreamerv3-torch, facebookresearch/flow_matching).

Both ran against PyTorch at tiny sizes with NumPy-drawn noise (world-model step, imagination
actor-critic step, Plan2Explore; flow-matching training on five schedulers, ODE sampling,
likelihoods, the discrete and Riemannian examples) and agreed to float64 rounding. Three
differences were found on the way:

- ``torch.math`` is the ``math`` module in PyTorch (``torch/__init__.py`` imports it); dreamerv3's
  ``TanhBijector._forward_log_det_jacobian`` calls ``torch.math.log(2.0)``. glassgrad had no
  ``math`` attribute.
- glassgrad wrapped the ``__init__`` of every ``Module`` subclass that takes ``device`` (so that
  ``device="meta"`` builds on meta), a program's own classes too. dreamerv3's ``MLP`` defaults
  ``device="cuda"``; patching ``MLP.__init__.__defaults__`` to run on the CPU found ``None``
  there (the wrapper's). The wrapper also put on meta what such an ``__init__`` makes without
  passing ``device`` on, where PyTorch makes it on the CPU. Only glassgrad's own layers are
  wrapped now.
- PyTorch's ``Transform`` declares ``domain``/``codomain`` without giving them, so dreamerv3's
  ``TanhBijector`` (which sets neither, and writes ``_forward`` for ``_call``) fails in
  ``TransformedDistribution(...)`` with an ``AttributeError``; glassgrad's base class gave
  ``real`` and built the distribution, failing only later. The base class now declares them and
  the five built-in transforms that leaned on the default (Exp, Sigmoid, Tanh, Abs, Softplus)
  say ``real`` themselves, as PyTorch's.

The other tests pin patterns the two programs are built from (written fresh here) against
PyTorch in float64 with gradients.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import glassgrad as gg


def _t(lib, a, grad=False):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _np(x):
    return x.detach().numpy()


# ---- torch.math -----------------------------------------------------------------------------------


def test_math_attribute_is_the_math_module_as_torch(torch):
    assert torch.math is math and gg.math is math
    assert "math" not in gg.__all__ and "math" not in torch.__all__


def test_tanh_log_det_through_lib_math_matches_torch(torch):
    x0 = np.linspace(-2.0, 2.0, 7)
    outs = []
    for lib in (torch, gg):
        x = _t(lib, x0, grad=True)
        y = 2.0 * (lib.math.log(2.0) - x - lib.nn.functional.softplus(-2.0 * x))
        y.sum().backward()
        outs.append((_np(y), _np(x.grad)))
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)


# ---- a program's Module subclass taking device= ------------------------------------------------------


def _program_mlp(lib):
    class MLP(lib.nn.Module):
        def __init__(self, inp, units, act="SiLU", device="cuda", name="NoName"):
            super().__init__()
            self.lin = lib.nn.Linear(inp, units, device=device, dtype=lib.float64)
            self.std = lib.tensor((1.5,), device=device, dtype=lib.float64)
            self.act = getattr(lib.nn, act)()

        def forward(self, x):
            return self.act(self.lin(x)) * self.std

    return MLP


def test_program_init_defaults_can_be_patched_as_torch(torch):
    outs = []
    for lib in (torch, gg):
        MLP = _program_mlp(lib)
        assert MLP.__init__ is MLP.__dict__["__init__"]
        assert MLP.__init__.__defaults__ == ("SiLU", "cuda", "NoName")
        d = list(MLP.__init__.__defaults__)
        d[d.index("cuda")] = "cpu"
        MLP.__init__.__defaults__ = tuple(d)
        m = MLP(3, 2)  # would refuse "cuda" had the patch not reached the function that runs
        w = np.arange(6.0).reshape(2, 3) / 7
        m.load_state_dict({"lin.weight": _t(lib, w), "lin.bias": _t(lib, [0.1, -0.2])})
        outs.append(_np(m(_t(lib, [[0.5, -1.0, 2.0]]))))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-13)


def test_program_init_signature_and_source_are_its_own(torch):
    for lib in (torch, gg):
        MLP = _program_mlp(lib)
        assert list(inspect.signature(MLP.__init__).parameters) == [
            "self",
            "inp",
            "units",
            "act",
            "device",
            "name",
        ]
        assert MLP.__init__.__code__.co_varnames[:3] == ("self", "inp", "units")
        assert not hasattr(MLP.__init__, "__wrapped__")


def _partly_forwarded(lib):
    class Block(lib.nn.Module):
        def __init__(self, n, device=None):
            super().__init__()
            self.lin = lib.nn.Linear(n, 2, device=device)
            self.scale = lib.nn.Parameter(lib.ones(n, device=device))
            self.offset = lib.nn.Parameter(lib.zeros(n))  # device not passed on: the CPU

    class Wide(lib.nn.Linear):  # a layer subclass handing device to the layer's own __init__
        def __init__(self, n, device=None):
            super().__init__(n, 2 * n, device=device)

    return Block, Wide


def test_meta_device_reaches_what_the_program_passes_it_to_as_torch(torch):
    seen = []
    for lib in (torch, gg):
        Block, Wide = _partly_forwarded(lib)
        b = Block(3, device="meta")
        w = Wide(2, device="meta")
        seen.append(
            [(k, str(v.device), tuple(v.shape)) for k, v in b.state_dict().items()]
            + [(k, str(v.device), tuple(v.shape)) for k, v in w.state_dict().items()]
            + [str(lib.nn.Linear(2, 3, device="meta").weight.device), str(Block(2).lin.weight.device)]
        )
    assert seen[1] == seen[0]
    assert ("offset", "cpu", (3,)) in seen[1] and ("weight", "meta", (4, 2)) in seen[1]


def test_builtin_layers_still_build_on_meta():
    assert gg.nn.Linear(2, 3, device="meta").weight.is_meta
    assert gg.nn.LayerNorm(4, device="meta").weight.is_meta
    assert gg.nn.GRUCell(2, 3, device="meta").weight_hh.is_meta


# ---- a Transform subclass without domain ------------------------------------------------------------


def _bijectors(lib):
    T = lib.distributions.transforms

    class TanhBijector(T.Transform):  # dreamerv3's, as written: no domain, _forward for _call
        def __init__(self, validate_args=False, name="tanh"):
            super().__init__()

        def _forward(self, x):
            return lib.tanh(x)

    class Tanh(T.Transform):  # the same map written as PyTorch asks
        domain = lib.distributions.constraints.real
        codomain = lib.distributions.constraints.interval(-1.0, 1.0)
        bijective = True

        def _call(self, x):
            return lib.tanh(x)

        def _inverse(self, y):
            return lib.atanh(lib.clamp(y, -0.99999997, 0.99999997))

        def log_abs_det_jacobian(self, x, y):
            return 2.0 * (lib.math.log(2.0) - x - lib.nn.functional.softplus(-2.0 * x))

    return TanhBijector, Tanh


@pytest.mark.parametrize("what", ["distribution", "domain", "codomain", "event_dim", "inverse", "compose"])
def test_transform_without_domain_raises_attribute_error_as_torch(torch, what):
    messages = []
    for lib in (torch, gg):
        D, b = lib.distributions, _bijectors(lib)[0]()
        read = {
            "distribution": lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), b),
            "domain": lambda: b.domain,
            "codomain": lambda: b.codomain,
            "event_dim": lambda: b.event_dim,
            "inverse": lambda: b.inv.domain,
            "compose": lambda: D.transforms.ComposeTransform([b]).domain,
        }[what]
        with pytest.raises(AttributeError) as info:
            read()
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_builtin_elementwise_transforms_keep_a_real_domain_as_torch(torch):
    names = ["ExpTransform", "SigmoidTransform", "TanhTransform", "AbsTransform", "SoftplusTransform"]
    seen = []
    for lib in (torch, gg):
        T = lib.distributions.transforms
        seen.append([(type(getattr(T, n)().domain).__name__, getattr(T, n)().event_dim) for n in names])
    assert seen[1] == seen[0]


def test_tanh_normal_written_with_domain_matches_torch(torch):
    mean0, std0, y0 = np.array([0.3, -1.2, 0.8]), np.array([0.5, 1.5, 0.2]), np.array([0.1, -0.7, 0.95])
    outs = []
    for lib in (torch, gg):
        D = lib.distributions
        mean, std = _t(lib, mean0, True), _t(lib, std0, True)
        d = D.Independent(D.TransformedDistribution(D.Normal(mean, std), _bijectors(lib)[1]()), 1)
        lp = d.log_prob(_t(lib, y0))
        lp.backward()
        outs.append([_np(lp), _np(mean.grad), _np(std.grad)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-12)


# ---- dreamerv3 patterns ---------------------------------------------------------------------------


def _symlog(lib, x):
    return lib.sign(x) * lib.log(lib.abs(x) + 1.0)


def _twohot_log_prob(lib, logits, x, nb=15):
    buckets = lib.linspace(-20.0, 20.0, steps=nb, dtype=logits.dtype)
    x = _symlog(lib, x)
    below = lib.sum((buckets <= x[..., None]).to(lib.int32), dim=-1) - 1
    above = len(buckets) - lib.sum((buckets > x[..., None]).to(lib.int32), dim=-1)
    below, above = lib.clip(below, 0, nb - 1), lib.clip(above, 0, nb - 1)
    equal = below == above
    to_below = lib.where(equal, 1, lib.abs(buckets[below] - x))
    to_above = lib.where(equal, 1, lib.abs(buckets[above] - x))
    total = to_below + to_above
    F = lib.nn.functional
    target = (
        F.one_hot(below, num_classes=nb) * (to_above / total)[..., None]
        + F.one_hot(above, num_classes=nb) * (to_below / total)[..., None]
    )
    log_pred = logits - lib.logsumexp(logits, -1, keepdim=True)
    return (target.squeeze(-2) * log_pred).sum(-1)


def _straight_through(lib, logits, sample, unimix=0.01):
    probs = lib.softmax(logits, dim=-1)
    probs = probs * (1.0 - unimix) + unimix / probs.shape[-1]
    dist = lib.distributions.OneHotCategorical(logits=lib.log(probs))
    out = sample.detach().clone()
    out += dist.probs - dist.probs.detach()
    ind = lib.distributions.Independent(dist, 1)
    return out, ind.log_prob(sample), ind.entropy()


def test_dreamer_twohot_straight_through_and_kl_match_torch(torch):
    r = np.random.default_rng(3)
    lg, x0 = r.standard_normal((2, 3, 15)), np.array([[[0.0], [-4.0], [300.0]], [[1e-3], [25.0], [-7.5]]])
    st_logits, q_logits = r.standard_normal((4, 3, 5)), r.standard_normal((4, 3, 5))
    sample, w = np.eye(5)[r.integers(0, 5, (4, 3))], r.standard_normal((4, 3, 5))
    outs = []
    for lib in (torch, gg):
        logits, a, b = _t(lib, lg, True), _t(lib, st_logits, True), _t(lib, q_logits, True)
        lp = _twohot_log_prob(lib, logits, _t(lib, x0))
        st, slp, ent = _straight_through(lib, a, _t(lib, sample))
        Ind, OHC = lib.distributions.Independent, lib.distributions.OneHotCategorical
        kl = lib.distributions.kl_divergence(Ind(OHC(logits=a), 1), Ind(OHC(logits=b.detach()), 1))
        loss = lp.sum() + (st * _t(lib, w)).sum() + slp.sum() + ent.sum() + lib.clip(kl, min=1.0).mean()
        loss.backward()
        outs.append([_np(v) for v in (lp, st, slp, ent, kl, logits.grad, a.grad)])
    for x, y in zip(outs[0], outs[1]):
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-14)


def test_dreamer_lambda_return_scan_matches_torch(torch):
    r = np.random.default_rng(5)
    rew0, val0, disc0 = r.standard_normal((4, 3, 1)), r.standard_normal((5, 3, 1)), r.random((5, 3, 1))
    outs = []
    for lib in (torch, gg):
        value = _t(lib, val0, True)
        reward, pcont = _t(lib, rew0), _t(lib, disc0)[1:] * 0.99
        inputs = reward + pcont * value[1:] * (1 - 0.95)
        last, rets = value[-1], []
        for i in reversed(range(inputs.shape[0])):
            last = inputs[i] + pcont[i] * 0.95 * last
            rets.append(last)
        target = lib.flip(lib.reshape(lib.cat(rets, -1), [3, 4, 1]), [1])
        weights = lib.cumprod(lib.cat([lib.ones_like(pcont[:1]), pcont[:-1]], 0), 0)
        loss = lib.mean(weights * (lib.stack(lib.unbind(target, 0), 1) - value[:-1]))
        loss.backward()
        outs.append([_np(target), _np(value.grad)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


# ---- flow_matching patterns -----------------------------------------------------------------------


def _velocity(lib, w1, w2):
    def u(x, t):
        h = lib.cat([x, t.reshape(-1, 1).expand(x.shape[0], 1)], dim=1) @ w1
        return (lib.sigmoid(h) * h) @ w2

    return u


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "hutchinson"])
def test_flow_divergence_through_autograd_grad_matches_torch(torch, exact):
    r = np.random.default_rng(7)
    w10, w20, x0 = r.standard_normal((3, 8)), r.standard_normal((8, 2)), r.standard_normal((5, 2))
    z0 = np.sign(r.standard_normal((5, 2)))
    outs = []
    for lib in (torch, gg):
        w1, w2 = _t(lib, w10, True), _t(lib, w20, True)
        xt = _t(lib, x0).requires_grad_()
        ut = _velocity(lib, w1, w2)(xt, _t(lib, [0.3] * 5))
        if exact:
            div = 0
            for i in range(ut.flatten(1).shape[1]):
                g = lib.autograd.grad(ut[:, i], xt, lib.ones_like(ut[:, i]), create_graph=True)[0]
                div += g[:, i]
        else:
            z = _t(lib, z0)
            dot = lib.einsum("ij,ij->i", ut.flatten(start_dim=1), z)
            g = lib.autograd.grad(dot, xt, lib.ones_like(dot).detach(), create_graph=True)[0]
            div = lib.einsum("ij,ij->i", g.flatten(start_dim=1), z)
        (div.sum() + (ut**2).sum()).backward()
        outs.append([_np(div), _np(w1.grad), _np(w2.grad)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_flow_sphere_geodesic_jvp_under_vmap_matches_torch(torch):
    r = np.random.default_rng(9)
    a0, b0 = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    a0, b0 = a0 / np.linalg.norm(a0, axis=-1, keepdims=True), b0 / np.linalg.norm(b0, axis=-1, keepdims=True)
    t0 = r.random((4, 1))
    outs = []
    for lib in (torch, gg):

        def logmap(x, y):
            u = y - (x * y).sum(-1, keepdim=True) * x
            dist = lib.acos(lib.clamp((x * y).sum(-1, keepdim=True), -1 + 1e-7, 1 - 1e-7))
            return u * dist / lib.clamp(u.norm(dim=-1, keepdim=True), min=1e-7)

        def expmap(x, u):
            n = u.norm(dim=-1, keepdim=True)
            return x * lib.cos(n) + u * lib.sin(n) / lib.clamp(n, min=1e-7)

        def cond_u(x0, x1, t):
            v = logmap(x0, x1)

            def path(s):
                return expmap(x0.unsqueeze(-2), lib.einsum("i,...k->...ik", s**2, v))

            return lib.func.jvp(path, (t,), (lib.ones_like(t).to(t),))

        xt, dxt = lib.func.vmap(cond_u)(_t(lib, a0), _t(lib, b0), _t(lib, t0))
        outs.append([_np(xt.reshape(4, 3)), _np(dxt.reshape(4, 3))])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
