"""Review of grad_fn hooks and of the pruned passes of ``autograd.grad``/``backward(inputs=...)``
(engine_hooked.prune): each ``script_*`` runs on glassgrad and on PyTorch and the results must be
the same. Every test here failed before its fix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from ..porting.helpers import assert_same

X = np.array([1.0, -2.0, 3.0])
W = np.array([0.5, 4.0, -1.5])


def _checkpoint(lib):
    if lib is glassgrad:
        from glassgrad.utils.checkpoint import checkpoint
    else:
        from torch.utils.checkpoint import checkpoint
    return checkpoint


# ---------------------------------------------------------------- what autograd.grad captures
def script_needed_input_is_taken_before_its_hooks(torch):
    """An input on the path to another input runs; PyTorch takes its gradient before its tensor
    hooks (and retain_grad), while the gradient it passes on has been through them."""
    x = torch.tensor(X, requires_grad=True)
    a = x * 2
    a.register_hook(lambda g: g * 10)
    a.retain_grad()
    b = x.exp()
    b.register_hook(lambda g: g * 3)  # an input whose node does not run: taken after its hooks
    y = (a.sin() * b).sum()
    ga, gx, gb = torch.autograd.grad(y, [a, x, b], retain_graph=True)
    (gx2,) = torch.autograd.grad(y, [x])
    return ga, gx, gb, gx2, a.grad


def test_a_needed_input_is_taken_before_its_hooks(torch):
    assert_same(
        script_needed_input_is_taken_before_its_hooks(glassgrad),
        script_needed_input_is_taken_before_its_hooks(torch),
    )


def script_needed_input_with_node_hooks(torch):
    log = []
    x = torch.tensor(X, requires_grad=True)
    a = x * 2
    a.register_hook(lambda g: g * 10)
    a.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].clone())))
    y = a.exp().sum()
    ga, gx = torch.autograd.grad(y, [a, x])
    return ga, gx, log


def test_a_needed_input_with_node_hooks(torch):
    assert_same(script_needed_input_with_node_hooks(glassgrad), script_needed_input_with_node_hooks(torch))


# ---------------------------------------------------------------- backward(inputs=...)
def script_backward_inputs_runs_the_outputs_node(torch):
    """backward(inputs=[an output of a multi-output op]): PyTorch runs that output's grad_fn, the
    one node all outputs share, so its hooks run."""
    log = []

    class Two(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    x = torch.tensor(X, requires_grad=True)
    o1, o2 = Two.apply(x)
    o1.grad_fn.register_prehook(
        lambda go: log.append(("fn pre", [None if g is None else g.clone() for g in go]))
    )
    o1.grad_fn.register_hook(lambda gi, go: log.append(("fn post", [g.clone() for g in gi])))
    (o1 * o2).sum().backward(inputs=[o1])
    p = (x * 1).split(2)
    p[0].grad_fn.register_prehook(
        lambda go: log.append(("split pre", [None if g is None else g.clone() for g in go]))
    )
    (p[0].sin() * p[1]).sum().backward(inputs=[p[0]])
    return log, o1.grad, p[0].grad, x.grad


def test_backward_inputs_runs_the_outputs_node(torch):
    assert_same(
        script_backward_inputs_runs_the_outputs_node(glassgrad),
        script_backward_inputs_runs_the_outputs_node(torch),
    )


def script_backward_inputs_retains_grad(torch):
    """PyTorch's backward(inputs=[non-leaf]) calls retain_grad() on it: later passes fill .grad."""
    x = torch.tensor(X, requires_grad=True)
    a = x * 2
    y = (a * a).sum()
    y.backward(inputs=[a], retain_graph=True)
    first = a.grad.clone()
    y.backward()
    return first, a.grad, a.retains_grad, x.grad


def test_backward_inputs_retains_grad(torch):
    assert_same(script_backward_inputs_retains_grad(glassgrad), script_backward_inputs_retains_grad(torch))


