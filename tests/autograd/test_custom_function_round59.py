"""Round 59's differential hunt on the custom ``autograd.Function`` API: each program runs in
glassgrad and in PyTorch, and both raise, or both give the same values and gradients.

Found: an input that forward returned as is and marked non-differentiable (or returned while no
node is recorded: ``no_grad``, no input requiring grad) came back as the input itself, still in
its graph, so a gradient taken through the output reached the input, where PyTorch returns a
detached alias (a view of an input that requires no grad); a Function's saved tensors were never
freed, so a second ``backward()`` without ``retain_graph`` ran again and doubled the gradients,
where PyTorch raises on reading them; a gradient returned for a non-tensor argument, or a number
for a tensor one, was dropped or taken, where PyTorch raises; non-tensor outputs reached backward
as zeros instead of None; a gradient of the wrong shape was named in other words than PyTorch's;
a Function without ``setup_context`` (or, under ``vmap``, without a vmap rule) ran inside the
``torch.func`` transforms that PyTorch refuses it in.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import forward_ad as gg_fwad

A = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
W = np.array([[1.1, 0.4, -0.3], [0.2, -2.0, 0.9]])


def _read(t):
    return None if t is None else np.array(t.detach().tolist())


def _lib(name, torch):
    return gg if name == "gg" else torch


LIBS = ["gg", "torch"]


# -- an input returned as is that gets no gradient ----------------------------------------------


def _passthrough(lib, nondiff, dirty=False, extra=False):
    class Pass(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if dirty:
                x.mul_(2.0)
                ctx.mark_dirty(x)
            if nondiff:
                ctx.mark_non_differentiable(x)
            return (x, x * 3.0) if extra else x

        @staticmethod
        def backward(ctx, *gs):
            return gs[-1] * 3.0 if extra else gs[0]

    return Pass


@pytest.mark.parametrize("where", ["leaf", "nonleaf", "no_grad_leaf", "no_grad_nonleaf", "constant"])
@pytest.mark.parametrize("nondiff", [False, True], ids=["plain", "nondiff"])
@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_input_returned_as_is_without_gradient_is_an_alias(torch, where, nondiff, dirty):
    """The output's identity, requires_grad, grad_fn and base as PyTorch's (a leaf marked dirty
    while recording is refused by both)."""
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        x0 = lib.tensor(A, requires_grad=where != "constant")
        x = x0 * 1.0 if "nonleaf" in where else x0
        f = _passthrough(lib, nondiff, dirty)
        try:
            if where.startswith("no_grad"):
                with lib.no_grad():
                    y = f.apply(x)
            else:
                y = f.apply(x)
        except RuntimeError:
            seen[name] = "raises"
            continue
        seen[name] = (y is x, y.requires_grad, y.grad_fn is None, y._base is x, _read(y).tolist())
    assert seen["gg"] == seen["torch"]


@pytest.mark.parametrize("extra", [False, True], ids=["single", "with_other_output"])
def test_non_differentiable_input_returned_takes_no_gradient(torch, extra):
    """PyTorch: the marked output is a detached alias, so (y * y).sum() reaches x through the
    differentiable output only (or not at all: no grad_fn, an error)."""
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        x0 = lib.tensor(A, requires_grad=True)
        x = x0 * 1.0
        outs = _passthrough(lib, True, extra=extra).apply(x)
        y, z = outs if extra else (outs, None)
        loss = (y * y).sum() if z is None else (y * z).sum()
        try:
            loss.backward()
        except RuntimeError:
            seen[name] = "raises"
            continue
        seen[name] = _read(x0.grad).tolist()
    assert seen["gg"] == seen["torch"]


def test_non_differentiable_input_returned_leaves_the_input_in_its_graph(torch):
    for lib in (gg, torch):
        x0 = lib.tensor(A, requires_grad=True)
        x = x0 * 2.0
        y = _passthrough(lib, True).apply(x)
        assert not y.requires_grad and y is not x
        (x * 1.0).sum().backward()  # x keeps its own grad_fn
        np.testing.assert_array_equal(_read(x0.grad), np.full(A.shape, 2.0))


def test_input_returned_as_is_keeps_its_tangent_check():
    """The alias is still the input for forward AD: a jvp giving it another tangent is refused."""

    class Id(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            return t * 2

    for rg in (False, True):
        with gg_fwad.dual_level():
            d = gg_fwad.make_dual(gg.tensor(A, requires_grad=rg), gg.ones(2, 3, dtype=gg.float64))
            with pytest.raises(RuntimeError, match="returned an input as is"):
                Id.apply(d)


# -- saved tensors are freed by a backward without retain_graph ---------------------------------


def _cube(lib, save=True, read=True):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if save:
                ctx.save_for_backward(x)
            ctx.x = x
            return x**3

        @staticmethod
        def backward(ctx, g):
            if read:
                _ = ctx.saved_tensors
            return 3 * ctx.x * ctx.x * g

    return Cube


@pytest.mark.parametrize(
    "kind", ["saved_read", "saved_not_read", "nothing_saved_read", "nothing_saved", "hooks", "two_outputs"]
)
def test_second_backward_reads_freed_saved_tensors(torch, kind):
    """PyTorch releases a Function's saved tensors once a backward without retain_graph ran its
    node: reading ``saved_tensors`` again raises; a backward that reads none runs again."""
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        x = lib.tensor(A, requires_grad=True)
        if kind == "two_outputs":

            class Two(lib.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.save_for_backward(x)
                    return x.sin(), x.cos()

                @staticmethod
                def backward(ctx, ga, gb):
                    (x,) = ctx.saved_tensors
                    return ga * x.cos() - gb * x.sin()

            a, b = Two.apply(x)
            a.sum().backward(retain_graph=True)
            b.sum().backward()
            y = a
        else:
            f = _cube(
                lib,
                save=kind in ("saved_read", "saved_not_read", "hooks"),
                read="read" in kind or kind == "hooks",
            )
            if kind == "hooks":
                with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1.0, lambda t: t):
                    y = f.apply(x)
            else:
                y = f.apply(x)
            y.sum().backward()
        try:
            y.sum().backward()
            seen[name] = ("ran", _read(x.grad).tolist())
        except RuntimeError as e:
            seen[name] = ("raises", "second time" in str(e), _read(x.grad).tolist())
    assert seen["gg"] == seen["torch"]


def test_retain_graph_keeps_saved_tensors(torch):
    for lib in (gg, torch):
        x = lib.tensor(A, requires_grad=True)
        y = _cube(lib).apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(_read(x.grad), 6 * A * A, rtol=1e-15)


# -- what backward returns ------------------------------------------------------------------------


def _returning(lib, grads):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return grads(g)

    return F


@pytest.mark.parametrize(
    "kind",
    ["grad_for_number", "python_float_for_tensor", "none_for_number", "wrong_shape", "broadcast_shape"],
)
def test_backward_results_checked_as_pytorch(torch, kind):
    grads = {
        "grad_for_number": lambda g: (g * 2, g),
        "python_float_for_tensor": lambda g: (2.0, None),
        "none_for_number": lambda g: (g * 2, None),
        "wrong_shape": lambda g: (g.sum(0), None),
        "broadcast_shape": lambda g: (g.new_ones(4, 2, 3), None),
    }[kind]
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        x = lib.tensor(A, requires_grad=True)
        try:
            _returning(lib, grads).apply(x, 2.0).sum().backward()
            seen[name] = _read(x.grad).tolist()
        except RuntimeError:  # (the messages: the next test)
            seen[name] = "raises"
    assert seen["gg"] == seen["torch"]


def test_backward_result_errors_name_the_function():
    x = gg.tensor(A, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="function FBackward returned a gradient different than None at position 2"
    ):
        _returning(gg, lambda g: (g, g)).apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got float\)"):
        _returning(gg, lambda g: (2.0, None)).apply(x, 2.0).sum().backward()
    with pytest.raises(
        RuntimeError,
        match=r"Function FBackward returned an invalid gradient at index 0 - got \[3\] but expected shape "
        r"compatible with \[2, 3\]",
    ):
        _returning(gg, lambda g: (g.sum(0), None)).apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="position 2"):  # the create_graph path checks as well
        gg.autograd.grad(_returning(gg, lambda g: (g, g)).apply(x, 2.0).sum(), x, create_graph=True)


@pytest.mark.parametrize("create_graph", [False, True], ids=["first_order", "create_graph"])
@pytest.mark.parametrize("materialize", [True, False], ids=["materialized", "not_materialized"])
def test_non_tensor_outputs_get_none_in_backward(torch, create_graph, materialize):
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        got = []

        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                ctx.save_for_backward(x)
                return x.sin(), 3, None, "tag", x.argmax()

            @staticmethod
            def backward(ctx, g, *rest):
                got.append([r if r is None else _read(r).tolist() for r in rest])
                (x,) = ctx.saved_tensors
                return g * x.cos()

        x = lib.tensor(A, requires_grad=True)
        y = F.apply(x)
        (g,) = lib.autograd.grad(y[0].sum(), x, create_graph=create_graph)
        seen[name] = (got, _read(g).tolist(), y[1:4])
    assert seen["gg"] == seen["torch"]


# -- torch.func transforms ------------------------------------------------------------------------


def _sin(lib, styled, vmap_rule=None):
    """sin as a Function: the old style (forward(ctx, x)) or with setup_context; ``vmap_rule``:
    None, "generate" (generate_vmap_rule = True) or "static" (a vmap staticmethod)."""
    if not styled:

        class OldSin(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin()

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x.cos()

            @staticmethod
            def jvp(ctx, t):
                (x,) = ctx.saved_tensors
                return t * x.cos()

        return OldSin

    class Sin(lib.autograd.Function):
        generate_vmap_rule = vmap_rule == "generate"

        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.x = inputs[0]

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.x.cos()

    if vmap_rule == "static":

        def vmap(info, in_dims, x):
            return Sin.apply(x), in_dims[0]

        Sin.vmap = staticmethod(vmap)
    return Sin


TRANSFORMS = {
    "grad": lambda lib, f, x: lib.func.grad(lambda v: f.apply(v).sum())(x),
    "vjp": lambda lib, f, x: lib.func.vjp(f.apply, x)[0],
    "jacrev": lambda lib, f, x: lib.func.jacrev(lambda v: f.apply(v).sum())(x),
    "jvp": lambda lib, f, x: lib.func.jvp(f.apply, (x,), (lib.ones_like(x),))[1],
    "vmap": lambda lib, f, x: lib.func.vmap(f.apply)(x),
    "vmap_grad": lambda lib, f, x: lib.func.vmap(lib.func.grad(lambda v: f.apply(v).sum()))(x),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize(
    "style",
    [(False, None), (True, None), (True, "generate"), (True, "static")],
    ids=["old", "setup", "gen", "rule"],
)
def test_function_under_func_transforms(torch, transform, style):
    """PyTorch refuses a Function without setup_context under any torch.func transform, and one
    without a vmap rule under vmap; where it runs one, the values are the same."""
    seen = {}
    for name in LIBS:
        lib = _lib(name, torch)
        try:
            seen[name] = _read(TRANSFORMS[transform](lib, _sin(lib, *style), lib.tensor(A))).tolist()
        except RuntimeError as e:
            seen[name] = ("raises", "setup_context" in str(e), "vmap support" in str(e))
    assert seen["gg"] == seen["torch"]


def test_function_outside_transforms_needs_no_setup_context():
    """The refusal is for transforms only: the old style still runs plainly, and after a transform."""
    x = gg.tensor(A, requires_grad=True)
    f = _sin(gg, False)
    with pytest.raises(RuntimeError, match="must override the setup_context staticmethod"):
        gg.func.grad(lambda v: f.apply(v).sum())(x)
    f.apply(x).sum().backward()
    np.testing.assert_allclose(_read(x.grad), np.cos(A), rtol=1e-15)
