"""Round 36, optimizer libraries (kozistr/pytorch_optimizer, jettify/pytorch-optimizer) run on glassgrad.

What they leaned on that glassgrad lacked or did otherwise, each pinned against PyTorch: the
``torch._foreach_*`` list ops of their ``foreach`` paths (Lion, Adan, LAMB, LARS, AdaBelief, SGDW,
Tiger, ADOPT ...), ``torch.distributed.ProcessGroup`` (named in DeMo's annotations), an optimizer state
with an entry its own step does not keep (Lookahead puts ``momentum_buffer`` into the AdamW it wraps,
then round-trips ``state_dict``), ``torch.sgn`` of complex tensors (the complex updates of SignSGD,
Tiger, Yogi), and ``tensor == pytest.approx(...)`` (the operators decline objects they cannot take, so
Python asks the other operand). The tests are written fresh from those uses."""

from __future__ import annotations

import fractions

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

# ------------------------------------------------------------------ torch._foreach_*

_A = [np.arange(1.0, 7.0).reshape(2, 3) / 3, np.array([0.5, -1.5, 2.0, 0.25])]
_B = [np.full((2, 3), 0.75), np.array([2.0, 0.5, -1.0, 4.0])]
_C = [np.linspace(0.5, 1.5, 6).reshape(2, 3), np.array([1.5, 0.5, 2.5, 1.0])]

FOREACH = [
    "_foreach_add(a, 2.5)", "_foreach_add(a, b, alpha=-0.5)", "_foreach_add(a, [1, 2.5])",
    "_foreach_add(a, T.tensor(3.0, dtype=T.float64))", "_foreach_add(a, T.tensor(3.0), alpha=2)",
    "_foreach_add(a, scalar=1)", "_foreach_add(a, scalars=[1, 2])", "_foreach_add(a, other=b, alpha=2)",
    "_foreach_sub(a, b, alpha=3)", "_foreach_sub(a, 0.5)", "_foreach_sub(a, T.tensor(0.5))",
    "_foreach_mul(a, b)", "_foreach_mul(a, -2)", "_foreach_mul(a, [0.5, 3])", "_foreach_mul(a, T.tensor(2.0))",
    "_foreach_div(a, c)", "_foreach_div(a, 4)", "_foreach_div(a, [2, 8])",
    "_foreach_div([T.tensor([1, 2])], 2)", "_foreach_mul([T.tensor([4])], 0.5)",
    "_foreach_maximum(a, b)", "_foreach_maximum(a, 0.6)", "_foreach_minimum(a, [0.5, 0.0])",
    "_foreach_clamp_min(a, 0.4)", "_foreach_clamp_max(a, b)", "_foreach_clamp_min(a, T.tensor(0.5))",
    "_foreach_pow(a, 2)", "_foreach_pow(c, b)", "_foreach_pow(c, [0.5, 3])", "_foreach_pow(2.0, a)",
    "_foreach_lerp(a, b, 0.3)", "_foreach_lerp(a, b, 0.8)", "_foreach_lerp(a, b, [0.25, 0.75])",
    "_foreach_lerp(a, b, c)", "_foreach_lerp(a, b, weight=0.1)",
    "_foreach_addcmul(a, b, c)", "_foreach_addcmul(a, b, c, value=-0.5)",
    "_foreach_addcmul(a, b, c, [2.0, 3.0])", "_foreach_addcmul(a, b, c, T.tensor([2.0, -1.0]))",
    "_foreach_addcdiv(a, b, c, value=0.1)", "_foreach_addcdiv(a, b, c, scalars=[1.0, -2.0])",
    "_foreach_norm(a)", "_foreach_norm(a, 1)", "_foreach_norm(a, float('inf'))", "_foreach_norm(a, 0)",
    "_foreach_norm([x.float() for x in a], 3, dtype=T.float64)", "_foreach_powsum(a, 3, dtype=T.float32)",
    "_foreach_powsum(a, 3)", "_foreach_powsum(a, 0)", "_foreach_powsum(a, 0.5)",
    "_foreach_powsum(a, float('inf'))", "_foreach_max(a)", "_foreach_mm([c[0]], [c[0].T])",
    "_foreach_clone(a)", "_foreach_abs(a)", "_foreach_sqrt(c)", "_foreach_rsqrt(c)", "_foreach_reciprocal(a)",
    "_foreach_sign(a)", "_foreach_neg(a)", "_foreach_exp(a)", "_foreach_log(c)", "_foreach_sigmoid(a)",
    "_foreach_tanh(a)", "_foreach_round(T._foreach_mul(a, 4))", "_foreach_frac(a)", "_foreach_trunc(a)",
    "_foreach_erf(a)", "_foreach_lgamma(c)", "_foreach_expm1(a)", "_foreach_log1p(c)", "_foreach_atan(a)",
]  # fmt: skip


