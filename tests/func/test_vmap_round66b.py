"""vmap of view ops, round 66 (PyTorch's test_vmap.py TestVmapOperators): the result of a ``func``
that returns a view of its mapped input is a view of that input, as PyTorch's batching rules give
(glassgrad's loop stacked the items into a copy, so a write into the result silently never reached
the input, and ``vmap(Tensor.sin_)(x)`` was not ``x``); a new result's layout has the batch dim
outermost in memory, moved to ``out_dims`` (strides and ``is_contiguous`` as PyTorch's)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

BASE = np.random.RandomState(0).standard_normal((3, 4, 5))

# (name, func of (lib, t), vmap kwargs): each returns a view of its item
VIEWS = [
    ("t", lambda lib, t: t.t(), {}),
    ("T out_dims 2", lambda lib, t: t.T, {"out_dims": 2}),
    ("mT in_dims 1", lambda lib, t: t.mT, {"in_dims": 1}),
    ("diagonal", lambda lib, t: t.diagonal(), {}),
    ("select", lambda lib, t: t.select(1, 2), {"in_dims": 2, "out_dims": 1}),
    ("narrow", lambda lib, t: t.narrow(0, 1, 2), {}),
    ("slice step", lambda lib, t: t[:, ::2], {"out_dims": -1}),
    ("unsqueeze", lambda lib, t: t.unsqueeze(0), {}),
    ("movedim", lambda lib, t: lib.movedim(t, 0, 1), {"in_dims": 2}),
    ("view", lambda lib, t: t.view(20), {}),
    ("unfold no overlap", lambda lib, t: t.unfold(1, 2, 2), {}),
    ("split piece", lambda lib, t: t.split(2, 1)[1], {}),
    ("squeeze no-op", lambda lib, t: t.squeeze(), {"out_dims": 1}),
    ("nested", lambda lib, t: lib.func.vmap(lambda u: u[1:3])(t), {"in_dims": 1}),
]


def _run(lib, f, kw):
    x = lib.tensor(BASE.copy())
    r = lib.func.vmap(lambda t: f(lib, t), **kw)(x)
    return x, r


@pytest.mark.parametrize("name,f,kw", VIEWS, ids=[c[0] for c in VIEWS])
def test_a_write_into_a_view_result_reaches_the_input(torch, name, f, kw):
    tx, tr = _run(torch, f, kw)
    gx, gr = _run(gg, f, kw)
    assert tuple(gr.shape) == tuple(tr.shape)
    np.testing.assert_array_equal(gr.numpy(), tr.numpy())
    assert gr._base is gx
    assert tr._base is tx  # (what PyTorch gives)
    tr.mul_(-2.0)
    gr.mul_(-2.0)
    np.testing.assert_array_equal(gx.numpy(), tx.numpy())
    assert not np.array_equal(gx.numpy(), BASE)


def test_func_returning_its_argument_gives_the_input_itself(torch):
    for lib in (torch, gg):
        x = lib.tensor(BASE.copy())
        assert lib.func.vmap(lib.Tensor.sin_)(x) is x
        np.testing.assert_allclose(x.numpy(), np.sin(BASE), rtol=1e-15)
        y = lib.tensor(BASE.copy()).movedim(0, 2)
        assert lib.func.vmap(lib.Tensor.contiguous, in_dims=2, out_dims=2)(y) is y
        assert lib.func.vmap(lambda t: t, in_dims=1, out_dims=1)(y) is y
        moved = lib.func.vmap(lambda t: t, in_dims=1)(y)
        assert moved is not y and moved._base is y._base


# (name, func of (lib, t), vmap kwargs): each makes a new tensor
LAYOUTS = [
    ("mul out_dims 1", lambda lib, t: t * 2, {"out_dims": 1}),
    ("exp out_dims -1", lambda lib, t: t.exp(), {"out_dims": -1}),
    ("sum in_dims 1", lambda lib, t: t.sum(0), {"in_dims": 1}),
    (
        "clone contiguous",
        lambda lib, t: t.clone(memory_format=lib.contiguous_format),
        {"in_dims": 1, "out_dims": 1},
    ),
]


@pytest.mark.parametrize("name,f,kw", LAYOUTS, ids=[c[0] for c in LAYOUTS])
def test_a_new_result_has_pytorchs_layout(torch, name, f, kw):
    want = torch.func.vmap(lambda t: f(torch, t), **kw)(torch.tensor(BASE))
    got = gg.func.vmap(lambda t: f(gg, t), **kw)(gg.tensor(BASE))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15)
    assert got.stride() == want.stride()
    assert got.is_contiguous() == want.is_contiguous()


def test_gradients_through_a_view_result_and_an_inplace_change_of_it(torch):
    cot = np.random.RandomState(1).standard_normal((3, 5, 4))

    def run(lib):
        w = lib.tensor(BASE, requires_grad=True)
        x = w * 1
        r = lib.func.vmap(lambda t: t.t())(x)
        r.mul_(3.0)
        (g,) = lib.autograd.grad((x * x).sum() + (r * lib.tensor(cot)).sum(), w)
        return x, g

    (tx, tg), (gx, gg_) = run(torch), run(gg)
    np.testing.assert_allclose(gx.detach().numpy(), tx.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(gg_.numpy(), tg.numpy(), rtol=1e-13)


def test_items_cut_from_the_graph_stay_cut(torch):
    for lib in (torch, gg):
        y = lib.tensor(BASE, requires_grad=True) * 1
        assert not lib.func.vmap(lambda t: t.detach())(y).requires_grad
        with lib.no_grad():  # a view made under no_grad still requires grad (PyTorch's rule)
            assert lib.func.vmap(lambda t: t[1:])(y).requires_grad
            assert not lib.func.vmap(lambda t: t * 1)(y).requires_grad
        r = lib.func.vmap(lambda t: t.view(20))(y)
        assert r.requires_grad and r.grad_fn is not None


def test_forward_and_reverse_transforms_over_view_results(torch):
    x = np.random.RandomState(2).standard_normal((2, 3, 3))
    t = np.random.RandomState(3).standard_normal((2, 3, 3))

    def run(lib):
        f = lib.func.vmap(lambda a: a.diagonal())
        _, tangent = lib.func.jvp(f, (lib.tensor(x),), (lib.tensor(t),))
        jac = lib.func.jacrev(lib.func.vmap(lambda a: a.T, out_dims=1))(lib.tensor(x))
        return tangent, jac

    for a, b in zip(run(gg), run(torch), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
