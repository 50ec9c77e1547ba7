"""glassgrad.func.grad / grad_and_value / vjp / jacrev against PyTorch's torch.func and finite
differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.func import functional_call, grad, grad_and_value, jacrev, vjp


def np_of(t):
    return np.array(t.detach().numpy())


def close(ours, theirs, rtol=1e-5, atol=1e-6):
    """Compare two pytrees of tensors (glassgrad vs PyTorch) leaf by leaf, structure included."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict) and list(ours) == list(theirs)
        for k in ours:
            close(ours[k], theirs[k], rtol, atol)
    elif isinstance(ours, tuple | list):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            close(a, b, rtol, atol)
    else:
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=rtol, atol=atol)


def pair(*shape, dtype=np.float32):
    a = np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(dtype)
    return gg.tensor(a), a


def f3(lib):
    return lambda x, y, z: (x.sin() * y).sum() + (z * x).exp().mean() + (y**2).sum()


@pytest.mark.parametrize("argnums", [0, 1, 2, (0, 2), (2, 0, 1), -1])
def test_grad_argnums_parity(torch, argnums):
    (x, xa), (y, ya), (z, za) = pair(3, 4), pair(3, 4), pair(4)
    ours = grad(f3(gg), argnums=argnums)(x, y, z)
    theirs = torch.func.grad(f3(torch), argnums=argnums)(*(torch.from_numpy(a) for a in (xa, ya, za)))
    close(ours, theirs)


def test_grad_has_aux_and_kwargs(torch):
    def f(lib, x, scale=1.0):
        y = (x * scale).tanh()
        return y.sum(), {"y": y, "n": 3} if lib is gg else {"y": y}  # PyTorch refuses a non-Tensor aux

    x, xa = pair(5)
    g, aux = grad(lambda x, scale: f(gg, x, scale), has_aux=True)(x, scale=2.0)
    tg, taux = torch.func.grad(lambda x, scale: f(torch, x, scale), has_aux=True)(
        torch.from_numpy(xa), scale=2.0
    )
    close(g, tg)
    close(aux["y"], taux["y"])
    assert aux["n"] == 3 and not aux["y"].requires_grad


def test_grad_and_value_parity(torch):
    x, xa = pair(4, dtype=np.float64)
    (g, v) = grad_and_value(lambda x: (x**3).sum())(x)
    tg, tv = torch.func.grad_and_value(lambda x: (x**3).sum())(torch.from_numpy(xa))
    close(g, tg)
    close(v, tv)
    assert not v.requires_grad and g.dtype == gg.float64
    (g, (v, aux)) = grad_and_value(lambda x: ((x**2).sum(), x.mean()), has_aux=True)(x)
    np.testing.assert_allclose(np_of(g), 2 * xa)
    assert v.item() == pytest.approx(float((xa**2).sum())) and aux.item() == pytest.approx(float(xa.mean()))


