"""Round 65, a differential fuzz of torch.func compositions: glassgrad against PyTorch.

- ``jacfwd``, ``jvp`` (when it reruns its function recorded) and ``linearize`` run ``f`` more
  than once and replay its random draws between runs; they replayed only the global generator's.
  A draw from a ``generator=`` argument was not replayed: ``jacfwd(randomness="same")`` gave each
  column of the Jacobian its own draw (PyTorch: one draw for every column), ``jvp``'s tangent and
  primal came from different draws, and ``randomness="error"`` let the draw through (PyTorch
  raises). They now track every generator ``f`` draws from (``random.draws_watched``, as ``vmap``
  already did; ``random.rewind_draws``).
- ``hessian`` with an ``f`` that draws random numbers (dropout in training mode) ran; PyTorch's
  hessian is ``jacfwd(jacrev(f))`` with ``randomness="error"`` and raises.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


R = np.random.default_rng(6502)
X = R.standard_normal(3)
A = R.standard_normal((3, 4))
V = R.standard_normal(4)


def _first_draws(L, seed, n):
    g = L.Generator().manual_seed(seed)
    return L.rand(n, generator=g, dtype=L.float64).numpy()


@pytest.mark.parametrize("global_gen", [False, True], ids=["generator", "global"])
def test_jacfwd_same_replays_every_generator(lib, global_gen):
    g = lib.Generator().manual_seed(3)
    if global_gen:
        lib.manual_seed(3)
    draws = _first_draws(lib, 3, 4)

    def f(a):
        return a.sum() * lib.rand(3, dtype=a.dtype, generator=None if global_gen else g)

    jac = lib.func.jacfwd(f, randomness="same")(lib.tensor(X)).numpy()
    # d f_i / d a_k = r_i for every k: one draw shared by all columns, the generator's first
    np.testing.assert_array_equal(jac, np.repeat(draws[:3, None], 3, axis=1))
    nxt = lib.rand(1, dtype=lib.float64, generator=None if global_gen else g).numpy()
    np.testing.assert_array_equal(nxt, draws[3:])  # as if f had drawn once


def test_jacfwd_different_draws_per_column_with_generator(lib):
    g = lib.Generator().manual_seed(5)
    jac = lib.func.jacfwd(
        lambda a: a.sum() * lib.rand(3, dtype=a.dtype, generator=g), randomness="different"
    )(lib.tensor(X))
    cols = jac.numpy().T
    assert not np.array_equal(cols[0], cols[1])


@pytest.mark.parametrize("how", ["generator", "global"])
def test_jacfwd_error_refuses_a_draw(lib, how):
    g = lib.Generator().manual_seed(3)
    kw = {"generator": g} if how == "generator" else {}
    f = lib.func.jacfwd(lambda a: a * lib.rand(3, dtype=a.dtype, **kw))
    with pytest.raises(RuntimeError):
        f(lib.tensor(X))


def test_jvp_rerun_replays_generator_draw(lib):
    # w requires grad: PyTorch's jvp result is differentiable, glassgrad reruns f recorded
    g = lib.Generator().manual_seed(3)
    draws = _first_draws(lib, 3, 4)
    x = lib.tensor(X)
    w = lib.tensor(X + 2.0, requires_grad=True)
    p, t = lib.func.jvp(lambda a: a * w * lib.rand(3, dtype=a.dtype, generator=g), (x,), (lib.ones_like(x),))
    np.testing.assert_allclose(p.detach().numpy(), X * (X + 2.0) * draws[:3], rtol=1e-14)
    np.testing.assert_allclose(t.detach().numpy(), (X + 2.0) * draws[:3], rtol=1e-14)
    np.testing.assert_array_equal(lib.rand(1, dtype=lib.float64, generator=g).numpy(), draws[3:])
    t.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), draws[:3], rtol=1e-14)


def test_linearize_replays_generator_draw():
    # PyTorch's linearize traces f (its jvp_fn draws anew); glassgrad's reruns f and replays the
    # draws of func(*primals), a generator= argument's too, and leaves the generator as one run did
    g = gg.Generator().manual_seed(3)
    draws = _first_draws(gg, 3, 4)
    out, fn = gg.func.linearize(lambda a: a * gg.rand(3, dtype=a.dtype, generator=g), gg.tensor(X))
    np.testing.assert_allclose(out.numpy(), X * draws[:3], rtol=1e-15)
    np.testing.assert_allclose(fn(gg.ones(3, dtype=gg.float64)).numpy(), draws[:3], rtol=1e-15)
    np.testing.assert_array_equal(gg.rand(1, dtype=gg.float64, generator=g).numpy(), draws[3:])


def test_vmap_same_generator_then_as_if_once(lib):
    g = lib.Generator().manual_seed(4)
    draws = _first_draws(lib, 4, 5)
    out = lib.vmap(lambda a: a * 0 + lib.rand(4, dtype=a.dtype, generator=g), randomness="same")(
        lib.tensor(A)
    )
    np.testing.assert_array_equal(out.numpy(), np.repeat(draws[None, :4], 3, axis=0))
    np.testing.assert_array_equal(lib.rand(1, dtype=lib.float64, generator=g).numpy(), draws[4:])


HESSIAN_DRAWS = {
    "rand": lambda L, a: (a * a * L.rand(3, dtype=a.dtype)).sum(),
    "rand_generator": lambda L, a: (
        a * a * L.rand(3, dtype=a.dtype, generator=L.Generator().manual_seed(1))
    ).sum(),
    "dropout_train": lambda L, a: L.nn.functional.dropout(a * a, 0.5).sum(),
    "randn_like_times_zero": lambda L, a: (a**3 + 0 * L.randn_like(a)).sum(),
}


@pytest.mark.parametrize("body", list(HESSIAN_DRAWS))
def test_hessian_refuses_random_draws(lib, body):
    with pytest.raises(RuntimeError):
        lib.func.hessian(lambda a: HESSIAN_DRAWS[body](lib, a))(lib.tensor(X))


def test_hessian_refusal_names_the_transform():
    with pytest.raises(gg.errors.GraphError, match="hessian: expected f to draw no random numbers"):
        gg.func.hessian(lambda a: gg.nn.functional.dropout(a * a, 0.5).sum())(gg.tensor(X))


@pytest.mark.parametrize("p, training", [(0.0, True), (0.5, False)], ids=["p0_train", "eval"])
def test_hessian_dropout_without_draws_matches_torch(torch, p, training):
    def run(L):
        f = lambda a: (L.nn.functional.dropout(a * a.sin(), p, training=training) * a).sum()  # noqa: E731
        return L.func.hessian(f)(L.tensor(X)).numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12, atol=1e-14)


# compositions from the fuzz whose values agree with PyTorch's (regression pins)
COMPOSITIONS = {
    "vmap_grad_argnums": lambda L: L.vmap(
        L.func.grad(lambda a, b: (a * b).sin().sum(), argnums=(0, 1)), in_dims=(0, None)
    )(L.tensor(A), L.tensor(V)),
    "jacrev_vmap_chunk": lambda L: L.func.jacrev(
        L.vmap(lambda a, b: (a * b).softmax(-1), in_dims=(0, None), chunk_size=2), argnums=1, chunk_size=3
    )(L.tensor(A), L.tensor(V)),
    "vmap_jacfwd_aux": lambda L: L.vmap(
        L.func.jacfwd(lambda a, b: ((a * b).tanh().cumsum(0), a.sum()), argnums=1, has_aux=True),
        in_dims=(0, None),
    )(L.tensor(A), L.tensor(V)),
    "vmap_vjp_in_dim1": lambda L: L.vmap(
        lambda a, c: L.func.vjp(lambda z: L.nn.functional.layer_norm(z, (3,)), a)[1](c)[0], in_dims=(1, 1)
    )(L.tensor(A), L.tensor(np.cos(A))),
    "grad_and_value_hessian": lambda L: L.func.grad_and_value(
        lambda a: L.func.hessian(lambda z: (z.exp() * z).sum())(a).sum()
    )(L.tensor(X)),
    "vmap_hessian_nested": lambda L: L.vmap(L.vmap(L.func.hessian(lambda z: (z.sin() * z.cumsum(0)).sum())))(
        L.tensor(A.reshape(3, 2, 2))
    ),
}


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_compositions_match_torch(torch, name):
    got, want = COMPOSITIONS[name](gg), COMPOSITIONS[name](torch)
    gl = gg.utils._pytree.tree_flatten(got)[0]
    tl = torch.utils._pytree.tree_flatten(want)[0]
    assert len(gl) == len(tl)
    for a, b in zip(gl, tl):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-13)
