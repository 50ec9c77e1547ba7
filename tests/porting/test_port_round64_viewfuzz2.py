"""Round 64, the view/in-place fuzz continued (multi-output views, no_grad crossings, custom
Functions, torch.func over in-place bodies, out= into views): minimised programs where glassgrad
differed from PyTorch.

- ``torch.func.jvp(f, (x,), (v,))`` with ``x`` in the caller's graph (so the result is recorded,
  ``func/forward_graph.py``) and ``f`` writing its primal in place (``a.mul_(2)``, ``a[1:].sin_()``)
  gave the tangent of the value after the write (``v.sum()`` for ``a.mul_(2).sum()``, PyTorch
  ``2 * v.sum()``): the rebased primal's gradient was read at its new node. It is now read at the
  old node of the memory's owner.
- ``out=`` of a shape other than the result's, when ``out`` is a view (``torch.mul(a, 2,
  out=base[..., :1])``): PyTorch resizes the view over its storage (from its first element on), so
  the result lands in the base; glassgrad gave the view new memory and the base never changed.
  ``ops/out_write.py`` now lays the result over that memory when it is large enough (as
  ``resize_`` already did; the helper moved to ``memory_overlap.memory_from_first_element``).
- ``torch.func.grad``/``vjp``/``jacrev``/``hessian`` of ``f`` writing its input in place
  (``a.mul_(2)``, ``a[1:].mul_(2)``), at an input that requires grad: PyTorch raises "a leaf Variable
  that requires grad is being used in an in-place operation" (the transform's input is a leaf of
  its level); glassgrad, whose input is then a view of the caller's tensor, ran and returned the
  gradient after the write (ones for ``a.mul_(2).sum()``). ``view_rebase.check_view`` now refuses
  the write for those inputs and views of them (``view_rebase.transform_leaves``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


R = np.random.default_rng(64)
X = R.standard_normal((3, 4))
V = R.standard_normal((3, 4))
W = R.standard_normal(4)

# bodies that write the primal they were given, whole or in part, directly or through a view
BODIES = {
    "mul_": lambda a: a.mul_(2).sin().sum(),
    "sin_": lambda a: (a.sin_() * a).sum(),
    "add_self": lambda a: a.add_(a).pow(2).sum(),
    "slice_write": lambda a: (a[1:].mul_(3), a)[1].pow(2).sum(),
    "row_exp_": lambda a: (a[0].exp_(), a.tanh())[1].sum(),
    "setitem": lambda a: (a.__setitem__((slice(None), 0), 0.5), a * a)[1].sum(),
    "vector_out": lambda a: a.mul_(2).cos().sum(0),
}


def _jvp_on(T, body, primal):
    """jvp of ``body`` at ``primal`` of the caller's graph; then a backward through both results."""
    w = T.tensor(X, requires_grad=True)
    x = w * 1.5
    arg = {"whole": lambda: x, "view": lambda: x[1:], "times_one": lambda: x * 1.0}[primal]()
    v = T.tensor(V[: arg.shape[0]])
    out, tan = T.func.jvp(BODIES[body], (arg,), (v,))
    loss = (out * 0.3).sum() + (tan * T.tensor(W if tan.ndim else 1.0)).sum()
    loss.backward()
    return out, tan, x, w.grad


@pytest.mark.parametrize("primal", ["whole", "view", "times_one"])
@pytest.mark.parametrize("body", sorted(BODIES))
def test_jvp_of_a_body_writing_its_primal_matches_torch(torch, body, primal):
    got = _jvp_on(gg, body, primal)
    want = _jvp_on(torch, body, primal)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_of_a_body_not_writing_is_unchanged(torch):
    def run(T):
        w = T.tensor(X, requires_grad=True)
        x = w * 1.5
        out, tan = T.func.jvp(lambda a: (a.sin() * x).sum(), (x,), (T.tensor(V),))
        tan.backward()
        return out, tan, w.grad

    for g, t in zip(run(gg), run(torch)):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_writing_a_leaf_primal_raises_as_torch():
    w = gg.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        gg.func.jvp(lambda a: a.mul_(2).sum(), (w,), (gg.tensor(V),))


