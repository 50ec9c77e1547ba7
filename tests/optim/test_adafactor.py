"""``optim.Adafactor`` against ``torch.optim.Adafactor``: steps, state, checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg

SHAPES = [(5, 4), (3,), (2, 3, 4)]  # a matrix, a vector, a stack of matrices


def _run(torch, steps, **kw):
    rng = np.random.RandomState(0)
    init = [rng.randn(*s).astype(np.float32) for s in SHAPES]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    gp = [gg.tensor(a, requires_grad=True) for a in init]
    to, go = torch.optim.Adafactor(tp, **kw), gg.optim.Adafactor(gp, **kw)
    for _ in range(steps):
        for p, q, s in zip(tp, gp, SHAPES):
            a = rng.randn(*s).astype(np.float32)
            p.grad, q.grad = torch.tensor(a), gg.tensor(a)
        to.step()
        go.step()
    return tp, gp, to, go


@pytest.mark.parametrize(
    "kw",
    [{}, dict(lr=0.05, weight_decay=0.1, maximize=True), dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5)],
)
def test_steps_match_torch(torch, kw):
    tp, gp, to, go = _run(torch, 6, **kw)
    for p, q in zip(tp, gp):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-6)
    ts, gs = to.state_dict()["state"], go.state_dict()["state"]
    for i in range(len(SHAPES)):
        assert sorted(gs[i]) == sorted(ts[i])
        for k in ts[i]:
            assert tuple(gs[i][k].shape) == tuple(ts[i][k].shape)
            np.testing.assert_allclose(gs[i][k].numpy(), ts[i][k].numpy(), rtol=1e-5, atol=1e-7)


def test_state_dict_round_trip(torch):
    _, gp, _, go = _run(torch, 3)
    copies = [gg.tensor(q.detach().numpy(), requires_grad=True) for q in gp]
    go2 = gg.optim.Adafactor(copies)
    go2.load_state_dict(copy.deepcopy(go.state_dict()))  # else both step the same state, as in PyTorch
    for q, c in zip(gp, copies):
        q.grad = gg.ones_like(q)
        c.grad = gg.ones_like(c)
    go.step()
    go2.step()
    for q, c in zip(gp, copies):
        assert np.array_equal(q.detach().numpy(), c.detach().numpy())


@pytest.mark.parametrize(
    "kw, named",
    [
        (dict(lr=-1.0), "lr"),
        (dict(beta2_decay=0.5), "beta2_decay"),
        (dict(eps=(-1.0, 1e-3)), "epsilon1"),
        (dict(eps=(None, -1.0)), "epsilon2"),
        (dict(d=0.5), "threshold d"),
        (dict(weight_decay=-0.1), "weight_decay"),
    ],
)
def test_bad_arguments_raise_as_torch(torch, kw, named):
    with pytest.raises(ValueError):
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=f"^Adafactor: expected .*{named}"):
        gg.optim.Adafactor([gg.zeros(2, requires_grad=True)], **kw)


def test_loads_torch_state_and_checks_factor_shapes(torch):
    tp, _, to, go = _run(torch, 3)
    fresh = [gg.tensor(p.detach().numpy(), requires_grad=True) for p in tp]
    go2 = gg.optim.Adafactor(fresh)
    go2.load_state_dict(to.state_dict())  # PyTorch's tensors, factors included
    for p, c in zip(tp, fresh):
        a = np.ones(tuple(p.shape), np.float32)
        p.grad, c.grad = torch.tensor(a), gg.tensor(a)
    to.step()
    go2.step()
    for p, c in zip(tp, fresh):
        np.testing.assert_allclose(c.detach().numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-6)
    bad = go.state_dict()
    bad["state"][0]["row_var"] = gg.zeros(5, 4)
    with pytest.raises(gg.errors.ShapeError, match="row_var"):
        go.load_state_dict(bad)
