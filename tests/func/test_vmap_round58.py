"""vmap (func/vmap.py) against torch.func.vmap, round 58's differential fuzz: inputs passed whole
(in_dim None) changed in place, draws from a ``generator=`` under the three randomness modes, a
batch of size 0 in the graph, and ``None`` as a pytree leaf (PyTorch's) in inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(58)
X = RNG.standard_normal((3, 5))
W = RNG.standard_normal(5)
LIBS = ["torch", "glassgrad"]


def _lib(torch, name):
    return torch if name == "torch" else gg


# ------------------------------------------------------------ inputs passed whole, changed in place


def test_inplace_change_of_an_unmapped_input_is_refused_not_repeated(torch):
    # PyTorch runs f once: y gains 1 once. A loop would add it once per item (y = W + 3, and every
    # row a different y), so glassgrad refuses, as it does for a captured tensor.
    y = torch.tensor(W)
    out = torch.vmap(lambda x, y: y.add_(1) + x, in_dims=(0, None))(torch.tensor(X), y)
    np.testing.assert_allclose(y.numpy(), W + 1, rtol=1e-15)
    np.testing.assert_allclose(out.numpy(), X + W + 1, rtol=1e-15)
    y = gg.tensor(W)
    with pytest.raises(
        RuntimeError, match=r"vmap: .*input passed whole \(in_dim None\).*once per batch item"
    ):
        gg.vmap(lambda x, y: y.add_(1) + x, in_dims=(0, None))(gg.tensor(X), y)
    d = {"y": gg.tensor(W)}  # one inside a pytree input too
    with pytest.raises(RuntimeError, match="in_dim None"):
        gg.vmap(lambda x, d: x + d["y"].mul_(2), in_dims=(0, {"y": None}))(gg.tensor(X), d)


def test_unmapped_input_requiring_grad_given_a_grad_inside_is_refused():
    w = gg.tensor(W, requires_grad=True)
    with pytest.raises(RuntimeError, match="in_dim None"):
        gg.vmap(lambda x, w: (x * w).sum().backward(), in_dims=(0, None))(gg.tensor(X), w)


@pytest.mark.parametrize("lib", LIBS)
def test_unmapped_input_read_only_and_mapped_alias_changed_in_place(torch, lib):
    L = _lib(torch, lib)
    w = L.tensor(W)
    out = L.vmap(lambda x, w: x * w, in_dims=(0, None))(L.tensor(X), w)  # read only: fine
    np.testing.assert_allclose(out.numpy(), X * W, rtol=1e-15)
    x = L.tensor(X)
    out = L.vmap(lambda a, b: a.mul_(2), in_dims=(0, None))(x, x)  # changed through its mapped slice
    np.testing.assert_allclose(out.numpy(), 2 * X, rtol=1e-15)
    np.testing.assert_allclose(x.numpy(), 2 * X, rtol=1e-15)


# ----------------------------------------------------------------- generator= and randomness modes


def _draw_rows(L, mode, shape=(3, 5)):
    g = L.Generator().manual_seed(7)
    rows = L.vmap(lambda x: x + L.rand(5, generator=g, dtype=x.dtype), randomness=mode)(
        L.zeros(shape, dtype=L.float64)
    )
    return rows.numpy(), g


@pytest.mark.parametrize("lib", LIBS)
def test_generator_draws_follow_the_randomness_mode(torch, lib):
    L = _lib(torch, lib)
    with pytest.raises(RuntimeError, match="vmap: .*random"):
        _draw_rows(L, "error")
    same, g = _draw_rows(L, "same")
    assert (same == same[0]).all()
    after = L.rand(2, generator=g).numpy()
    fresh = L.Generator().manual_seed(7)
    L.rand(5, generator=fresh, dtype=L.float64)  # the generator moved as if f had run once
    np.testing.assert_array_equal(after, L.rand(2, generator=fresh).numpy())
    different, _ = _draw_rows(L, "different")
    assert not (different == different[0]).all()


@pytest.mark.parametrize("lib", LIBS)
def test_generator_draw_in_an_inner_vmap_is_the_outer_ones_too(torch, lib):
    L = _lib(torch, lib)
    g = L.Generator().manual_seed(3)
    inner = L.vmap(lambda x: x + L.rand((), generator=g, dtype=x.dtype), randomness="different")
    with pytest.raises(RuntimeError, match="vmap: .*random"):
        L.vmap(inner)(L.zeros(2, 4, dtype=L.float64))
    rows = L.vmap(inner, randomness="same")(L.zeros(2, 4, dtype=L.float64)).numpy()
    assert (rows[0] == rows[1]).all() and not (rows[:, 0] == rows[:, 1]).all()


# ----------------------------------------------------------------------------- a batch of size 0


def test_empty_batch_outputs_stay_in_the_graph(torch):
    def run(L):
        x = L.tensor(np.zeros((0, 5)), requires_grad=True)
        w = L.tensor(W, requires_grad=True)
        out = L.vmap(lambda a: (a * w).sin().sum(-1) + a[0], in_dims=0)(x)
        out.sum().backward()
        return out.requires_grad, tuple(out.shape), x.grad.numpy(), w.grad.numpy()

    theirs, ours = run(torch), run(gg)
    assert ours[:2] == theirs[:2] == (True, (0,))
    for a, b in zip(theirs[2:], ours[2:], strict=True):
        assert a.shape == b.shape
        np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("lib", LIBS)
def test_empty_batch_without_grad_is_a_constant(torch, lib):
    L = _lib(torch, lib)
    out = L.vmap(lambda a: a * 2, out_dims=1)(L.tensor(np.zeros((0, 4))))
    assert tuple(out.shape) == (4, 0) and not out.requires_grad


# ------------------------------------------------------------------- None is a leaf (PyTorch's)

NONE_ERRORS = {  # name -> call(lib, t): each raises ValueError in both libraries
    "out-none-entry": lambda L, t: L.vmap(lambda x: (x, None))(t(X)),
    "out-dict-none": lambda L, t: L.vmap(lambda x: {"a": x, "b": None})(t(X)),
    "out-none-tuple-dims": lambda L, t: L.vmap(lambda x: None, out_dims=(None,))(t(X)),
    "in-none-mapped": lambda L, t: L.vmap(lambda x, n: x)(t(X), None),
    "in-none-in-tuple": lambda L, t: L.vmap(lambda p: p[0] * 2)((t(X), None)),
}


@pytest.mark.parametrize("name", sorted(NONE_ERRORS))
def test_none_leaf_given_a_batch_dim_raises_as_torch(torch, name):
    with pytest.raises(ValueError, match="vmap"):
        NONE_ERRORS[name](torch, torch.tensor)
    with pytest.raises(ValueError, match="vmap"):
        NONE_ERRORS[name](gg, gg.tensor)


@pytest.mark.parametrize("lib", LIBS)
def test_none_leaf_with_a_none_dim_passes_through(torch, lib):
    L = _lib(torch, lib)
    out, none = L.vmap(lambda x: (x * 2, None), out_dims=(0, None))(L.tensor(X))
    assert none is None
    np.testing.assert_allclose(out.numpy(), 2 * X, rtol=1e-15)
    d = L.vmap(lambda x: {"a": x.sum(), "b": None}, out_dims={"a": 0, "b": None})(L.tensor(X))
    assert d["b"] is None
    np.testing.assert_allclose(d["a"].numpy(), X.sum(1), rtol=1e-14)
    assert L.vmap(lambda x: None, out_dims=None)(L.tensor(X)) is None
    got = L.vmap(lambda x, n: x + 1, in_dims=(0, None))(L.tensor(X), None)
    np.testing.assert_allclose(got.numpy(), X + 1, rtol=1e-15)
    got = L.vmap(lambda p: p[0] * 2, in_dims=((0, None),))((L.tensor(X), None))
    np.testing.assert_allclose(got.numpy(), 2 * X, rtol=1e-15)


STRUCTURE_ERRORS = {  # a tuple of dims does not match a list (nor a list a tuple), as PyTorch's pytrees
    "in-list-tuple-dims": lambda L, t: L.vmap(lambda l: l[0] * l[1], in_dims=((0, None),))([t(X), t(W)]),
    "out-list-tuple-dims": lambda L, t: L.vmap(lambda x: [x, x], out_dims=(0, 1))(t(X)),
    "out-tuple-list-dims": lambda L, t: L.vmap(lambda x: (x, x), out_dims=[0, 1])(t(X)),
}


@pytest.mark.parametrize("name", sorted(STRUCTURE_ERRORS))
def test_dims_container_kind_must_match(torch, name):
    with pytest.raises(ValueError, match="vmap"):
        STRUCTURE_ERRORS[name](torch, torch.tensor)
    with pytest.raises(ValueError, match="vmap"):
        STRUCTURE_ERRORS[name](gg, gg.tensor)


@pytest.mark.parametrize("lib", LIBS)
def test_list_dims_for_a_list(torch, lib):
    L = _lib(torch, lib)
    got = L.vmap(lambda l: l[0] * l[1], in_dims=([0, None],))([L.tensor(X), L.tensor(W)])
    np.testing.assert_allclose(got.numpy(), X * W, rtol=1e-15)
    a, b = L.vmap(lambda x: [x, x + 1], out_dims=[0, 1])(L.tensor(X))
    np.testing.assert_allclose(a.numpy(), X, rtol=1e-15)
    np.testing.assert_allclose(b.numpy(), (X + 1).T, rtol=1e-15)
