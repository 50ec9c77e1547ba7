"""Round 61, optimizers2: recent optimizers from papers, run on a tiny conv + MLP in both libraries.

nikhilvyas/SOAP (a1e5535), jiaweizzhao/GaLore (2cc66f8: GaLoreAdamW, GaLoreAdafactor, every
projection type) and facebookresearch/optimizers (f606606: distributed_shampoo in one process,
root-inverse / eigendecomposed / eigenvalue-corrected / KL Shampoo, Adam, AdaGrad, RMSprop and SGD
grafting, momentum, GPA, schedule-free, spectral and sign descent) agreed with PyTorch in float64.
Two differences stopped distributed_shampoo: its package did not import (no
``torch.distributed.tensor.zeros``, ``torch.optim.optimizer.StateDict``; the factories are pinned in
``tests/distributed/test_dtensor_factories.py``), and a checkpoint reloaded with
``load_state_dict`` resumed from a blank state: ``Optimizer.load_state_dict`` set ``state`` and
``param_groups`` directly instead of handing them to ``__setstate__``, which distributed_shampoo
overrides to copy the loaded values into the tensors its step reads. iShohei220/adopt (6468572), a
copy of PyTorch's adam.py skeleton, needed ``torch.optim.optimizer.DeviceDict`` and
``Optimizer._cuda_graph_capture_health_check``. The tests below are fresh programs with the same
patterns, compared with PyTorch in float64.
"""

from __future__ import annotations

import io
from itertools import chain

import numpy as np
import pytest

import glassgrad as gg

# ---- load_state_dict hands the loaded state to __setstate__, as PyTorch's ------------------------


def _aliasing_optimizer(lib):
    """An optimizer in distributed_shampoo's style: its step reads the momentum buffers through a
    list made at construction (not through ``self.state``), and ``__setstate__`` copies a loaded
    checkpoint into those same tensors."""

    class Aliasing(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, {"lr": lr, "momentum": momentum})
            self.bufs = []
            for p in self.param_groups[0]["params"]:
                self.state[p]["buf"] = lib.zeros_like(p)
                self.bufs.append(self.state[p]["buf"])

        def __setstate__(self, state):
            if "state" in state:
                for p, loaded in state["state"].items():
                    self.state[p]["buf"].copy_(loaded["buf"])
                del state["state"]
            super().__setstate__(state)

        @lib.no_grad()
        def step(self):
            group = self.param_groups[0]
            for p, buf in zip(group["params"], self.bufs):
                buf.mul_(group["momentum"]).add_(p.grad)
                p.add_(buf, alpha=-group["lr"])

    return Aliasing


def _resume_run(lib, x, y, w0):
    """Three steps, a checkpoint through ``save``/``load``, then two more steps both by the
    running optimizer and by a fresh one loaded from the checkpoint. ``(w, (w_kept, w_loaded))``."""
    Opt = _aliasing_optimizer(lib)
    x, y = lib.tensor(x), lib.tensor(y)

    def run(w, opt, n):
        for _ in range(n):
            opt.zero_grad()
            ((x @ w - y) ** 2).mean().backward()
            opt.step()

    w = lib.nn.Parameter(lib.tensor(w0))
    opt = Opt([w])
    run(w, opt, 3)
    buf = io.BytesIO()
    lib.save(opt.state_dict(), buf)
    buf.seek(0)
    w2 = lib.nn.Parameter(w.detach().clone())
    opt2 = Opt([w2])
    opt2.load_state_dict(lib.load(buf))
    run(w, opt, 2)
    run(w2, opt2, 2)
    return w.detach().numpy(), w2.detach().numpy(), sorted(opt2.defaults)


