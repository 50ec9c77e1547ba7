"""Round 62, sched: a differential battery of optimizers and learning-rate schedulers (every
``lr_scheduler`` class, composed, resumed by ``state_dict`` within and across the two libraries,
stepped by epoch; every optimizer with its flags, hooks, closures, tensor lrs, ``add_param_group``
mid-run; ``swa_utils``) agreed with PyTorch 2.13 in float64. The one gap it found: the functional
optimizer API was missing. Custom optimizers call it from their own ``step()`` with the state
they keep (``import torch.optim._functional as F; F.adam(...)``, ``from torch.optim.adam import
adam``, a dropout RMSprop subclass calling ``F.rmsprop``), and ``torch.optim._functional`` did not
import. The tests below are fresh programs with those patterns, compared with PyTorch in float64.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def _params(lib, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.nn.Parameter(lib.tensor(rng.standard_normal(s))) for s in [(3, 4), (4,), (2, 3)]]


def _loss(lib, params, step):
    """A smooth non-quadratic loss whose weights change with the step. ()"""
    rng = np.random.default_rng(100 + step)
    total = 0
    for p in params:
        a = lib.tensor(rng.standard_normal(tuple(p.shape)))
        total = total + (p * a).sum() + 0.3 * (p**2).sum() + 0.05 * (p**4).sum()
    return total


def _functional(lib, name, via):
    module = "_functional" if via == "_functional" else name
    return getattr(importlib.import_module(f"{lib.__name__}.optim.{module}"), name)


def _zeros(lib, params, fill=0.0):
    return [lib.full_like(p.detach(), fill) for p in params]


# name -> (state lists made from the params, whether it takes state_steps, hyperparameters)
_SPECS = {
    "sgd": (
        lambda lib, ps: [[None] * len(ps)],
        False,
        dict(weight_decay=0.1, momentum=0.9, lr=0.05, dampening=0.0, nesterov=True, maximize=False),
    ),
    "adam": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps), _zeros(lib, ps)],
        True,
        dict(amsgrad=True, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1, eps=1e-8, maximize=False),
    ),
    "adamw": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps), []],
        True,
        dict(amsgrad=False, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.1, eps=1e-8, maximize=True),
    ),
    "adagrad": (
        lambda lib, ps: [_zeros(lib, ps, 0.1)],
        True,
        dict(lr=0.1, weight_decay=0.1, lr_decay=0.01, eps=1e-10, maximize=False),
    ),
    "adadelta": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps)],
        True,
        dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=False),
    ),
    "adamax": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps)],
        True,
        dict(eps=1e-8, beta1=0.9, beta2=0.999, lr=0.05, weight_decay=0.1),
    ),
    "asgd": (
        lambda lib, ps: [_zeros(lib, ps), [lib.tensor(1.0) for _ in ps], [lib.tensor(0.05) for _ in ps]],
        True,
        dict(lambd=1e-4, lr=0.05, t0=3, alpha=0.75, weight_decay=0.1),
    ),
    "nadam": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps), [lib.tensor(1.0) for _ in ps]],
        True,
        dict(beta1=0.9, beta2=0.999, lr=0.05, weight_decay=0.1, momentum_decay=4e-3, eps=1e-8),
    ),
    "radam": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps)],
        True,
        dict(beta1=0.9, beta2=0.999, lr=0.05, weight_decay=0.1, eps=1e-8),
    ),
    "rmsprop": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps), _zeros(lib, ps)],
        True,
        dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True),
    ),
    "rprop": (
        lambda lib, ps: [_zeros(lib, ps), _zeros(lib, ps, 0.01)],
        True,
        dict(step_size_min=1e-6, step_size_max=50, etaminus=0.5, etaplus=1.2),
    ),
}


def _run_functional(lib, name, via, steps=6):
    """``steps`` calls of the functional form; the parameters, state lists and step counts."""
    fn = _functional(lib, name, via)
    make_lists, takes_steps, hyper = _SPECS[name]
    params = _params(lib)
    lists = make_lists(lib, params)
    counts = [lib.tensor(0.0) for _ in params]
    for i in range(steps):
        for p in params:
            p.grad = None
        _loss(lib, params, i).backward()
        grads = [p.grad for p in params]
        with lib.no_grad():
            fn(params, grads, *lists, *([counts] if takes_steps else []), **hyper)
    return (
        [p.detach().numpy() for p in params],
        [[x.numpy() for x in values] for values in lists],
        [float(c) for c in counts],
    )


@pytest.mark.parametrize("via", ["_functional", "module"])
@pytest.mark.parametrize("name", sorted(_SPECS))
def test_functional_forms_step_as_torch(torch, name, via):
    got, want = _run_functional(gg, name, via), _run_functional(torch, name, via)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    for g_list, w_list in zip(got[1], want[1]):  # the state, updated in place (SGD's filled in)
        for g, w in zip(g_list, w_list):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    assert got[2] == want[2]  # the step counts, bumped in place


def _drop_rmsprop(lib):
    """A custom RMSprop (a dropout-of-updates variant's skeleton): its own ``step()`` collects the
    state it keeps in ``self.state`` and hands the lists to ``F.rmsprop``."""
    F = importlib.import_module(f"{lib.__name__}.optim._functional")

    class DropRMSprop(lib.optim.RMSprop):
        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                params, grads, square_avgs, grad_avgs, bufs, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = lib.tensor(0.0)
                        state["square_avg"] = lib.zeros_like(p)
                        state["momentum_buffer"] = lib.zeros_like(p)
                        state["grad_avg"] = lib.zeros_like(p)
                    params.append(p)
                    grads.append(p.grad * (p.grad.abs() > 0.1))  # drop the small updates
                    square_avgs.append(state["square_avg"])
                    grad_avgs.append(state["grad_avg"])
                    bufs.append(state["momentum_buffer"])
                    steps.append(state["step"])
                F.rmsprop(
                    params, grads, square_avgs, grad_avgs, bufs, steps, lr=group["lr"], alpha=group["alpha"],
                    eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"],
                )  # fmt: skip

    return DropRMSprop


def test_custom_optimizer_on_functional_rmsprop_resumes_as_torch(torch):
    def run(lib):
        params = _params(lib)
        Opt = _drop_rmsprop(lib)
        opt = Opt(params, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)
        for i in range(4):
            opt.zero_grad()
            _loss(lib, params, i).backward()
            opt.step()
        opt2 = Opt(params, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)
        opt2.load_state_dict(opt.state_dict())
        for i in range(4, 8):
            opt2.zero_grad()
            _loss(lib, params, i).backward()
            opt2.step()
        return [p.detach().numpy() for p in params], float(opt2.state[params[0]]["step"])

    got, want = run(gg), run(torch)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    assert got[1] == want[1] == 8.0


def test_functional_adam_is_the_adam_step():
    params, twins = _params(gg), _params(gg)
    opt = gg.optim.Adam(twins, lr=0.05, betas=(0.9, 0.99), weight_decay=0.1, amsgrad=True)
    m, v, v_max = _zeros(gg, params), _zeros(gg, params), _zeros(gg, params)
    counts = [gg.tensor(0.0) for _ in params]
    for i in range(4):
        for p in params:
            p.grad = None
        _loss(gg, params, i).backward()
        with gg.no_grad():
            gg.optim._functional.adam(
                params, [p.grad for p in params], m, v, v_max, counts, amsgrad=True, beta1=0.9, beta2=0.99,
                lr=0.05, weight_decay=0.1, eps=1e-8, maximize=False,
            )  # fmt: skip
        opt.zero_grad()
        _loss(gg, twins, i).backward()
        opt.step()
    for p, q in zip(params, twins):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    # the caller's tensors hold the state the step updated, and the parameters keep their grads
    for state, twin in zip(m, twins):
        np.testing.assert_array_equal(state.numpy(), opt.state[twin]["exp_avg"].numpy())
    assert [float(c) for c in counts] == [4.0] * 3 and all(p.grad is not None for p in params)


def test_functional_runs_no_step_hooks_and_keeps_grads():
    log = []
    handle = gg.optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: log.append("pre"))
    try:
        params = _params(gg)
        with gg.no_grad():
            gg.optim._functional.sgd(
                params, [gg.ones_like(p) for p in params], [None] * 3, weight_decay=0.0, momentum=0.9,
                lr=0.1, dampening=0.0, nesterov=False, maximize=False,
            )  # fmt: skip
    finally:
        handle.remove()
    assert log == [] and all(p.grad is None for p in params)


def test_functional_refusals():
    params = _params(gg)
    grads = [gg.ones_like(p) for p in params]
    hyper = dict(amsgrad=False, beta1=0.9, beta2=0.99, lr=0.05, weight_decay=0.0, eps=1e-8, maximize=False)
    with gg.no_grad(), pytest.raises(RuntimeError, match="state_steps"):
        gg.optim._functional.adam(
            params, grads, _zeros(gg, params), _zeros(gg, params), [], [0, 0, 0], **hyper
        )
    # without no_grad the in-place update of leaves that require grad stops, as PyTorch's does
    with pytest.raises(GraphError, match="leaf"):
        counts = [gg.tensor(0.0) for _ in params]
        gg.optim._functional.adam(params, grads, _zeros(gg, params), _zeros(gg, params), [], counts, **hyper)
    with gg.no_grad(), pytest.raises(ValueError, match="exp_avg"):
        counts = [gg.tensor(0.0) for _ in params]
        gg.optim._functional.adam(
            params, grads, _zeros(gg, params)[:2], _zeros(gg, params), [], counts, **hyper
        )


# ---- lr_scheduler's module-level helpers, for custom schedulers that copy PyTorch's step ---------


def _warmup_cosine(lib):
    """A custom scheduler in the style that copies PyTorch's ``step()``: it computes the rates inside
    ``_enable_get_lr_call``, writes them with ``_update_param_group_val``, keeps ``_last_lr`` by
    ``_param_groups_val_list`` and warns with ``EPOCH_DEPRECATION_WARNING`` on ``step(epoch)``."""
    sched = importlib.import_module(f"{lib.__name__}.optim.lr_scheduler")

    class WarmupCosine(sched.LRScheduler):
        def __init__(self, optimizer, warmup, total):
            self.warmup, self.total = warmup, total
            self.inner = sched.CosineAnnealingLR(optimizer, total - warmup)
            super().__init__(optimizer)

        def get_lr(self):
            if self.last_epoch < self.warmup:
                return [base * (self.last_epoch + 1) / self.warmup for base in self.base_lrs]
            with sched._enable_get_lr_call(self.inner):  # a built-in's get_lr: no outside-step warning
                self.inner.last_epoch = self.last_epoch - self.warmup
                return self.inner.get_lr()

        def step(self, epoch=None):
            if epoch is not None:
                warnings.warn(sched.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            with sched._enable_get_lr_call(self):
                self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
                values = self.get_lr()
            for group, lr in zip(self.optimizer.param_groups, values):
                sched._update_param_group_val(group, "lr", lr)
            self._last_lr = sched._param_groups_val_list(self.optimizer, "lr")

    return WarmupCosine


@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float_lr", "tensor_lr"])
def test_custom_scheduler_on_lr_scheduler_helpers_as_torch(torch, tensor_lr):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return (*train(lib), [str(w.message) for w in caught])

    def train(lib):
        params = _params(lib)
        lr = lib.tensor(0.1) if tensor_lr else 0.1
        opt = lib.optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], lr=lr, momentum=0.9)
        sched = _warmup_cosine(lib)(opt, 4, 14)
        rates = []
        for i in range(14):
            opt.zero_grad()
            _loss(lib, params, i).backward()
            opt.step()
            sched.step()
            rates.append([float(x) for x in sched.get_last_lr()])
        sched.step(3)
        rates.append([float(g["lr"]) for g in opt.param_groups])
        return rates, [p.detach().numpy() for p in params], type(opt.param_groups[0]["lr"]).__name__

    got, want = run(gg), run(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-15, atol=0)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    assert got[2] == want[2]
    for messages in (got[3], want[3]):
        assert not any("get_last_lr" in m for m in messages)  # every get_lr() ran inside the manager
        assert sum("The epoch parameter" in m for m in messages) == 1


def test_lr_scheduler_helpers_as_torch(torch):
    for lib in (gg, torch):
        sched = importlib.import_module(f"{lib.__name__}.optim.lr_scheduler")
        opt = lib.optim.SGD(_params(lib), lr=0.1, momentum=0.9)
        s = sched.StepLR(opt, 2)
        with sched._initial_mode(s):
            assert s._is_initial
        with sched._enable_get_lr_call(s):
            assert s._get_lr_called_within_step
        assert not s._is_initial and not s._get_lr_called_within_step
        group = opt.param_groups[0]
        sched._update_param_group_val(group, "momentum", 0.5)
        assert group["momentum"] == 0.5
        assert sched._format_param("max_lr", opt, 0.3) == [0.3]
        with pytest.raises(ValueError):
            sched._format_param("max_lr", opt, [0.3, 0.2])
        with pytest.warns(UserWarning, match="get_last_lr"):
            sched._warn_get_lr_called_within_step(s)
    assert (
        gg.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING == torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING
    )
