"""Regression tests from the review of glassgrad.func: results PyTorch returns differentiable in
the caller's graph are differentiable here too, for the reverse and the forward transforms
(double backward); reverse transforms refuse dual tensors; PyTorch's refusals of integer outputs; negative argnums in jacfwd."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.func import functional_call, grad, grad_and_value, jacfwd, jacrev, jvp, linearize, vjp

XA = np.array([0.3, -1.2, 2.0])
WA = np.array([0.5, -1.0, 2.0])


def np_of(t):
    return np.array(t.detach().numpy())


def closure_cases(lib, fm, w):
    """Each transform applied to a function that uses ``w`` from its closure (``w`` not differentiated)."""
    return {
        "grad": lambda x: fm.grad(lambda a: (a.sin() * w).sum())(x),
        "grad_and_value": lambda x: fm.grad_and_value(lambda a: (a.sin() * w).sum())(x)[0],
        "jacrev": lambda x: fm.jacrev(lambda a: a.sin() * w)(x),
        "vjp": lambda x: fm.vjp(lambda a: a.sin() * w, x)[1](x * 0 + 1)[0],
        "vjp output": lambda x: fm.vjp(lambda a: a.sin() * w, x)[0],
        "argument not in argnums": lambda x: fm.grad(lambda a, v: (a.sin() * v).sum())(x, w),
        "jvp": lambda x: fm.jvp(lambda a: a.sin() * w, (x,), (x * 0 + 1,))[1],
        "jacfwd": lambda x: fm.jacfwd(lambda a: a.sin() * w)(x),
    }


@pytest.mark.parametrize("case", list(closure_cases(gg, gg.func, None)))
def test_tensor_used_from_outside_requiring_grad(torch, case):
    # PyTorch: the result is differentiable w.r.t. w (a gradient penalty trains the critic's weights)
    tw = torch.tensor(WA, requires_grad=True)
    theirs = closure_cases(torch, torch.func, tw)[case](torch.tensor(XA))
    assert theirs.requires_grad
    w = gg.tensor(WA, requires_grad=True)
    # every transform (forward ones too): recorded by double backward, as differentiable as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = closure_cases(gg, gg.func, w)[case](gg.tensor(XA))
    (ours**2).sum().backward()
    (theirs**2).sum().backward()
    np.testing.assert_allclose(np_of(w.grad), tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", list(closure_cases(gg, gg.func, None)))
def test_no_warning_without_outer_graph(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closure_cases(gg, gg.func, gg.tensor(WA))[case](gg.tensor(XA))  # w does not require grad
        with gg.no_grad():  # the caller records nothing: PyTorch's result is a constant too
            closure_cases(gg, gg.func, gg.tensor(WA, requires_grad=True))[case](gg.tensor(XA))


def test_module_weights_left_out_of_the_dict(torch):
    """functional_call with a partial dict: the module's own bias (requiring grad) is used, so
    PyTorch's gradient w.r.t. the given weight is differentiable w.r.t. that bias."""
    lin, tlin = gg.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    x32 = XA[None].astype(np.float32)
    w = {"weight": gg.ones(1, 3)}
    theirs = torch.func.grad(lambda p: (torch.func.functional_call(tlin, p, torch.tensor(x32)) ** 2).sum())(
        {"weight": torch.ones(1, 3)}
    )
    assert theirs["weight"].requires_grad
    ours = grad(lambda p: (functional_call(lin, p, gg.tensor(x32)) ** 2).sum())(w)
    assert ours["weight"].requires_grad  # through the module's own bias, as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = {k: v.detach() for k, v in lin.named_parameters()}
        grad(lambda p: (functional_call(lin, p, gg.tensor(x32)) ** 2).sum())(params)