def test_reloaded_checkpoint_resumes_an_optimizer_that_aliases_its_state(torch):
    rng = np.random.default_rng(0)
    x, y, w0 = rng.standard_normal((8, 3)), rng.standard_normal(8), rng.standard_normal(3)
    ours, theirs = _resume_run(gg, x, y, w0), _resume_run(torch, x, y, w0)
    np.testing.assert_array_equal(ours[1], ours[0])  # the reload resumes exactly
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=0)
    assert ours[2] == theirs[2]  # __setstate__ adds "differentiable" to defaults, as PyTorch's


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_load_state_dict_calls_setstate_with_the_state_keyed_by_parameter(lib_name, torch):
    lib = gg if lib_name == "glassgrad" else torch
    seen = []

    class Spy(lib.optim.SGD):
        def __setstate__(self, state):
            seen.append(
                (sorted(state), type(state["state"]).__name__, [type(k).__name__ for k in state["state"]])
            )
            super().__setstate__(state)

    w = lib.nn.Parameter(lib.ones(2))
    opt = Spy([w], lr=0.1, momentum=0.5)
    w.grad = lib.ones(2)
    opt.step()
    opt.load_state_dict(opt.state_dict())
    assert seen == [(["param_groups", "state"], "defaultdict", ["Parameter"])]
    assert opt.state[w]["momentum_buffer"].tolist() == [1.0, 1.0]


def test_state_dict_type_alias_as_pytorch(torch):
    import torch.optim.optimizer as theirs

    from glassgrad.optim.optimizer import StateDict

    assert StateDict == theirs.StateDict  # dict[str, Any], distributed_shampoo's annotation


# ---- SOAP's step: eigenbases of Kronecker factors, tensordot projections, a QR refresh ----------


def _soap_like(lib, grads, w0):
    """SOAP's update (Adam in the eigenbasis of the factors, refreshed by one power iteration and
    a QR, the first moment carried across a refresh through the original space) written fresh,
    with SOAP's tensor calls; returns the weights after each step."""

    def project(x, q, back=False):
        for mat in q:
            x = lib.tensordot(x, mat, dims=[[0], [1 if back else 0]])
        return x

    w = lib.tensor(w0)
    factors = [lib.zeros(s, s, dtype=w.dtype) for s in w.shape]
    m, v, q, out = lib.zeros_like(w), lib.zeros_like(w), None, []
    for step, g in enumerate(grads, 1):
        g = lib.tensor(g)
        for i in range(g.dim()):
            dims = [*chain(range(i), range(i + 1, g.dim()))]
            factors[i].lerp_(lib.tensordot(g, g, dims=[dims, dims]), 0.05)
        if q is None:
            q = [
                lib.flip(lib.linalg.eigh(f + 1e-30 * lib.eye(f.shape[0], dtype=f.dtype))[1], [1])
                for f in factors
            ]
        elif step % 2 == 0:
            m, new = project(m, q, back=True), []
            for i, (f, o) in enumerate(zip(factors, q)):
                order = lib.argsort(lib.diag(o.T @ f @ o), descending=True)
                v = v.index_select(i, order)
                new.append(lib.linalg.qr(f @ o[:, order])[0])
            q = new
            m = project(m, q)
        gp = project(g, q)
        m.mul_(0.9).add_(gp, alpha=0.1)
        v.mul_(0.95).add_(gp.square(), alpha=0.05)
        w.add_(project(m / (v.sqrt() + 1e-8), q, back=True), alpha=-0.01)
        out.append(w.numpy().copy())
    return out


