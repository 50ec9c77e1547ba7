"""Round 33, interpretability (pytorch/captum's attribution methods): distilled repros.

Captum imports ``torch.futures.Future`` and ``collect_all`` (its ``attribute_future`` methods and
``ShapleyValueSampling``), tests ``isinstance(x, torch.Future)``, and annotates with
``torch.utils.hooks.RemovableHandle`` right after ``import torch``; none of these existed here.
Its LRP sets an attribute on the gradient inside one tensor hook (``grad.replace_out = ...``) and
reads it from the gradient object an earlier hook on the same tensor kept: PyTorch hands every
hook of a tensor the same Tensor object, glassgrad wrapped the gradient afresh for each hook, so
the mark was lost and LRP's relevances were wrong by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _two_hooks(mod):
    x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
    z = x * 1
    seen = []

    def mark(g):
        seen.append(g)
        g.tag = "marked"

    z.register_hook(seen.append)
    z.register_hook(mark)
    z.sum().backward()
    return seen[0] is seen[1], getattr(seen[0], "tag", None)


def test_hooks_of_one_tensor_get_one_gradient_object_as_torch(torch):
    assert _two_hooks(gg) == _two_hooks(torch) == (True, "marked")


def _returned_passes_on(mod):
    x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
    seen = []

    def triple(g):
        r = g * 3
        seen.append(r)
        return r

    x.register_hook(triple)
    x.register_hook(seen.append)
    (x * 2).sum().backward()
    kept = seen[0]
    same = kept is seen[1]
    kept.mul_(100)  # the caller's copy: .grad must not change with it
    return same, x.grad.tolist()


def test_returned_gradient_goes_to_next_hook_and_grad_is_a_copy(torch):
    assert _returned_passes_on(gg) == _returned_passes_on(torch) == (True, [6.0, 6.0])


def _lrp_like(mod):
    """Captum's LRP on Linear -> ReLU -> Linear: ReLU's backward hook, built from a pre-hook and a
    forward hook, returns the relevance the next layer's input hook left on the gradient."""
    nn = mod.nn
    rng = np.random.RandomState(0)
    l1, act, l2 = nn.Linear(3, 2).double(), nn.ReLU(), nn.Linear(2, 2).double()
    with mod.no_grad():
        for p in [*l1.parameters(), *l2.parameters()]:
            p.copy_(mod.tensor(rng.standard_normal(tuple(p.shape))))
    grad_out = {}

    def relu_pre(m, inp):
        def back(g):
            kept = grad_out["g"]  # the gradient ReLU's output got, as the first of its hooks saw it
            return kept.replace_out if hasattr(kept, "replace_out") else kept

        inp[0].register_hook(back)
        return inp[0].clone()

    def relu_fwd(m, inp, out):
        out.register_hook(lambda g: grad_out.__setitem__("g", g))

    def lin_fwd(m, inp, out):
        def rel_in(g, a=inp[0].data):
            g.replace_out = g * a
            return g.replace_out

        inp[0].register_hook(rel_in)
        out.register_hook(lambda g, o=out.data: g / (o + o.sign() * 1e-9))
        return out.clone()

    act.register_forward_pre_hook(relu_pre)
    act.register_forward_hook(relu_fwd)
    for lin in (l1, l2):
        lin.register_forward_hook(lin_fwd)
    x = mod.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    out = l2(act(l1(x + 0)))
    out[:, 1].sum().backward()
    return x.grad.numpy()


def test_lrp_relevance_through_marked_gradient_as_torch(torch):
    np.testing.assert_allclose(_lrp_like(gg), _lrp_like(torch), rtol=1e-12, atol=1e-14)