def test_forward_transforms_when_primal_or_tangent_requires_grad(torch):
    """jvp, jacfwd and linearize's jvp_fn record their results as PyTorch's are (double backward)."""
    tt = torch.tensor(WA, requires_grad=True)
    assert torch.func.jvp(torch.sin, (torch.tensor(XA),), (tt,))[1].requires_grad
    tx = torch.tensor(XA, requires_grad=True)
    assert torch.func.jacfwd(torch.sin)(tx).requires_grad
    t = gg.tensor(WA, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, tan = jvp(lambda a: a.sin(), (gg.tensor(XA),), (t,))
    np.testing.assert_allclose(np_of(tan), np.cos(XA) * WA)
    (tan**2).sum().backward()
    (torch.func.jvp(torch.sin, (torch.tensor(XA),), (tt,))[1] ** 2).sum().backward()
    np.testing.assert_allclose(np_of(t.grad), tt.grad.numpy(), rtol=1e-12)
    x = gg.tensor(XA, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jac = jacfwd(lambda a: a.sin())(x)
    tjac = torch.func.jacfwd(torch.sin)(tx)
    (jac**2).sum().backward()
    (tjac**2).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), tx.grad.numpy(), rtol=1e-12)
    x.grad, tx.grad = None, None
    ours = linearize(lambda a: a.sin(), x)[1](gg.tensor(WA))
    theirs = torch.func.linearize(torch.sin, tx)[1](torch.tensor(WA))
    assert ours.requires_grad and theirs.requires_grad
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-12)


def test_reverse_transforms_refuse_dual_tensors(torch):
    """PyTorch propagates a tangent through grad (forward-over-reverse: the HVP); glassgrad's
    gradient is not recorded, so the tangent would come back missing: refuse instead."""
    import torch.autograd.forward_ad as tfwAD

    with tfwAD.dual_level():
        g = torch.func.grad(lambda a: a.sin().sum())(tfwAD.make_dual(torch.tensor(XA), torch.tensor(WA)))
        np.testing.assert_allclose(tfwAD.unpack_dual(g).tangent.numpy(), -np.sin(XA) * WA)
    f = lambda a: a.sin().sum()  # noqa: E731
    _, fn = vjp(lambda a: a.sin(), gg.tensor(XA))
    with fwAD.dual_level():
        d = fwAD.make_dual(gg.tensor(XA), gg.tensor(WA))
        for call in (
            lambda: grad(f)(d),
            lambda: grad_and_value(f)(d),
            lambda: jacrev(lambda a: a.sin())(d),
            lambda: vjp(lambda a: a.sin(), d),
            lambda: fn(d),
        ):
            with pytest.raises(NotImplementedError, match="expected no active forward-mode dual level"):
                call()
    assert grad(f)(gg.tensor(XA)).tolist() == pytest.approx(np.cos(XA).tolist())  # fine outside


def test_vjp_and_jacrev_refuse_integer_outputs_as_pytorch(torch):
    with pytest.raises(RuntimeError, match="floating-point or complex"):
        torch.func.vjp(lambda a: a.argmax(), torch.tensor(XA))
    with pytest.raises(RuntimeError, match="floating-point or complex"):
        torch.func.jacrev(lambda a: a.argmax())(torch.tensor(XA))
    with pytest.raises(DTypeError, match="vjp: expected f's outputs to be floating-point"):
        vjp(lambda a: a.argmax(), gg.tensor(XA))
    with pytest.raises(DTypeError, match="jacrev: expected f's outputs to be floating-point"):
        jacrev(lambda a: (a.sin(), a.argmax()))(gg.tensor(XA))


def test_jacfwd_negative_argnums_is_the_jacobian(torch):
    """PyTorch 2.13's jacfwd returns zeros for a negative argnums (jacrev does not); glassgrad
    gives the Jacobian, the same as for the positive index."""
    ta, tb = torch.tensor(XA), torch.tensor(WA)
    assert not torch.func.jacfwd(torch.mul, argnums=-2)(ta, tb).any()
    np.testing.assert_allclose(torch.func.jacrev(torch.mul, argnums=-2)(ta, tb).numpy(), np.diag(WA))
    a, b = gg.tensor(XA), gg.tensor(WA)
    for nums, expect in ((-2, np.diag(WA)), (-1, np.diag(XA))):
        np.testing.assert_allclose(np_of(jacfwd(lambda u, v: u * v, argnums=nums)(a, b)), expect)
    (j,) = jacfwd(lambda u, v: u * v, argnums=(-1,))(a, b)
    np.testing.assert_allclose(np_of(j), np.diag(XA))


