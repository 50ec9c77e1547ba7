"""Round 57's differential fuzz of the optimizers: the findings, each pinned against PyTorch.

- ``AdamW`` dropped ``foreach``, ``capturable`` and ``fused``: its groups said ``foreach=None`` and a
  tensor lr with ``foreach=True`` ran where PyTorch refuses it.
- A group's tensor lr under ``foreach=True`` was refused when the group was made; PyTorch refuses only
  the constructor's lr there and a group's at ``step()``.
- A tensor lr was read as a float, but PyTorch computes the scalars made from it in its dtype: a
  float32 ``tensor(0.1)`` moved float64 parameters by up to 1e-6 relative from PyTorch's steps.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg

# options that make each optimizer compute with its lr (bias corrections, decays, eta); Muon takes
# the same change but orthogonalizes in bfloat16 in PyTorch, too coarse to see it (test_muon.py)
TENSOR_LR_CASES = {
    "SGD": dict(momentum=0.9, weight_decay=0.1),
    "Adam": dict(weight_decay=0.1, amsgrad=True),
    "AdamW": dict(),
    "Adagrad": dict(lr_decay=0.1, weight_decay=0.1),
    "Adamax": dict(weight_decay=0.1),
    "NAdam": dict(weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": dict(weight_decay=0.1, decoupled_weight_decay=True),
    "ASGD": dict(lambd=0.05, alpha=0.75, t0=3.0),
    "Adafactor": dict(weight_decay=0.1),
    "RMSprop": dict(centered=True, momentum=0.5),
    "Adadelta": dict(weight_decay=0.1),
}


def _state(lib, opt):
    out = []
    for p in (p for g in opt.param_groups for p in g["params"]):
        for key, value in sorted(opt.state[p].items()):
            out.append((key, np.asarray(value.detach().numpy() if lib is not gg else value._data, float)))
    return out


def _run_tensor_lr(lib, name, lr_dtype, steps=12):
    rng = np.random.default_rng(7)
    params = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3), (), (4,)]]
    lr = lib.tensor(0.3 if name == "Adadelta" else 0.1, dtype=getattr(lib, lr_dtype))
    opt = getattr(lib.optim, name)(params, lr=lr, **TENSOR_LR_CASES[name])
    for _ in range(steps):
        for p in params:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)))
        opt.step()
    return [p.detach().numpy().copy() for p in params], _state(lib, opt)


@pytest.mark.parametrize("lr_dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TENSOR_LR_CASES))
def test_a_tensor_lr_computes_in_its_dtype_as_pytorch(torch, name, lr_dtype):
    """float64 parameters, a float32 (or float64) tensor lr: PyTorch's steps to rounding."""
    got, got_state = _run_tensor_lr(gg, name, lr_dtype)
    want, want_state = _run_tensor_lr(torch, name, lr_dtype)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert [k for k, _ in got_state] == [k for k, _ in want_state]
    for (key, a), (_, b) in zip(got_state, want_state):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=key)


def _asgd_reloaded(lib, lr_dtype):
    """ASGD's eta after a load is in the parameter's dtype (float64), and a float64 tensor lr keeps
    its new values float64 there, while a float lr rounds them to the default dtype first."""
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.standard_normal(5), requires_grad=True)

    def make():
        lr = 0.1 if lr_dtype is None else lib.tensor(0.1, dtype=getattr(lib, lr_dtype))
        return lib.optim.ASGD([w], lr=lr, lambd=0.05, alpha=0.75, t0=2.0)

    opt = make()
    etas = []
    for step in range(10):
        if step == 2:
            again = make()
            again.load_state_dict(copy.deepcopy(opt.state_dict()))
            opt = again
        w.grad = lib.tensor(rng.standard_normal(5))
        opt.step()
        eta = opt.state[w]["eta"]
        etas.append((str(eta.dtype).split(".")[-1], float(eta)))
    return w.detach().numpy().copy(), etas


@pytest.mark.parametrize("lr_dtype", [None, "float32", "float64"], ids=str)
def test_asgd_eta_after_a_load_as_pytorch(torch, lr_dtype):
    got_w, got = _asgd_reloaded(gg, lr_dtype)
    want_w, want = _asgd_reloaded(torch, lr_dtype)
    assert got == want
    np.testing.assert_allclose(got_w, want_w, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_implementation_switches_kept_in_the_groups_as_pytorch(torch, name):
    kw = dict(foreach=False, capturable=False, fused=None)
    groups = []
    for lib in (gg, torch):
        opt = getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], lr=0.1, **kw)
        groups.append({k: v for k, v in opt.state_dict()["param_groups"][0].items() if k != "params"})
    assert groups[0] == groups[1]
    assert groups[0]["foreach"] is False


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_a_tensor_lr_with_foreach_refused_as_pytorch(torch, name):
    for lib in (gg, torch):
        w = lib.zeros(2, requires_grad=True)
        # the constructor's lr: refused at once
        with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
            getattr(lib.optim, name)([w], lr=lib.tensor(0.1), foreach=True)
        # a group's own tensor lr: accepted, refused by the first step that has a gradient for it
        v = lib.zeros(2, requires_grad=True)
        opt = getattr(lib.optim, name)(
            [{"params": [w]}, {"params": [v], "lr": lib.tensor(0.1)}], foreach=True
        )
        opt.step()  # no gradients yet: nothing to refuse
        w.grad = lib.ones(2)
        opt.step()  # the tensor lr's group still has none
        v.grad = lib.ones(2)
        with pytest.raises(RuntimeError, match="lr as a Tensor is not supported"):
            opt.step()


@pytest.mark.parametrize("norm_type", [float("inf"), float("-inf"), 2.0, 0.5])
def test_clip_grad_norm_of_each_order_as_pytorch(torch, norm_type):
    """The -inf norm is the smallest |g| (it was taken as the largest, like inf, and clipped by it)."""
    rng = np.random.default_rng(11)
    grads = [rng.standard_normal(s) * 3 for s in [(2, 3), (), (4,)]]
    out = []
    for lib in (gg, torch):
        ps = [lib.zeros(g.shape, dtype=lib.float64, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g.copy())
        total = lib.nn.utils.clip_grad_norm_(ps, 0.1, norm_type=norm_type)
        out.append((float(total), [p.grad.numpy().copy() for p in ps]))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-13)
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize("norm_type", [float("inf"), float("-inf")])
def test_an_infinity_norm_over_an_empty_gradient_is_refused_as_pytorch(torch, norm_type):
    for lib in (gg, torch):
        ps = [lib.zeros(0, requires_grad=True), lib.zeros(3, requires_grad=True)]
        for p in ps:
            p.grad = lib.ones(p.shape)
        with pytest.raises(RuntimeError, match="cannot compute the .*inf norm on an empty tensor"):
            lib.nn.utils.clip_grad_norm_(ps, 1.0, norm_type=norm_type, foreach=False)
