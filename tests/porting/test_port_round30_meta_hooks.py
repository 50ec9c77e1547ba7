"""Optimizer hooks (optim/optimizer_hooks.py, port round 30): a metric-learning harness recorded the
gradients of each step with ``optimizer.register_step_pre_hook``, which glassgrad lacked. Each test
runs the same calls on PyTorch and on glassgrad and compares what the hooks saw and did."""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest

import glassgrad as gg


def _setup(lib, cls="SGD", **kw):
    p = lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0, 3.0])))
    opt = getattr(lib.optim, cls)([p], lr=0.1, **kw)
    p.grad = lib.tensor(np.array([0.5, 0.25, -1.0]))
    return p, opt


def _trace(lib):
    """The order the hooks ran in and what they saw, for one library."""
    log = []
    p, opt = _setup(lib, "Adam")
    module = importlib.import_module(lib.__name__ + ".optim.optimizer")  # torch.optim.optimizer
    glob_pre = module.register_optimizer_step_pre_hook(
        lambda o, a, k: log.append(("global pre", type(o).__name__, len(a), sorted(k)))
    )
    glob_post = module.register_optimizer_step_post_hook(lambda o, a, k: log.append("global post"))
    try:
        h1 = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", a[0] is o, p.grad.tolist())))
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", [round(v, 6) for v in p.tolist()])))
        opt.step()
        h1.remove()
        opt.step(closure=None)
    finally:
        glob_pre.remove()
        glob_post.remove()
    opt.step()
    return log


def test_step_hooks_run_in_pytorch_order_with_pytorch_arguments(torch):
    assert _trace(gg) == _trace(torch)


def test_step_pre_hook_can_replace_the_arguments(torch):
    def replace(o, args, kwargs):
        return args, {"closure": lambda: 7.0}

    for lib in (gg, torch):
        _, opt = _setup(lib)
        opt.register_step_pre_hook(replace)
        assert opt.step() == 7.0


def test_step_pre_hook_returning_something_else_raises(torch):
    with pytest.raises(RuntimeError):
        _, opt = _setup(torch)
        opt.register_step_pre_hook(lambda o, a, k: 5)
        opt.step()
    _, opt = _setup(gg)
    opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError, match=r"SGD.step: a step pre-hook must return None or a pair"):
        opt.step()


def test_recording_gradients_before_each_step_as_the_harness_did(torch):
    seen = {}
    for lib in (gg, torch):
        lib.manual_seed(0)
        w = lib.nn.Parameter(lib.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3)))
        opt = lib.optim.Adam([w], lr=1e-2)
        grads = []
        opt.register_step_pre_hook(lambda o, a, k, grads=grads, w=w: grads.append(w.grad.numpy().copy()))
        sched = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        x = lib.tensor(np.arange(3.0))
        for _ in range(3):
            opt.zero_grad()
            (w @ x).pow(2).sum().backward()
            opt.step()
            sched.step()
        seen[lib.__name__] = (np.stack(grads), w.detach().numpy(), opt.param_groups[0]["lr"])
    g, t = seen["glassgrad"], seen["torch"]
    np.testing.assert_allclose(g[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(g[1], t[1], rtol=1e-12)
    assert g[2] == t[2]


def _state_dict_trace(lib):
    log = []
    _, opt = _setup(lib, "SGD", momentum=0.9)
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre a"))
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre b"), prepend=True)

    def post(o, sd):
        log.append(("sd post", sorted(sd)))
        sd["extra"] = 1

    opt.register_state_dict_post_hook(post)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "replaced": True})
    sd = opt.state_dict()
    log.append(sorted(sd))

    def load_pre(o, sd):
        log.append(("load pre", sorted(sd)))
        sd.pop("extra")
        sd.pop("replaced")
        sd["param_groups"][0]["lr"] = 0.5

    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: log.append(("load post", o.param_groups[0]["lr"])))
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post first"), prepend=True)
    given = copy.deepcopy(sd)
    opt.load_state_dict(given)
    log.append(sorted(given))  # the hooks got a shallow copy: the caller's dict keeps its keys
    return log


def test_state_dict_and_load_state_dict_hooks_match_pytorch(torch):
    assert _state_dict_trace(gg) == _state_dict_trace(torch)


def test_deepcopy_leaves_hooks_behind(torch):
    for lib in (gg, torch):
        log = []
        _, opt = _setup(lib)
        opt.register_step_post_hook(lambda o, a, k: log.append(1))
        clone = copy.deepcopy(opt)
        clone.step()
        assert log == []
        opt.step()
        assert log == [1]


def test_user_optimizer_subclass_step_is_hooked(torch):
    for lib in (gg, torch):

        class Halve(lib.optim.Optimizer):
            def __init__(self, params):
                super().__init__(params, {"lr": 0.5})

            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        p.data.mul_(group["lr"])

        p = lib.nn.Parameter(lib.tensor([2.0]))
        opt = Halve([p])
        calls = []
        opt.register_step_pre_hook(lambda o, a, k: calls.append(p.item()))
        opt.step()
        assert calls == [2.0] and p.item() == 1.0


def test_handles_are_torch_utils_hooks_removable_handles(torch):
    for lib in (gg, torch):
        hooks = importlib.import_module(lib.__name__ + ".utils.hooks")
        _, opt = _setup(lib)
        with opt.register_step_post_hook(lambda o, a, k: None) as handle:
            assert isinstance(handle, hooks.RemovableHandle)
        assert isinstance(lib.nn.Linear(2, 2).register_forward_hook(lambda *a: None), hooks.RemovableHandle)