def test_soap_step_pattern_matches_pytorch(torch):
    rng = np.random.default_rng(1)
    # square, well-conditioned factors: their eigenbases are unique up to the columns' signs,
    # which the update does not depend on
    grads = [rng.standard_normal((4, 3, 5)) for _ in range(5)]
    w0 = rng.standard_normal((4, 3, 5))
    for ours, theirs in zip(_soap_like(gg, grads, w0), _soap_like(torch, grads, w0)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


# ---- ADOPT's step: PyTorch's own optimizer skeleton, copied (iShohei220/adopt 6468572) ------------


def _adopt_like(lib, x, y, w0, foreach):
    """ADOPT's update in the skeleton PyTorch's adam.py has (the names it imports from
    ``torch.optim.optimizer``, the graph-capture check, the by-device grouping), written fresh."""
    from importlib import import_module

    opt_mod = import_module(lib.__name__ + ".optim.optimizer")
    DeviceDict, get_value = opt_mod.DeviceDict, opt_mod._get_value  # ADOPT's imports

    class Adopt(opt_mod.Optimizer):
        def __init__(self, params, lr=0.05, betas=(0.9, 0.99), eps=1e-6):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "differentiable": False})

        @opt_mod._use_grad_for_differentiable
        def step(self):
            with pytest.warns(DeprecationWarning, match="Use _accelerator_graph_capture_health_check"):
                self._cuda_graph_capture_health_check()
            group = self.param_groups[0]
            (b1, b2), eps, lr = group["betas"], group["eps"], group["lr"]
            ps = [p for p in group["params"] if p.grad is not None]
            for p in ps:
                if not self.state[p]:
                    self.state[p].update(
                        step=lib.tensor(0.0, dtype=opt_mod._get_scalar_dtype()),
                        exp_avg=lib.zeros_like(p),
                        exp_avg_sq=lib.zeros_like(p),
                    )
            cache: DeviceDict = {}
            lists = [ps, [p.grad for p in ps]] + [
                [self.state[p][k] for p in ps] for k in ("exp_avg", "exp_avg_sq", "step")
            ]
            for (dev, _), ((p_, g_, m_, v_, s_), _) in self._group_tensors_by_device_and_dtype(lists).items():
                cache.setdefault(dev, s_[0])
                if get_value(s_[0]) == 0:
                    lib._foreach_addcmul_(v_, g_, g_)
                    lib._foreach_add_(s_, 1)
                    continue
                denom = lib._foreach_sqrt(v_)
                lib._foreach_maximum_(denom, eps)
                normed = lib._foreach_div(g_, denom)
                if foreach:
                    lib._foreach_lerp_(m_, normed, 1 - b1)
                else:
                    for m, n in zip(m_, normed):
                        m.lerp_(n, 1 - b1)
                lib._foreach_add_(p_, m_, alpha=-lr)
                lib._foreach_mul_(v_, b2)
                lib._foreach_addcmul_(v_, g_, g_, value=1 - b2)
                lib._foreach_add_(s_, 1)

    w = lib.nn.Parameter(lib.tensor(w0))
    opt = Adopt([w])
    x, y = lib.tensor(x), lib.tensor(y)
    for _ in range(4):
        opt.zero_grad()
        ((x @ w - y) ** 2).mean().backward()
        opt.step()
    return w.detach().numpy(), opt.state[w]["exp_avg"].numpy(), float(opt.state[w]["step"])


@pytest.mark.parametrize("foreach", [True, False])
def test_adopt_step_pattern_matches_pytorch(foreach, torch):
    rng = np.random.default_rng(2)
    x, y, w0 = rng.standard_normal((8, 3)), rng.standard_normal(8), rng.standard_normal(3)
    ours, theirs = _adopt_like(gg, x, y, w0, foreach), _adopt_like(torch, x, y, w0, foreach)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-15)
    assert ours[2] == theirs[2] == 4.0


def test_device_dict_type_aliases_as_pytorch(torch):
    from typing import get_args

    import torch.optim.optimizer as theirs

    from glassgrad.optim import optimizer as ours

    for lib, mod in ((gg, ours), (torch, theirs)):
        keys, value = get_args(mod.DeviceDict)
        assert get_args(keys) == (lib.device, type(None)) and value is lib.Tensor
        keys, value = get_args(mod.DeviceDtypeDict)
        assert get_args(get_args(keys)[0]) == (lib.device, lib.dtype) and value is lib.Tensor
