"""Round 59's leak hunt: what a training step makes must die by reference counting, as PyTorch's
does, not wait for the cyclic garbage collector (a cycle keeps a graph's tensors until the GC
runs: a memory spike per step in a big model).

- ``utils._pytree``'s walks (``tree_flatten``, ``tree_map``, ``TreeSpec.unflatten``,
  ``flatten_up_to``) were closures that called themselves: a function <-> cell cycle holding the
  leaves they collected. Every ``torch.func`` transform flattens its inputs and outputs, so the
  outputs of ``grad``/``vmap``/``jvp``/``jacrev``'s function (and their graphs) lived until the GC.
- ``vmap``'s scan of the tensors its function captured, ``load_state_dict``'s walk over the
  submodules and ``torch.library`` ops' check for inputs wanting a gradient: the same pattern.
- A leaf's ``AccumulateGrad`` hook lists pointed back at the entry holding them.

Each check runs with the GC disabled: ``gc.collect()`` afterwards counts the objects only the
cyclic collector could free (deterministic: nothing else runs meanwhile).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


def _cyclic_garbage(step) -> tuple[int, object]:
    """Run ``step`` twice to warm up, then once with the GC off; return the number of objects
    only the cyclic GC could free, and what the last ``step`` returned (read before collecting)."""
    step()
    step()
    gc.collect()
    gc.disable()
    try:
        out = step()
        alive = out() if callable(out) else None
        return gc.collect(), alive
    finally:
        gc.enable()


def _alive(refs: list) -> int:
    return sum(r() is not None for r in refs)


# ----------------------------------------------------------------------------- torch.func outputs


def _transform_step(lib, transform: str):
    """A torch.func call whose function records weakrefs to what it returns; returns a callable
    counting those still alive after the call."""

    def step():
        seen: list = []

        def f(v):
            y = v.sin() * 2
            seen.append(weakref.ref(y))
            return y.sum() if transform in ("grad", "vmap_grad") else y

        x = lib.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
        if transform == "grad":
            lib.func.grad(f)(x[0])
        elif transform == "vmap":
            lib.func.vmap(f)(x)
        elif transform == "vmap_grad":
            lib.func.vmap(lib.func.grad(f))(x)
        elif transform == "jvp":
            lib.func.jvp(f, (x[0],), (x[1],))
        else:
            lib.func.jacrev(f)(x[0])
        return lambda: _alive(seen)

    return step


@pytest.mark.parametrize("transform", ["grad", "vmap", "vmap_grad", "jvp", "jacrev"])
def test_func_outputs_die_without_gc(lib, transform):
    # PyTorch's transforms leave some cyclic garbage of their own, but never the function's outputs
    _, alive = _cyclic_garbage(_transform_step(lib, transform))
    assert alive == 0


@pytest.mark.parametrize("transform", ["grad", "vmap", "vmap_grad", "jvp", "jacrev"])
def test_func_transforms_make_no_cycles(transform):
    n, _ = _cyclic_garbage(_transform_step(gg, transform))
    assert n == 0


def test_vmap_output_graph_freed_after_backward(lib):
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def step():
        seen: list = []

        def f(v):
            y = v.sin() * w
            seen.append(weakref.ref(y))
            return y

        lib.func.vmap(f)(lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        return lambda: _alive(seen)

    _, alive = _cyclic_garbage(step)
    assert alive == 0


# --------------------------------------------------------------------------------------- pytree


def _pytree(lib):
    if lib is gg:
        from glassgrad.utils import _pytree
    else:
        from torch.utils import _pytree
    return _pytree


def test_tree_map_leaves_die_without_gc(lib):
    pt = _pytree(lib)

    def step():
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = (a * 2).sin()
        ref = weakref.ref(out)
        tree = {"x": [out, (out, 1)], "y": None}
        mapped = pt.tree_map(lambda t: t.detach() if isinstance(t, lib.Tensor) else t, tree)
        leaves, spec = pt.tree_flatten(tree)
        spec.flatten_up_to(tree)
        pt.tree_unflatten(leaves, spec)
        del out, tree, mapped, leaves
        return lambda: int(ref() is not None)

    _, alive = _cyclic_garbage(step)
    assert alive == 0


def test_pytree_walks_make_no_cycles():
    pt = _pytree(gg)
    tree = {"a": [1, (2, 3)], "b": {"c": 4}}

    def step():
        leaves, spec = pt.tree_flatten(tree)
        spec.unflatten(leaves)
        spec.flatten_up_to(tree)
        pt.tree_map(lambda v, w: v + w, tree, tree)

    assert _cyclic_garbage(step)[0] == 0


def test_pytree_walks_keep_results(torch):
    # the walks moved out of closures: the same leaves, specs, rebuilt trees and errors as PyTorch's
    from torch.utils import _pytree as tpt

    pt = _pytree(gg)
    tree = {"b": [1, (2, None)], "a": {"c": 3, "d": [4]}}
    leaves, spec = pt.tree_flatten(tree)
    tleaves, tspec = tpt.tree_flatten(tree)
    assert leaves == tleaves
    assert spec.num_leaves == tspec.num_leaves and spec.num_nodes == tspec.num_nodes
    assert pt.tree_unflatten([v * 10 if v else v for v in leaves], spec) == tpt.tree_unflatten(
        [v * 10 if v else v for v in tleaves], tspec
    )
    other = {"a": {"d": [40], "c": 30}, "b": [10, ([5], None)]}
    assert spec.flatten_up_to(other) == tspec.flatten_up_to(other)
    assert pt.tree_map(lambda x, y: (x, y), tree, other) == tpt.tree_map(lambda x, y: (x, y), tree, other)
    with pytest.raises(ValueError):
        spec.flatten_up_to({"a": {"c": 1, "d": [2]}, "b": [1]})
    with pytest.raises(ValueError):
        tspec.flatten_up_to({"a": {"c": 1, "d": [2]}, "b": [1]})


# ------------------------------------------------------------------ hooks, state dicts, library ops


def test_post_accumulate_hook_register_remove_makes_no_cycles():
    p = gg.tensor([1.0, 2.0], requires_grad=True)

    def step():
        h = p.register_post_accumulate_grad_hook(lambda t: None)
        (p * 2).sum().backward()
        h.remove()

    assert _cyclic_garbage(step)[0] == 0


def test_accumulate_grad_hook_removal_forgets_the_leaf():
    from glassgrad.autograd import accumulate_hooks

    p = gg.tensor([1.0, 2.0], requires_grad=True)
    acc = (p * 2).grad_fn.next_functions[0][0]
    calls: list = []
    pre = acc.register_prehook(lambda gs: calls.append("pre"))
    post = acc.register_hook(lambda gi, go: calls.append("post"))
    (p * 3).sum().backward()
    assert calls == ["pre", "post"]
    pre.remove()
    assert id(p) in accumulate_hooks.registered  # its hook is still there
    post.remove()
    assert id(p) not in accumulate_hooks.registered  # the last one gone: the plain path again
    (p * 3).sum().backward()
    assert calls == ["pre", "post"]


def test_leaf_with_hooks_dies_without_gc():
    def step():
        p = gg.tensor([1.0, 2.0], requires_grad=True)
        acc = (p * 2).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda gs: None)
        p.register_post_accumulate_grad_hook(lambda t: None)
        (p * 2).sum().backward()
        ref = weakref.ref(p)
        del p, acc
        return lambda: int(ref() is not None)

    n, alive = _cyclic_garbage(step)
    assert (n, alive) == (0, 0)


def test_load_state_dict_makes_no_cycles(lib):
    src = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)))
    dst = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)))
    assert _cyclic_garbage(lambda: dst.load_state_dict(src.state_dict()))[0] == 0


def test_load_state_dict_hook_error_makes_no_cycles():
    m = gg.nn.Sequential(gg.nn.Linear(3, 2))
    m[0].register_load_state_dict_post_hook(lambda mod, keys: 1)  # returns a value: refused
    sd = m.state_dict()

    def step():
        with pytest.raises(AssertionError):
            m.load_state_dict(sd)

    assert _cyclic_garbage(step)[0] == 0


def test_library_op_call_makes_no_cycles():
    lib = gg.library.Library("leaks59", "FRAGMENT")  # noqa: F841 (kept for the op's lifetime)

    @gg.library.custom_op("leaks59::twice", mutates_args=())
    def twice(x: gg.Tensor) -> gg.Tensor:
        return x * 2

    twice.register_autograd(lambda ctx, g: g * 2)
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    assert _cyclic_garbage(lambda: twice(x).sum().backward())[0] == 0
    np.testing.assert_array_equal(x.grad.numpy(), np.full(2, 6.0))  # three backward passes of 2 each


# ------------------------------------------------------------- whole training steps stay acyclic


def _mlp_step():
    gg.manual_seed(0)
    m = gg.nn.Sequential(gg.nn.Linear(4, 8), gg.nn.LayerNorm(8), gg.nn.ReLU(), gg.nn.Linear(8, 1))
    opt = gg.optim.AdamW(m.parameters(), 1e-3)
    sched = gg.optim.lr_scheduler.StepLR(opt, 2)
    x = gg.randn(5, 4)

    def step():
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        gg.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sched.step()
        with gg.no_grad():
            m(x)

    return step


def _lstm_step():
    gg.manual_seed(0)
    lstm = gg.nn.LSTM(3, 4, batch_first=True)
    w = gg.randn(7, 16, requires_grad=True)
    xs = gg.randn(2, 5, 3)

    def step():
        lstm(xs)[0].sum().backward()
        h = c = gg.zeros(2, 4)
        for xt in xs.unbind(1):
            i, f, g, o = (gg.cat([xt, h], 1) @ w).split(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
        h.sum().backward()

    return step


def _transformer_step():
    gg.manual_seed(0)
    enc = gg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = gg.randn(2, 4, 8)
    return lambda: enc(x).sum().backward()


def _second_order_step():
    gg.manual_seed(0)
    m = gg.nn.Linear(3, 1)
    x = gg.randn(4, 3, requires_grad=True)

    def step():
        from glassgrad.utils.checkpoint import checkpoint

        (g,) = gg.autograd.grad(m(x).tanh().sum(), x, create_graph=True)
        g.pow(2).sum().backward()
        loss = checkpoint(m, x, use_reentrant=False).sum()
        loss.backward(retain_graph=True)
        loss.backward()

    return step


@pytest.mark.parametrize(
    "make", [_mlp_step, _lstm_step, _transformer_step, _second_order_step], ids=lambda f: f.__name__
)
def test_training_steps_make_no_cycles(make):
    assert _cyclic_garbage(make())[0] == 0


# ------------------------------------------------------------------- the class of bug, statically

#: Nested functions that call themselves and may stay: wrappers made once per decorated function,
#: walks of rare calls (tracing, FSDP wrapping, DataParallel's scatter/gather, which raise for
#: CPU tensors), and GradScaler.scale, which returns a lazy ``map`` over its closure as PyTorch's
#: does (PyTorch's leaves the same cycle).
_SELF_CALLING_CLOSURES_ALLOWED = {
    "amp/grad_scaler.py:scale.apply_scale",
    "distributed/fsdp/wrap.py:_post_order_apply.inner",
    "fx/_symbolic_trace.py:trace.collect_tensor_attrs",
    "fx/codegen.py:gen_python_code.get_repr",
    "nn/parallel_functions.py:gather.walk",
    "nn/parallel_functions.py:scatter.walk",
    "overrides.py:decorate.wrapped",
}


def _self_calling_closures(root) -> set:
    import ast

    found = set()

    def visit(node, parent):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if parent is not None:
                    body_names = {n.id for n in ast.walk(child) if isinstance(n, ast.Name)}
                    if child.name in body_names:
                        found.add(f"{parent.name}.{child.name}")
                visit(child, child)
            else:
                visit(child, parent)

    out = set()
    for path in sorted(root.rglob("*.py")):
        found.clear()
        visit(ast.parse(path.read_text()), None)
        out |= {f"{path.relative_to(root).as_posix()}:{name}" for name in found}
    return out


def test_no_new_self_calling_closures():
    # a nested function that calls itself is a function <-> cell cycle: whatever it closes over
    # (the leaves a tree walk collects, a whole graph's tensors) waits for the cyclic GC
    import pathlib

    root = pathlib.Path(gg.__file__).parent
    assert _self_calling_closures(root) - _SELF_CALLING_CLOSURES_ALLOWED == set()