# ---------------------------------------------------------------- reentrant checkpoint
def script_reentrant_checkpoint_refuses_inputs(torch, how):
    """A reentrant checkpoint runs a nested backward into every parameter inside: under
    autograd.grad or backward(inputs=...) that would fill their .grad, so PyTorch refuses."""
    checkpoint = _checkpoint(torch)
    w = torch.tensor(W, requires_grad=True)
    x = torch.tensor(X, requires_grad=True)
    y = checkpoint(lambda t: (t * w).tanh(), x * 1, use_reentrant=True)
    loss = y.sum()
    try:
        if how == "grad":
            torch.autograd.grad(loss, [x], retain_graph=True)
        elif how == "inputs":
            loss.backward(inputs=[x], retain_graph=True)
        elif how == "jacobian":
            torch.autograd.functional.jacobian(
                lambda t: checkpoint(lambda s: s * w, t, use_reentrant=True), x
            )
        elif how == "vjp":
            fn = lambda t: checkpoint(lambda s: s * w, t, use_reentrant=True)  # noqa: E731
            torch.autograd.functional.vjp(fn, x, torch.tensor(W))
        else:
            torch.autograd.gradcheck(lambda t: checkpoint(lambda s: s * w, t, use_reentrant=True), (x,))
        error = None
    except RuntimeError as e:
        error = "incompatible with .grad()" in str(e)
    loss.backward()
    return error, w.grad, x.grad


@pytest.mark.parametrize("how", ["grad", "inputs", "jacobian", "vjp", "gradcheck"])
def test_reentrant_checkpoint_refuses_inputs(torch, how):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = script_reentrant_checkpoint_refuses_inputs(glassgrad, how)
        theirs = script_reentrant_checkpoint_refuses_inputs(torch, how)
    assert theirs[0] is True
    assert_same(ours, theirs)


# ---------------------------------------------------------------- functional.jacobian / vjp
def script_functional_runs_only_needed_nodes(torch):
    """jacobian and vjp are autograd.grad in PyTorch: a node that leads to no input never runs."""
    log = []
    w = torch.tensor(W, requires_grad=True)

    def fn(x):
        e = w.exp()
        e.register_hook(lambda g: log.append("e hook"))
        e.grad_fn.register_prehook(lambda go: log.append("e pre"))
        return x * e

    _, v = torch.autograd.functional.vjp(fn, torch.tensor(X), torch.tensor(W))
    jac = torch.autograd.functional.jacobian(fn, torch.tensor(X))
    return log, v, jac, w.grad


def test_functional_runs_only_needed_nodes(torch):
    assert_same(
        script_functional_runs_only_needed_nodes(glassgrad), script_functional_runs_only_needed_nodes(torch)
    )


# ---------------------------------------------------------------- a hook that keeps its argument
def script_kept_hook_arguments_are_not_grads(torch):
    """A hook may keep the tensors it is given (a gradient log): a later in-place change of .grad
    (zero_grad(set_to_none=False), clip_grad_norm_, an optimizer) must not change them, nor
    their change the .grad (PyTorch's AccumulateGrad copies a gradient someone else holds)."""
    kept = {}
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    b = torch.tensor(W, requires_grad=True)
    c = torch.tensor(X, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: kept.update({"node post": gi[0]}))
    z = w * 3
    acc = z.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: kept.update({"acc pre": go[0]}))
    b.register_hook(lambda g: kept.update({"leaf hook": g}))
    s = c + 0
    s.register_hook(lambda g: kept.update({"tensor hook": g}))
    ((y + z + b * 4) * 3).sum().backward()
    (s * 5).sum().backward()
    before = {k: v.clone() for k, v in kept.items()}
    for p in (x, w, b, c):
        p.grad.mul_(0.5)  # as clip_grad_norm_ does
    after_clip = {k: v.clone() for k, v in kept.items()}
    for v in kept.values():
        v.add_(100)  # the user's own tensors
    return before, after_clip, [p.grad for p in (x, w, b, c)]


def test_kept_hook_arguments_are_not_grads(torch):
    assert_same(
        script_kept_hook_arguments_are_not_grads(glassgrad), script_kept_hook_arguments_are_not_grads(torch)
    )


# ---------------------------------------------------------------- anomaly mode
def script_anomaly_ignores_gradients_not_computed(torch):
    """x ** p with x < 0: d/dp is NaN, but autograd.grad(..., [x]) never computes it in PyTorch."""
    x = torch.tensor(X, requires_grad=True)
    p = torch.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (x**p).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            (g,) = torch.autograd.grad(y, [x], retain_graph=True)
            y.backward(inputs=[x])
    return g, x.grad


