"""``torch.compile(module)`` returns PyTorch's wrapper, ``_dynamo.OptimizedModule``: the module is
its ``_orig_mod`` (state_dict keys prefixed), a call runs it, other attributes pass through."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg


def _observed(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    compiled = lib.compile(net)
    seen = {
        "class": type(compiled).__name__,
        "is wrapper": isinstance(compiled, lib._dynamo.eval_frame.OptimizedModule),
        "orig": compiled._orig_mod is net,
        "keys": list(compiled.state_dict()),
        "params": [n for n, _ in compiled.named_parameters()],
        "modules": [n for n, _ in compiled.named_modules()],
        "len": len(compiled),
        "attr": compiled._orig_mod[0].out_features,
    }
    compiled.eval()
    seen["eval"] = (compiled.training, net.training)
    compiled.train()
    compiled.tag = "set"  # set on the module, as PyTorch's __setattr__
    seen["tag"] = getattr(net, "tag", None)
    seen["function"] = lib.compile(len)([1, 2])  # (PyTorch wraps a function too; glassgrad returns it)
    seen["decorator"] = type(lib.compile(mode="max-autotune")(net)).__name__
    return seen


def test_compile_wraps_a_module_as_torchs(torch):
    assert _observed(gg) == _observed(torch)


def test_the_wrapper_runs_the_module_and_its_gradients(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    out = {}
    for lib in (gg, torch):
        lib.manual_seed(0)
        net = lib.nn.Linear(3, 2).double()
        net.load_state_dict(
            {
                k: lib.tensor(v)
                for k, v in {"weight": rng.standard_normal((2, 3)), "bias": rng.standard_normal(2)}.items()
            }
        )
        compiled = lib.compile(net)
        y = compiled(lib.tensor(x))
        y.square().sum().backward()
        out[lib.__name__] = (y.detach().numpy(), net.weight.grad.numpy())
        rng = np.random.default_rng(0)
        rng.standard_normal((5, 3))
    for a, b in zip(out["glassgrad"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_a_deep_copy_wraps_a_copy():
    net = gg.nn.Linear(2, 2)
    copied = copy.deepcopy(gg.compile(net))
    assert isinstance(copied, gg._dynamo.OptimizedModule) and copied._orig_mod is not net
    assert list(copied.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]


def test_only_a_module_can_be_wrapped():
    with pytest.raises(TypeError, match="expected an nn.Module"):
        gg._dynamo.OptimizedModule(len)