def test_grad_dict_inputs_mlp_params_parity(torch):
    """Gradient of a loss w.r.t. a dict of parameters via functional_call (the usual torch.func idiom)."""
    g = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.ReLU(), gg.nn.Linear(4, 2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    params = {k: v.detach() for k, v in g.named_parameters()}
    tparams = {k: torch.from_numpy(np_of(v).copy()) for k, v in params.items()}
    x, xa = pair(5, 3)
    y = gg.tensor([0, 1, 1, 0, 1])

    def loss(p, x, y):
        return gg.nn.functional.cross_entropy(functional_call(g, p, (x,)), y)

    def tloss(p, x, y):
        return torch.nn.functional.cross_entropy(torch.func.functional_call(t, p, (x,)), y)

    ours = grad(loss)(params, x, y)
    theirs = torch.func.grad(tloss)(tparams, torch.from_numpy(xa), torch.tensor([0, 1, 1, 0, 1]))
    close(ours, theirs)
    assert all(p.grad is None for p in g.parameters())


def test_unused_input_and_constant_output_give_zeros_as_pytorch(torch):
    x, xa = pair(3)
    tx = torch.from_numpy(xa)
    close(grad(lambda x, y: (y * 2).sum())(x, x), torch.func.grad(lambda x, y: (y * 2).sum())(tx, tx))
    close(grad(lambda x: gg.tensor(1.0))(x), torch.func.grad(lambda x: torch.tensor(1.0))(tx))

    def inner_no_grad(lib):
        def f(x):
            with lib.no_grad():
                return (x**2).sum()

        return f

    close(grad(inner_no_grad(gg))(x), torch.func.grad(inner_no_grad(torch))(tx))


def test_outer_no_grad_is_ignored_as_pytorch(torch):
    x, xa = pair(3)
    with gg.no_grad():
        ours = grad(lambda x: (x**2).sum())(x)
        assert not gg.is_grad_enabled()  # the transform put the caller's no_grad back
    with torch.no_grad():
        theirs = torch.func.grad(lambda x: (x**2).sum())(torch.from_numpy(xa))
    close(ours, theirs)
    assert gg.is_grad_enabled()


def test_vjp_parity_tuple_outputs_and_repeat_calls(torch):
    (x, xa), (y, ya) = pair(2, 3), pair(3)

    def f(lib):
        return lambda x, y: (x * y, (x @ y).tanh())

    out, fn = vjp(f(gg), x, y)
    tout, tfn = torch.func.vjp(f(torch), torch.from_numpy(xa), torch.from_numpy(ya))
    close(out, tout)
    for scale in (1.0, -2.0):  # vjp_fn may be called again
        ct = (gg.ones(2, 3) * scale, gg.tensor([1.0, 0.5]))
        tct = (torch.ones(2, 3) * scale, torch.tensor([1.0, 0.5]))
        close(fn(ct), tfn(tct))
    with pytest.raises(ValueError, match="pytree structure"):
        fn(gg.ones(2, 3))
    with pytest.raises(
        gg.errors.ShapeError, match=r"vjp_fn: expected cotangent 1 of shape \(2,\), got \(3,\)"
    ):
        fn((gg.ones(2, 3), gg.ones(3)))


def test_vjp_has_aux_and_dict_primal(torch):
    x, xa = pair(4)
    out, fn, aux = vjp(lambda d: (d["a"].exp(), d["a"].sum()), {"a": x}, has_aux=True)
    tout, tfn, taux = torch.func.vjp(
        lambda d: (d["a"].exp(), d["a"].sum()), {"a": torch.from_numpy(xa)}, has_aux=True
    )
    close(out, tout)
    close(aux, taux)
    (g,) = fn(gg.ones(4))
    (tg,) = tfn(torch.ones(4))
    close(g, tg)


def test_jacrev_parity_pytrees(torch):
    (x, xa), (y, ya) = pair(3), pair(2, 3)

    def f(lib):
        return lambda x, y: {"p": (y * x).sum(1), "q": x.exp()}

    for argnums in (0, 1, (0, 1)):
        ours = jacrev(f(gg), argnums=argnums)(x, y)
        theirs = torch.func.jacrev(f(torch), argnums=argnums)(torch.from_numpy(xa), torch.from_numpy(ya))
        close(ours, theirs)
    d = {"u": x, "v": x}
    td = {"u": torch.from_numpy(xa), "v": torch.from_numpy(xa)}
    close(
        jacrev(lambda d: (d["u"] * 2, (d["u"] * d["v"]).sum()))(d),
        torch.func.jacrev(lambda d: (d["u"] * 2, (d["u"] * d["v"]).sum()))(td),
    )
    j, aux = jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
    tj, taux = torch.func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(torch.from_numpy(xa))
    close(j, tj)
    close(aux, taux)


def test_jacrev_finite_differences_float64():
    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    W = gg.tensor(wa)

    def f(x):  # (2, 3) -> (2, 4)
        return (x @ W).tanh() * x.sum()

    J = np_of(jacrev(f)(gg.tensor(xa)))
    assert J.shape == (2, 4, 2, 3) and J.dtype == np.float64
    eps, fd = 1e-6, np.zeros((2, 4, 2, 3))
    for idx in np.ndindex(2, 3):
        d = np.zeros_like(xa)
        d[idx] = eps
        fd[(..., *idx)] = (np_of(f(gg.tensor(xa + d))) - np_of(f(gg.tensor(xa - d)))) / (2 * eps)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_maml_inner_step_matches_pytorch(torch):
    """params' = params - lr * grad(loss)(params); the outer loss's gradient w.r.t. params goes
    through the inner gradient (second-order MAML, by double backward), as PyTorch's."""
    g = gg.nn.Sequential(gg.nn.Linear(2, 8), gg.nn.Tanh(), gg.nn.Linear(8, 1))
    t = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    t.load_state_dict({k: torch.from_numpy(np_of(v).copy()) for k, v in g.state_dict().items()})
    (xs, xsa), (xq, xqa) = pair(5, 2), pair(6, 2)
    ys, ysa = pair(5, 1, dtype=np.float32)
    lr = 0.1

    def loss(p, x, y):
        return ((functional_call(g, p, (x,)) - y) ** 2).mean()

    def tloss(p, x, y):
        return ((torch.func.functional_call(t, p, (x,)) - y) ** 2).mean()

    params = dict(g.named_parameters())
    step = grad(loss)(params, xs, ys)
    fast = {k: params[k] - lr * step[k] for k in params}
    loss(fast, xq, gg.zeros(6, 1)).backward()

    tparams = dict(t.named_parameters())
    tstep = torch.func.grad(tloss)(tparams, torch.from_numpy(xsa), torch.from_numpy(ysa))
    tfast = {k: tparams[k] - lr * tstep[k] for k in tparams}
    tloss(tfast, torch.from_numpy(xqa), torch.zeros(6, 1)).backward()
    for k in params:
        close(fast[k], tfast[k])
        close(params[k].grad, tparams[k].grad)


def test_per_sample_grads_by_loop_match_pytorch_vmap(torch):
    """Per-sample gradients as a loop of grad over the batch and as vmap(grad(...)), both equal to
    PyTorch's vmap(grad(...)) result."""
    g = gg.nn.Sequential(gg.nn.Linear(4, 6), gg.nn.ReLU(), gg.nn.Linear(6, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    t.load_state_dict({k: torch.from_numpy(np_of(v).copy()) for k, v in g.state_dict().items()})
    x, xa = pair(5, 4)
    y = [0, 2, 1, 1, 0]
    params = {k: v.detach() for k, v in g.named_parameters()}

    def loss(p, xi, yi):
        return gg.nn.functional.cross_entropy(functional_call(g, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    def tloss(p, xi, yi):
        return torch.nn.functional.cross_entropy(
            torch.func.functional_call(t, p, (xi.unsqueeze(0),)), yi.unsqueeze(0)
        )

    per = [grad(loss)(params, x[i], gg.tensor(y)[i]) for i in range(5)]
    ours = {k: gg.stack([p[k] for p in per]) for k in params}
    tparams = {k: v.detach() for k, v in t.named_parameters()}
    theirs = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.from_numpy(xa), torch.tensor(y)
    )
    close(ours, theirs)
    close(gg.vmap(grad(loss), in_dims=(None, 0, 0))(params, x, gg.tensor(y)), theirs)


def test_vjp_retain_graph_false_frees_the_graph():
    _, fn = vjp(lambda x: x.exp() * 2, gg.ones(2))
    assert fn(gg.ones(2), retain_graph=False)[0].tolist() == pytest.approx([2 * np.e] * 2)
    with pytest.raises(RuntimeError):
        fn(gg.ones(2))  # the saved arrays were freed, as autograd.grad without retain_graph


def test_namedtuple_and_list_inputs_keep_their_structure(torch):
    from collections import namedtuple

    P = namedtuple("P", "w b")
    TP = namedtuple("TP", "w b")
    (w, wa), (b, ba) = pair(3), pair(2, 2)
    ours = grad(lambda p, extra: p.w.sin().sum() + p.b.sum() * extra[0].sum())(P(w, b), [w])
    theirs = torch.func.grad(lambda p, extra: p.w.sin().sum() + p.b.sum() * extra[0].sum())(
        TP(torch.from_numpy(wa), torch.from_numpy(ba)), [torch.from_numpy(wa)]
    )
    assert isinstance(ours, P) and isinstance(theirs, TP)
    close(ours.w, theirs.w)
    close(ours.b, theirs.b)
    g = grad(lambda xs: xs[0].sum() * xs[1].sum())([w, w])
    assert isinstance(g, list) and len(g) == 2