def _lists(T, dtype="float64"):
    return {
        k: [T.tensor(x, dtype=getattr(T, dtype)) for x in v] for k, v in {"a": _A, "b": _B, "c": _C}.items()
    }


@pytest.mark.parametrize("call", FOREACH)
def test_foreach_out_of_place_as_torch(torch, call):
    ours = eval("T." + call, {"T": gg, **_lists(gg)})
    theirs = eval("T." + call, {"T": torch, **_lists(torch)})
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] and tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-13, atol=1e-15)


INPLACE = [
    "_foreach_add_(a, b, alpha=0.5)", "_foreach_add_(a, 1)", "_foreach_sub_(a, [1, 2])", "_foreach_mul_(a, c)",
    "_foreach_mul_(a, T.tensor(0.25))", "_foreach_div_(a, 3)", "_foreach_lerp_(a, b, 0.1)",
    "_foreach_lerp_(a, b, c)", "_foreach_addcmul_(a, b, c, value=0.5)", "_foreach_addcdiv_(a, b, c, [1, 2])",
    "_foreach_maximum_(a, b)", "_foreach_clamp_min_(a, 0.5)", "_foreach_clamp_max_(a, [0.5, 1.0])",
    "_foreach_pow_(a, 2)", "_foreach_neg_(a)", "_foreach_sqrt_(c)", "_foreach_rsqrt_(c)",
    "_foreach_reciprocal_(a)", "_foreach_sign_(a)", "_foreach_zero_(a)", "_foreach_copy_(a, b)",
    "_foreach_exp_(a)",
]  # fmt: skip


@pytest.mark.parametrize("call", INPLACE)
def test_foreach_in_place_changes_each_tensor_and_returns_the_list_as_torch(torch, call):
    results = []
    for T in (gg, torch):
        env = _lists(T)
        first = env["c" if call.startswith(("_foreach_sqrt_", "_foreach_rsqrt_")) else "a"]
        before = [t for t in first]
        out = eval("T." + call, {"T": T, **env})
        assert out is first and all(x is y for x, y in zip(first, before, strict=True))  # PyTorch: the list
        results.append([t.numpy().copy() for t in first])
    for o, t in zip(*results, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-13, atol=1e-15)