def _futures(mod):
    futures = mod.futures
    fut = futures.Future()
    log = []
    doubled = fut.then(lambda f: f.value() * 2)
    fut.add_done_callback(lambda f: log.append(f.value()))
    before = (fut.done(), doubled.done())
    fut.set_result(3)
    try:
        fut.set_result(4)
        again = None
    except RuntimeError:
        again = "RuntimeError"
    bad = futures.Future()
    bad.set_exception(ValueError("bad"))
    after_bad = bad.then(lambda f: 1)  # the callback still runs; it does not read the value
    failing = fut.then(lambda f: 1 / 0)
    a, b = futures.Future(), futures.Future()
    both = futures.collect_all([a, b])
    a.set_result(1)
    half = both.done()
    b.set_result(2)
    try:
        failing.wait()
        failed = None
    except RuntimeError:
        failed = "RuntimeError"
    try:
        futures.wait_all([a, bad])
        wait_bad = None
    except ValueError as e:
        wait_bad = str(e)
    return (
        before,
        doubled.wait(),
        log,
        again,
        after_bad.wait(),
        failed,
        half,
        [f.value() for f in both.wait()],
        futures.wait_all([a, b]),
        wait_bad,
        isinstance(fut, mod.Future),
        mod.jit.wait(mod.jit.fork(lambda v: v + 1, 2)),  # (their DeprecationWarning: the test below)
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jit.fork/wait, both libraries
def test_futures_as_torch(torch):
    assert _futures(gg) == _futures(torch)
    assert _futures(gg)[0] == (False, False)


def test_set_exception_needs_an_exception():
    with pytest.raises(TypeError, match="set_exception"):
        gg.futures.Future().set_exception(3)


def test_utils_hooks_is_an_attribute_after_import(torch):
    assert gg.utils.hooks.RemovableHandle is not None
    assert hasattr(torch.utils, "hooks")


def test_future_of_model_output_drives_feature_ablation_style_loop(torch):
    """Captum's ``attribute_future``: per-feature ablations as futures, gathered with collect_all."""

    def run(mod):
        lin = mod.nn.Linear(3, 1).double()
        with mod.no_grad():
            lin.weight.copy_(mod.tensor([[1.0, -2.0, 0.5]], dtype=mod.float64))
            lin.bias.fill_(0.25)
        x = mod.tensor([[1.0, 2.0, 3.0]], dtype=mod.float64)

        def fwd(inp):
            fut = mod.futures.Future()
            fut.set_result(lin(inp))
            return fut

        base = fwd(x)
        evals = []
        for i in range(3):
            xa = x.clone()
            xa[0, i] = 0
            evals.append(fwd(xa))
        done = mod.futures.collect_all([base, *evals]).then(
            lambda f: mod.cat([f.value()[0].value() - e.value() for e in f.value()[1:]], 1)
        )
        return done.wait().detach().numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=0, atol=1e-15)


def test_jit_fork_and_wait_warn_deprecation_as_torch(torch):
    import warnings

    for mod in (gg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert mod.jit.wait(mod.jit.fork(lambda a, b=0: a + b, 2, b=3)) == 5
        assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning], mod.__name__


def test_future_completed_by_another_thread_wakes_wait(torch):
    """Captum's ``test_future_output_2``: the forward function returns a Future that a thread
    completes later; ``attribute_future(...).wait()`` must block for it."""
    import threading
    import time

    def run(mod):
        fut = mod.futures.Future()
        chained = fut.then(lambda f: f.value() + 1)

        def later():
            time.sleep(0.05)
            fut.set_result(mod.tensor([1.0, 2.0], dtype=mod.float64))

        threading.Thread(target=later).start()
        return chained.wait().tolist(), fut.done()

    assert run(gg) == run(torch) == ([2.0, 3.0], True)


def test_python_types_as_dtype_are_fixed_dtypes_as_torch(torch):
    """``dtype=float`` is float64 and ``dtype=complex`` complex128 whatever the default dtype
    (Captum's ``test_python_float_conversion``); glassgrad took float as the default float32."""

    def name(d):
        return str(d).split(".")[-1]

    for t in (float, int):
        for make in (
            lambda m: m.tensor(3, dtype=t),
            lambda m: m.zeros(2, dtype=t),
            lambda m: m.full((1,), 1, dtype=t),
            lambda m: m.ones(2).to(t),
        ):
            assert name(make(gg).dtype) == name(make(torch).dtype), t
    assert name(gg.ones(2).to(complex).dtype) == name(torch.ones(2).to(complex).dtype) == "complex128"
    assert name(gg.nn.Linear(2, 2).to(float).weight.dtype) == "float64"
    assert torch.nn.Linear(2, 2).to(float).weight.dtype == torch.float64
    assert (
        gg.tensor(1.5, dtype=complex).dtype == gg.complex128
        and torch.tensor(1.5, dtype=complex).dtype == torch.complex128
    )
    assert gg.full((1,), 1j).dtype == gg.complex64  # complex *data* still follows the default dtype