OUT_CASES = {  # (base shape, the out view, the op's result)
    "narrow_into_flat": ((20,), lambda b: b[2:5], lambda T: T.add(T.tensor(X), 1)),
    "transposed_operand": ((20,), lambda b: b[1:3], lambda T: T.tensor(X).t() + 0),
    "column_of_matrix": ((3, 4), lambda b: b[:, :1], lambda T: T.tensor(X) * 2),
    "last_dim_slice": ((3, 1, 4), lambda b: b[..., :1], lambda T: T.tensor(X).reshape(3, 1, 4) * 2),
}


@pytest.mark.parametrize("case", sorted(OUT_CASES))
def test_out_view_resized_writes_into_its_base(torch, case):
    def run(T):
        shape, view, value = OUT_CASES[case]
        base = T.zeros(shape, dtype=T.float64)
        out = view(base)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # both warn: an out holding elements is resized
            r = T.mul(value(T), 1.5, out=out)
        return base, r, out.stride(), base._version

    (gb, gr, gs, gv), (tb, tr, ts, tv) = run(gg), run(torch)
    np.testing.assert_array_equal(gb.numpy(), tb.numpy())
    np.testing.assert_array_equal(gr.numpy(), tr.numpy())
    assert (gs, gv) == (tuple(ts), tv)


def test_out_view_resized_saved_base_goes_stale(torch):
    """The write reaches a tensor saved for backward through its base: backward refuses it."""
    for T in (gg, torch):
        w = T.tensor(W, requires_grad=True)
        c = T.zeros(3, 4, dtype=T.float64)
        y = (w * c).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T.mul(T.tensor(X), 2, out=c[:, :1])
        assert c.abs().sum().item() > 0
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified in place"):
            y.backward()


REVERSE = {
    "grad": lambda T, f, x: T.func.grad(f)(x),
    "vjp": lambda T, f, x: T.func.vjp(f, x)[1](T.tensor(1.0, dtype=T.float64)),
    "jacrev": lambda T, f, x: T.func.jacrev(f)(x),
    "hessian": lambda T, f, x: T.func.hessian(f)(x),
}
WRITES = {
    "whole": lambda a: a.mul_(2).pow(3).sum(),
    "through_view": lambda a: (a[1:].mul_(2), a)[1].pow(3).sum(),
    "setitem": lambda a: (a.__setitem__(0, 1.0), a)[1].pow(3).sum(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("transform", sorted(REVERSE))
@pytest.mark.parametrize("requires_grad", [False, True])
def test_reverse_transform_refuses_writing_its_input(lib, transform, write, requires_grad):
    w = lib.tensor(W, requires_grad=requires_grad)
    x = w * 1.5
    before = x.detach().clone()
    with pytest.raises(
        RuntimeError,
        match="leaf Variable that requires grad|view of a leaf|of a leaf that requires grad|leaf tensor",
    ):
        REVERSE[transform](lib, WRITES[write], x)
    np.testing.assert_array_equal(x.detach().numpy(), before.numpy())  # refused before the write


@pytest.mark.parametrize("transform", sorted(REVERSE))
def test_reverse_transform_body_writing_a_clone_or_under_no_grad_runs(torch, transform):
    def f(T):
        def body(a):
            with T.no_grad():
                a.mul_(1.0)  # allowed: not recorded
            b = (a * 1)[1:].mul_(3)  # a view of a new tensor computed from a: not a's memory
            return a.clone().mul_(2).pow(3).sum() + b.sin().sum()

        return body

    def run(T):
        w = T.tensor(W, requires_grad=True)
        return REVERSE[transform](T, f(T), w * 1.5)

    g, t = run(gg), run(torch)
    g, t = (g[0], t[0]) if isinstance(g, tuple) else (g, t)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12)