def test_foreach_refuses_what_torch_refuses(torch):
    a = [gg.ones(2), gg.ones(3)]
    with pytest.raises(RuntimeError, match="_foreach_add: Tensor list must have at least one tensor"):
        gg._foreach_add([], 1)
    with pytest.raises(RuntimeError, match="Tensor lists must have the same number of tensors, got 2 and 1"):
        gg._foreach_add(a, a[:1])
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        gg._foreach_mul(a, [1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim but it has 1 dimensions"):
        gg._foreach_mul(a, gg.tensor([2.0]))
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        gg._foreach_sub(a, gg.ones(2))
    with pytest.raises(TypeError, match="alpha"):
        gg._foreach_add(a, 1, alpha=0.5)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        gg._foreach_add([gg.ones(2), 3], 1)
    with pytest.raises(RuntimeError, match="_foreach_max cannot compute the maximum of an empty tensor"):
        gg._foreach_max([gg.ones(0)])
    with pytest.raises(RuntimeError, match="Expected packed scalar Tensor to be of dimension 1. Got 0"):
        gg._foreach_addcmul(a, a, a, gg.tensor(2.0))
    with pytest.raises(RuntimeError):  # an int tensor cannot hold the float result, as in PyTorch
        gg._foreach_mul_([gg.tensor([4])], 0.5)
    with pytest.raises(RuntimeError):  # a leaf that requires grad, changed in place
        gg._foreach_mul_([gg.ones(2, requires_grad=True)], 3)
    for T in (gg, torch):  # the cases above, as PyTorch has them
        with pytest.raises(RuntimeError):
            T._foreach_add([], 1)
        with pytest.raises(TypeError):
            T._foreach_sub([T.ones(2)], T.ones(2))


def test_foreach_out_of_place_ops_carry_gradients_as_torch(torch):
    grads = []
    for T in (gg, torch):
        a = [T.tensor(x, requires_grad=True) for x in _A]
        b = [T.tensor(x, requires_grad=True) for x in _B]
        c = [T.tensor(x) for x in _C]
        out = T._foreach_addcdiv(T._foreach_lerp(a, b, 0.3), b, c, value=0.5)
        out = T._foreach_mul(out, T._foreach_sqrt(T._foreach_add(c, b, alpha=0.1)))
        total = sum(n for n in T._foreach_norm(out)) + sum(m for m in T._foreach_max(out))
        total.backward()
        grads.append([t.grad.numpy() for t in a + b])
    for o, t in zip(*grads, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_foreach_gradcheck_on_random_shapes(seed):
    rng = np.random.RandomState(seed)
    shapes = [tuple(rng.randint(1, 4, size=rng.randint(1, 4))) for _ in range(2)]
    mk = [lambda s=s: gg.tensor(rng.rand(*s) + 0.5, dtype=gg.float64, requires_grad=True) for s in shapes]
    a, b, c = [f() for f in mk], [f() for f in mk], [f() for f in mk]
    # the per-tensor operand broadcasts against its tensor (a row of it), as the op's own broadcasting
    row = [gg.tensor(rng.rand(s[-1]) + 0.5, dtype=gg.float64, requires_grad=True) for s in shapes]

    def fn(*flat):
        a, b, c, r = (list(flat[i : i + 2]) for i in range(0, 8, 2))
        out = gg._foreach_addcdiv(gg._foreach_lerp(a, b, 0.25), b, c, [0.5, -1.5])
        out = gg._foreach_sub(gg._foreach_mul(out, r), c, alpha=0.5)
        return (*gg._foreach_pow(out, 2), *gg._foreach_norm(out, 3), *gg._foreach_clamp_min(out, r))

    assert gradcheck(fn, (*a, *b, *c, *row))


def _lion_foreach(T, params, grads, exp_avgs, lr=0.1, betas=(0.9, 0.99), wd=0.01):
    """Lion's update written as foreach optimizers write it (fresh code, after the paper's box)."""
    with T.no_grad():
        T._foreach_mul_(params, 1.0 - lr * wd)
        update = T._foreach_lerp(exp_avgs, grads, 1.0 - betas[0])
        T._foreach_sign_(update)
        T._foreach_add_(params, update, alpha=-lr)
        T._foreach_lerp_(exp_avgs, grads, 1.0 - betas[1])


def test_a_foreach_written_optimizer_steps_as_in_torch(torch):
    rng = np.random.RandomState(3)
    start = [rng.randn(4, 3), rng.randn(3)]
    target = rng.randn(5, 3)
    xs = rng.randn(5, 4)
    finals = []
    for T in (gg, torch):
        w, bias = (T.tensor(x, requires_grad=True) for x in start)
        exp_avgs = [T.zeros_like(w), T.zeros_like(bias)]
        for _ in range(4):
            loss = ((T.tanh(T.tensor(xs) @ w + bias) - T.tensor(target)) ** 2).mean()
            gw, gb = T.autograd.grad(loss, [w, bias])
            _lion_foreach(T, [w, bias], [gw, gb], exp_avgs)
        finals.append([w.detach().numpy(), bias.detach().numpy(), *(e.numpy() for e in exp_avgs)])
    for o, t in zip(*finals, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------ torch.distributed.ProcessGroup


def test_process_group_is_a_class_of_a_world_of_one(torch):
    from glassgrad.distributed import ProcessGroup

    assert isinstance(ProcessGroup, type) and hasattr(torch.distributed, "ProcessGroup")
    group = ProcessGroup(0, 1)
    assert (group.rank(), group.size()) == (0, 1)
    assert ProcessGroup(None, 0, 1).size() == 1  # (store, rank, size)
    with pytest.raises(NotImplementedError, match="ProcessGroup: glassgrad runs in one process"):
        ProcessGroup(1, 2)
    with pytest.raises(TypeError, match="ProcessGroup: expected"):
        ProcessGroup(0)


# ------------------------------------------------------------------ state entries an optimizer adds


def test_an_entry_added_to_the_state_survives_load_state_dict_as_in_torch(torch):
    """Lookahead puts a ``momentum_buffer`` into the state of the AdamW it wraps; PyTorch's
    ``load_state_dict`` keeps any entry, so a round trip must not refuse it."""
    loaded = []
    for T in (gg, torch):
        p = T.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        opt = T.optim.AdamW([p], lr=0.1)
        p.grad = T.ones_like(p)
        opt.step()
        opt.state[p]["momentum_buffer"] = T.full_like(p, 0.25)
        again = T.optim.AdamW([T.zeros(2, 2, requires_grad=True)], lr=0.1)
        again.load_state_dict(opt.state_dict())
        state = next(iter(again.state.values()))
        loaded.append({k: np.asarray(v.tolist()) for k, v in sorted(state.items())})
        q = again.param_groups[0]["params"][0]
        q.grad = T.ones_like(q)
        again.step()  # the extra entry is carried, not used
        loaded.append(q.detach().numpy())
    assert loaded[0].keys() == loaded[2].keys()
    for k in loaded[0]:
        np.testing.assert_array_equal(loaded[0][k], loaded[2][k])
    np.testing.assert_allclose(loaded[1], loaded[3], rtol=1e-15)


def test_a_state_of_another_family_alone_is_still_refused():
    p = gg.ones(2, requires_grad=True)
    sgd = gg.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = gg.ones_like(p)
    sgd.step()
    sd = sgd.state_dict()
    sd["param_groups"][0].update(betas=(0.9, 0.999), eps=1e-8, amsgrad=False)  # Adam's options, SGD's state
    with pytest.raises(
        ValueError, match="Adam.load_state_dict: expected state arrays .* another optimizer type"
    ):
        gg.optim.Adam([gg.ones(2, requires_grad=True)], lr=0.1).load_state_dict(sd)


# ------------------------------------------------------------------ sgn of complex tensors


def test_sgn_of_complex_tensors_and_its_gradient_as_torch(torch):
    z = np.array([[1 + 2j, 0], [-3 + 0.5j, 1e-3j]])
    w = np.array([[0.3 - 1j, 2 + 1j], [1, -1j]])
    got = []
    for T in (gg, torch):
        x = T.tensor(z, requires_grad=True)
        y = T.sgn(x)
        (y * T.tensor(w)).real.sum().backward()
        inplace = T.tensor(z.astype(np.complex64))
        inplace.sgn_()
        got.append((y.detach().numpy(), x.grad.numpy(), inplace.numpy(), str(inplace.dtype).split(".")[-1]))
    for o, t in zip(*got, strict=True):
        if isinstance(o, str):
            assert o == t
        else:
            np.testing.assert_allclose(o, t, rtol=1e-6 if o.dtype == np.complex64 else 1e-14, atol=1e-15)
    assert gg.sgn(gg.tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]
    with pytest.raises(RuntimeError, match="sign: expected real tensors"):  # sign stays refused, as PyTorch's
        gg.sign(gg.tensor([1 + 1j]))


def test_sgn_gradcheck_on_complex_inputs():
    rng = np.random.RandomState(5)
    for shape in [(3,), (2, 4)]:
        z = gg.tensor(rng.randn(*shape) + 1j * rng.randn(*shape), dtype=gg.complex128, requires_grad=True)
        assert gradcheck(lambda z: gg.sgn(z) * (z.abs() + 1), (z,))


# ------------------------------------------------------------------ operators and foreign objects


def test_operators_decline_objects_they_cannot_take_as_torch(torch):
    for T in (gg, torch):
        t = T.tensor([0.6417, 2.0])
        assert (t == pytest.approx([0.6417, 2.0], abs=1e-4)) is True  # approx is asked, as in PyTorch
        assert (T.tensor(0.6417) == pytest.approx(0.6417, abs=1e-4)) is True
        assert (t == object()) is False and (t != object()) is True and (t == None) is False  # noqa: E711
        for other in (object(), fractions.Fraction(1, 2), None, "a"):
            with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+"):
                t + other
            with pytest.raises(TypeError):  # (a str asks the tensor for an index: PyTorch's TypeError too)
                other * t
            with pytest.raises(TypeError, match="'<' not supported"):
                t < other  # noqa: B015 - the comparison is what raises
    t = gg.tensor([1.0, 2.0])
    assert (t + np.float32(1)).tolist() == [2.0, 3.0] and (t == np.array([1.0, 3.0])).tolist() == [
        True,
        False,
    ]


# ------------------------------------------------------------------ torch.optim.optimizer internals


def _copied_sgd(T):
    """An optimizer written as third-party code copies PyTorch's (fresh code): the private helpers of
    ``torch.optim.optimizer``, a ``__setstate__`` that calls ``super()``, a foreach path."""
    from importlib import import_module

    o = import_module(T.__name__ + ".optim.optimizer")
    fu = import_module(T.__name__ + ".utils._foreach_utils")

    class CopiedSGD(o.Optimizer):
        def __init__(self, params: o.ParamsT, lr=0.1, momentum=0.5, differentiable=False):
            super().__init__(params, dict(lr=lr, momentum=momentum, differentiable=differentiable))

        def __setstate__(self, state):
            super().__setstate__(state)
            for group in self.param_groups:
                group.setdefault("momentum", 0.5)

        @o._use_grad_for_differentiable
        def step(self, closure=None):
            assert not T.is_grad_enabled()
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                grads = [p.grad for p in params]
                bufs = [self.state[p].setdefault("buf", T.zeros_like(p)) for p in params]
                steps = [
                    self.state[p].setdefault("step", T.tensor(0.0, dtype=o._get_scalar_dtype()))
                    for p in params
                ]
                o._view_as_real(params, grads, bufs)
                for key, ((ps, gs, bs), _) in o.Optimizer._group_tensors_by_device_and_dtype(
                    [params, grads, bufs]
                ).items():
                    assert fu._has_foreach_support(ps, key[0])
                    T._foreach_mul_(bs, group["momentum"])
                    T._foreach_add_(bs, gs)
                    T._foreach_add_(ps, bs, alpha=-group["lr"] / (1 + o._get_value(steps[0])))
                for s in steps:
                    s += 1

    return CopiedSGD


def test_an_optimizer_copied_from_torchs_code_steps_pickles_and_copies_as_in_torch(torch):
    import copy

    finals = []
    for T in (gg, torch):
        w = T.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=T.float64, requires_grad=True)
        z = T.tensor([1 + 1j, -0.5j], dtype=T.complex128, requires_grad=True)
        opt = _copied_sgd(T)([w, z], lr=0.2)
        for _ in range(3):
            opt.zero_grad()
            ((w**2).sum() + (z * z.conj()).real.sum()).backward()
            opt.step()
        twin = copy.deepcopy(opt)
        del twin.param_groups[0]["momentum"]
        twin.__setstate__(twin.__dict__.copy())  # fills the option back in, as after unpickling an old one
        again = copy.deepcopy(twin)  # through __getstate__/__setstate__, as unpickling
        assert twin.param_groups[0]["momentum"] == 0.5 and twin.defaults["differentiable"] is False
        assert again.param_groups[0]["lr"] == 0.2 and len(again.state) == 2
        finals.append((w.detach().numpy(), z.detach().numpy(), opt.state[w]["step"].item()))
    for o, t in zip(*finals, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-14)


def test_torchs_private_optimizer_helpers_as_torch(torch):
    from importlib import import_module

    from glassgrad.optim import optimizer as ours
    from glassgrad.utils import _foreach_utils as our_fu

    theirs = import_module("torch.optim.optimizer")
    assert ours._get_value(gg.tensor(2.5)) == theirs._get_value(torch.tensor(2.5)) == 2.5
    assert ours._default_to_fused_or_foreach([gg.ones(2)], False) == theirs._default_to_fused_or_foreach(
        [torch.ones(2)], False
    )
    assert ours._default_to_fused_or_foreach([gg.ones(2)], False, use_fused=True) == (True, False)
    assert ours._get_foreach_kernels_supported_devices() == theirs._get_foreach_kernels_supported_devices()
    assert ours._get_fused_kernels_supported_devices() == theirs._get_fused_kernels_supported_devices()
    assert ours._stack_if_compiling([1]) == [1] and ours._to_scalar(gg.tensor([3.0])).dim() == 0
    assert str(ours._get_scalar_dtype()) == str(theirs._get_scalar_dtype()).replace("torch", "glassgrad")
    a = [gg.ones(2), gg.ones(3, dtype=gg.float64), gg.zeros(1)]
    b = [gg.full((2,), 2.0), None, gg.zeros(1)]
    groups = our_fu._group_tensors_by_device_and_dtype([a, b], with_indices=True)
    assert {str(k[1]): (len(v[0][0]), v[1]) for k, v in groups.items()} == {
        "glassgrad.float32": (2, [0, 2]),
        "glassgrad.float64": (1, [1]),
    }
    assert groups[(a[1].device, gg.float64)][0][1] == [None]
    assert our_fu._has_foreach_support([gg.ones(1), None], gg.device("cpu"))

    @ours._use_grad_for_differentiable
    def step(self):
        return gg.is_grad_enabled()

    class Holder:
        def __init__(self):
            self.defaults = {"differentiable": True}

    with gg.no_grad():
        assert step(Holder()) is True and not gg.is_grad_enabled()
    calls = []

    class Hooked(ours.Optimizer):
        @ours.Optimizer.profile_hook_step
        def step(self, closure=None):
            calls.append("step")

        def _optimizer_step_code(self):
            calls.append("code")

    opt = Hooked([gg.ones(1, requires_grad=True)], {"lr": 1.0})
    opt.register_step_post_hook(lambda *a: calls.append("post"))
    opt.step()
    assert calls == ["step", "code", "post"]