def test_anomaly_ignores_gradients_not_computed(torch):
    assert_same(
        script_anomaly_ignores_gradients_not_computed(glassgrad),
        script_anomaly_ignores_gradients_not_computed(torch),
    )


# ---------------------------------------------------------------- ops over a list of tensors
def script_list_ops_hooks_see_every_gradient(torch):
    """cat and stack have one formula for their list of inputs: when autograd.grad needs one
    piece, PyTorch computes them all, and the hook sees all."""
    log = []
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    for join in (torch.cat, torch.stack):
        s = join([x * w, w * 2, x.sin()])
        s.grad_fn.register_hook(lambda gi, go: log.append([None if g is None else g.clone() for g in gi]))
        torch.autograd.grad((s * s).sum(), [w])
    return log


def test_list_ops_hooks_see_every_gradient(torch):
    assert_same(
        script_list_ops_hooks_see_every_gradient(glassgrad), script_list_ops_hooks_see_every_gradient(torch)
    )


# ---------------------------------------------------------------- sparse inputs
def script_sparse_inputs(torch):
    """A sparse leaf as an input of autograd.grad and backward(inputs=...): its gradient is sparse,
    with the leaf's indices (glassgrad's autograd runs through the values)."""
    i = torch.tensor([[0, 1, 1], [2, 0, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = torch.sparse_coo_tensor(i, torch.tensor([3.0, 4.0, 5.0], dtype=torch.float64), (2, 3))
    s = s.coalesce().requires_grad_()
    d = torch.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = torch.sparse.mm(s, d).sin().sum()
    gs, gd = torch.autograd.grad(y, [s, d], retain_graph=True)
    y.backward(inputs=[s])
    return gs.is_sparse, gs.to_dense(), gd, s.grad.is_sparse, s.grad.to_dense(), d.grad


def test_sparse_inputs(torch):
    assert_same(script_sparse_inputs(glassgrad), script_sparse_inputs(torch))


# ---------------------------------------------------------------- outputs of one multi-output op
def script_grad_of_one_output_runs_its_siblings_hooks(torch):
    """autograd.grad for one output of split (or of a Function with several outputs): PyTorch's
    one node for all outputs takes the input's gradient and runs the tensor hooks and retain_grad
    of every output (so the nodes that feed the others run too)."""
    log = []

    class Two(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    x = torch.tensor(np.arange(1.0, 5.0), requires_grad=True)
    p = (x * 1).split(2)
    p[1].retain_grad()
    p[1].register_hook(lambda g: log.append(("p1", g.clone())))
    e = p[1].exp()
    e.grad_fn.register_prehook(lambda go: log.append(("exp pre", go[0].clone())))
    (g0,) = torch.autograd.grad((p[0].sin() + e).sum(), [p[0]])
    o1, o2 = Two.apply(x)
    o2.retain_grad()
    o2.register_hook(lambda g: log.append(("o2", g.clone())))
    (g1,) = torch.autograd.grad((o1 * o2).sum(), [o1])
    return g0, p[1].grad, g1, o2.grad, log


def test_grad_of_one_output_runs_its_siblings_hooks(torch):
    assert_same(
        script_grad_of_one_output_runs_its_siblings_hooks(glassgrad),
        script_grad_of_one_output_runs_its_siblings_hooks(torch),
    )


def script_backward_inputs_unreached_output(torch):
    """backward(inputs=[an output the loss does not use]): its grad_fn, shared with the outputs the
    loss uses, is still needed in PyTorch, so it runs (hooks, retain_grad of the others, freeing)."""
    log = []

    class Two(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            (x,) = ctx.saved_tensors
            return a * x + (0 if b is None else b * 3)

    x = torch.tensor(X, requires_grad=True)
    o1, o2 = Two.apply(x)
    o1.retain_grad()
    o1.grad_fn.register_prehook(lambda go: log.append([None if g is None else g.clone() for g in go]))
    loss = o1.sin().sum()
    loss.backward(inputs=[o2])
    try:
        loss.backward()  # the shared node ran and freed what it saved
        log.append("second backward ran")
    except RuntimeError:
        log.append("freed")
    return log, o1.grad, o2.grad, x.grad


def test_backward_inputs_unreached_output(torch):
    assert_same(
        script_backward_inputs_unreached_output(glassgrad), script_backward_inputs_unreached_output(torch)
    )