def test_jacfwd_recorded_only_where_pytorch_records(torch):
    """An input requiring grad: jacfwd's Jacobian is recorded (no warning); under no_grad, or with
    nothing requiring grad, it is a constant, as PyTorch's."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jacfwd(lambda a: a.sin())(gg.tensor(XA, requires_grad=True)).requires_grad
        with gg.no_grad():
            assert not jacfwd(lambda a: a.sin())(gg.tensor(XA, requires_grad=True)).requires_grad
        assert not jacfwd(lambda a: a.sin())(gg.tensor(XA)).requires_grad
    with torch.no_grad():
        assert not torch.func.jacfwd(torch.sin)(torch.tensor(XA, requires_grad=True)).requires_grad


def test_jvp_strict_refuses_an_independent_output_as_pytorch(torch):
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        torch.func.jvp(lambda a: torch.ones(2), (torch.ones(2),), (torch.ones(2),), strict=True)
    with pytest.raises(RuntimeError, match="jvp: expected every output of f to depend on the primals"):
        jvp(lambda a: (a * 2, gg.ones(2)), (gg.ones(2),), (gg.ones(2),), strict=True)
    _, tan = jvp(lambda a: (a * 2, gg.ones(2)), (gg.ones(2),), (gg.ones(2),))  # not strict: zeros
    assert tan[0].tolist() == [2.0, 2.0] and tan[1].tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError):  # a tangent of another shape: ShapeError, a RuntimeError too
        torch.func.jvp(torch.sin, (torch.ones(2),), (torch.ones(3),))
    with pytest.raises(ShapeError, match=r"jvp: expected tangent of shape \(2,\) for primal 0, got \(3,\)"):
        jvp(lambda a: a.sin(), (gg.ones(2),), (gg.ones(3),))


def test_shared_submodule_gets_its_own_weight_back():
    """A module used twice (Sequential(lin, lin)) has two names for one weight; both are swapped
    and the module ends with its own weight. (PyTorch 2.13 restores in the order it swapped, so
    the second name's 'original' -- the given tensor -- is left in the module.)"""
    lin = gg.nn.Linear(2, 2)
    seq = gg.nn.Sequential(lin, lin)
    own = lin.weight
    w = gg.zeros(2, 2)
    out = functional_call(seq, {"0.weight": w}, gg.ones(1, 2))
    np.testing.assert_allclose(np_of(out), np_of(lin.bias)[None] @ np.zeros((2, 2)) + np_of(lin.bias)[None])
    assert lin.weight is own and isinstance(lin.weight, gg.nn.Parameter)
    functional_call(seq, {"0.weight": w}, gg.ones(1, 2), tie_weights=False)
    assert lin.weight is own


def test_jacfwd_randomness_as_pytorch(torch):
    """jacfwd reruns f per input element: with a random f the columns would mix different dropout
    masks. PyTorch refuses random ops by default (randomness='error'); 'same' shares one draw."""
    with pytest.raises(RuntimeError, match="random operation"):
        torch.func.jacfwd(torch.nn.Dropout(0.5))(torch.ones(6))
    drop = gg.nn.Dropout(0.5)
    with pytest.raises(RuntimeError, match="jacfwd: expected f to draw no random numbers"):
        jacfwd(drop)(gg.ones(6))
    gg.manual_seed(3)
    y = drop(gg.ones(6))
    after_one_call = gg.random.get_rng_state()
    gg.manual_seed(3)
    j = jacfwd(drop, randomness="same")(gg.ones(6))
    np.testing.assert_array_equal(np_of(j), np.diag(np_of(y)))  # one mask, every column
    assert gg.equal(gg.random.get_rng_state(), after_one_call)
    assert jacfwd(drop.eval())(gg.ones(6)).tolist() == np.eye(6).tolist()  # no draw: no error
    with pytest.raises(ValueError, match="randomness"):
        jacfwd(drop, randomness="sometimes")


def test_linearize_replays_the_first_runs_randomness():
    drop = gg.nn.Dropout(0.5)
    gg.manual_seed(5)
    out, fn = linearize(drop, gg.ones(8))
    first, second = fn(gg.ones(8)), fn(gg.ones(8))
    np.testing.assert_array_equal(np_of(first), np_of(out))  # dropout is linear: J @ 1 = f(1)
    np.testing.assert_array_equal(np_of(second), np_of(out))


def outer_graph_cases(fm):
    """Each reverse transform on a function using ``h``, a tensor of the caller's graph."""
    return {
        "grad": lambda h, x: fm.grad(lambda a: (a * h).sum())(x),
        "grad argnums=1": lambda h, x: fm.grad(lambda a, b: (a * h * b).sum(), argnums=1)(x, x),
        "jacrev": lambda h, x: fm.jacrev(lambda a: a * h)(x),
        "vjp_fn, retain_graph=False": lambda h, x: fm.vjp(lambda a: a * h, x)[1](x, retain_graph=False)[0],
    }


@pytest.mark.parametrize("case", list(outer_graph_cases(gg.func)))
def test_inner_backward_leaves_the_callers_graph_alone(torch, case):
    """PyTorch's transforms differentiate at their own level: the caller's graph behind a tensor f
    uses is neither walked (its hooks do not run) nor freed (a later backward through it works)."""
    results = {}
    for lib, fm in ((torch, torch.func), (gg, gg.func)):
        w = lib.tensor(WA, requires_grad=True)
        h = w * w
        seen = []
        h.register_hook(lambda g: seen.append(g))
        x = lib.tensor(XA)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the constant-result warning is tested above
            g = outer_graph_cases(fm)[case](h, x)
        assert seen == []  # the caller's hook did not run
        h.sum().backward()  # the caller's graph is still there
        results[lib.__name__] = (np.array(g.detach().tolist()), np.array(w.grad.tolist()))
    for ours, theirs in zip(results["glassgrad"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_output_from_the_callers_graph_only_is_not_walked(torch):
    """f returning a tensor built only from the caller's graph: the derivative is zeros (as
    PyTorch), and the caller's graph is neither walked nor freed."""
    for lib, fm in ((torch, torch.func), (gg, gg.func)):
        w = lib.tensor(WA, requires_grad=True)
        h = w * w
        seen = []
        h.register_hook(lambda g: seen.append(g))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = fm.grad(lambda a: h.sum())(lib.tensor(XA))
            j = fm.jacrev(lambda a: (h * 2, a * 3))(lib.tensor(XA))
        assert seen == [] and not g.detach().numpy().any() and not j[0].detach().numpy().any()
        h.sum().backward()
        np.testing.assert_allclose(np.array(w.grad.tolist()), 2 * WA)


def test_in_place_change_of_an_input_is_seen_by_the_callers_graph(torch):
    """f changing its input in place (under no_grad) changes the caller's tensor; a graph of the
    caller's that saved it must then refuse to backward, not use the new values silently."""

    def run(lib):
        x = lib.tensor([1.0, 2.0])
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w).sum()  # saves x for w's gradient

        def f(a):
            with lib.no_grad():
                a.mul_(10)
            return (a * a).sum()

        g = lib.func.grad(f)(x)
        assert x.tolist() == [10.0, 20.0] and g.tolist() == [20.0, 40.0]
        return y

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch).backward()
    y = run(gg)
    with pytest.raises(RuntimeError):
        y.backward()


def test_a_dual_level_entered_inside_a_reverse_transform_is_refused():
    """grad of a function that opens its own dual level: PyTorch differentiates the tangent
    (reverse-over-forward); glassgrad's tangents are constants, so the gradient would be zeros."""

    def f(x):
        with fwAD.dual_level():
            y = fwAD.make_dual(x, gg.ones_like(x)) ** 2
            return fwAD.unpack_dual(y).tangent.sum()  # d/dx of sum(2x) is 2 in PyTorch

    with pytest.raises(NotImplementedError, match="dual level inside the function"):
        grad(f)(gg.tensor([1.0, 2.0]))
