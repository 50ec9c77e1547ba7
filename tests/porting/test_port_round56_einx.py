"""Round 56, einx and opt_einsum on the torch backend.

einx (fferflo/einx, the current release and 0.3.0 with its ``einx.nn.torch`` layers) and
opt_einsum (dgasmith/opt_einsum) ran with ``torch`` mapped to glassgrad. Two gaps were found:

- ``torch.backends.opt_einsum`` did not exist (``is_available``, ``get_opt_einsum``, ``enabled``,
  ``strategy``, ``set_flags``, ``flags``), which PyTorch documents and opt_einsum-aware code reads;
- ``torch._subclasses`` (and PyTorch's other private submodules that ``import torch`` loads:
  ``_decomp``, ``_higher_order_ops``, ``_inductor``, ``_jit_internal``, ``_utils``) were not
  attributes after ``import glassgrad``: einx 0.3's lazy-parameter factory tests
  ``isinstance(x, torch._subclasses.FakeTensor)`` and failed with an AttributeError. Loading
  ``_subclasses`` at import needed its ``FakeTensor`` to turn ``__torch_function__`` off, as
  PyTorch's does, or defining it would switch the protocol on for every program.

The other tests pin the patterns einx's generated torch code is made of (written fresh here): the
reductions over a tuple of dims spelled ``axis=``, an ``einsum`` contraction over several dims,
and the flat ``index_put_`` with ``accumulate`` on a reshaped non-leaf that ``add_at`` emits,
each against PyTorch in float64 with gradients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.backends.opt_einsum as oe
from glassgrad.autograd import gradcheck

# ---- torch.backends.opt_einsum ------------------------------------------------------------------


def test_opt_einsum_switches_read_as_pytorchs(torch):
    ours, theirs = gg.backends.opt_einsum, torch.backends.opt_einsum
    assert ours.is_available() == theirs.is_available()
    assert ours.enabled == theirs.enabled
    assert ours.strategy == theirs.strategy
    assert (ours.get_opt_einsum() is None) == (theirs.get_opt_einsum() is None)
    assert ours is sys.modules["glassgrad.backends.opt_einsum"]


def test_opt_einsum_unavailable_refuses_as_pytorch(monkeypatch, torch):
    monkeypatch.setattr(oe, "is_available", lambda: False)
    monkeypatch.setattr(oe, "enabled", False)
    monkeypatch.setattr(oe, "strategy", None)
    with pytest.raises(ValueError, match="opt_einsum is not available, so setting `enabled` to True"):
        oe.set_flags(True)
    assert oe.set_flags(False) == (False, None)  # turning it off is fine
    with pytest.raises(ValueError, match="opt_einsum is not available, so setting `strategy` to greedy"):
        oe.set_flags(None, "greedy")
    with pytest.raises(ValueError, match="not available"), oe.flags(enabled=True):
        pass
    assert oe.enabled is False
    theirs = torch.backends.opt_einsum
    if not theirs.is_available():  # PyTorch's own answers, where it has no opt_einsum
        with pytest.raises(ValueError, match="opt_einsum is not available, so setting `enabled` to True"):
            theirs.set_flags(True)
        assert theirs.set_flags(None, None) == (False, None)


def test_opt_einsum_available_checks_strategy(monkeypatch):
    monkeypatch.setattr(oe, "is_available", lambda: True)
    monkeypatch.setattr(oe, "enabled", True)
    monkeypatch.setattr(oe, "strategy", "auto")
    assert oe.set_flags(None, "greedy") == (True, "auto")
    assert oe.strategy == "greedy"
    with pytest.raises(
        ValueError, match=r"must be one of the following: \[auto, greedy, optimal\] but is fast"
    ):
        oe.set_flags(None, "fast")
    with oe.flags(strategy="optimal"):
        assert oe.strategy == "optimal"
    assert oe.strategy == "greedy"
    assert oe.set_flags(False) == (True, "greedy")
    assert oe.enabled is False
    with pytest.raises(ValueError, match="opt_einsum is not enabled, so setting a `strategy` to auto"):
        oe.set_flags(None, "auto")
    assert oe.set_flags(True, "optimal") == (False, "greedy")  # both at once: enabled is set first
    assert (oe.enabled, oe.strategy) == (True, "optimal")


def test_opt_einsum_assignment_is_plain_as_pytorchs(monkeypatch, torch):
    # PyTorch 2.13's OptEinsumModule leaves enabled/strategy plain module attributes: assigning is
    # not checked, nor frozen by disable_global_flags; flags() still works while frozen
    monkeypatch.setattr(oe, "enabled", oe.enabled)
    monkeypatch.setattr(oe, "strategy", oe.strategy)
    monkeypatch.setitem(gg.backends._FLAGS, "mutable", True)
    gg.backends.disable_global_flags()
    oe.strategy = "anything"
    assert oe.strategy == "anything"
    with oe.flags(enabled=False):
        assert oe.enabled is False
    theirs = torch.backends.opt_einsum
    old = theirs.strategy
    try:
        theirs.strategy = "anything"
        assert theirs.strategy == "anything"
    finally:
        theirs.strategy = old


# ---- PyTorch's private submodules as attributes -----------------------------------------------


@pytest.mark.parametrize(
    "name", ["_subclasses", "_decomp", "_higher_order_ops", "_inductor", "_jit_internal", "_utils"]
)
def test_private_submodules_are_attributes(torch, name):
    assert hasattr(torch, name)
    assert hasattr(gg, name)


def test_fake_tensor_class_does_not_switch_torch_function_on(torch):
    # einx 0.3's check, on a plain tensor and an uninitialized parameter
    assert not isinstance(gg.ones(2), gg._subclasses.FakeTensor)
    assert not isinstance(gg.nn.parameter.UninitializedParameter(), gg._subclasses.FakeTensor)
    assert not isinstance(torch.nn.parameter.UninitializedParameter(), torch._subclasses.FakeTensor)
    code = (
        "import glassgrad as gg\n"
        "from glassgrad import torch_function as tf\n"
        "assert gg._subclasses.FakeTensor is not None\n"
        "assert not tf.state.on, 'importing glassgrad switched __torch_function__ on'\n"
        "assert gg.mean(gg.ones(2, 3), axis=1, keepdims=True).shape == (2, 1)\n"
    )
    root = str(Path(gg.__file__).resolve().parent.parent)  # this checkout's glassgrad
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
    with pytest.raises(NotImplementedError, match="no fake tensors"):
        gg._subclasses.FakeTensor(1)


# ---- the patterns of einx's generated torch code ------------------------------------------------


def _both(torch, fn, *arrays):
    outs, grads = [], []
    for lib in (gg, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *ts)
        w = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        outs.append(y.detach().numpy())
        grads.append([t.grad.numpy() for t in ts])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    for g0, g1 in zip(*grads):
        np.testing.assert_allclose(g0, g1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["mean", "sum", "var", "amax", "logsumexp"])
def test_reduce_over_axis_tuple(torch, op):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))

    def fn(lib, t):
        f = getattr(lib, op)
        if op == "logsumexp":
            return f(t, dim=(0, 2), keepdim=True)
        return f(t, axis=(0, 1, 2), keepdims=True) if op != "var" else f(t, axis=(1, 3))

    _both(torch, fn, x)


def test_einsum_multi_dim_contraction(torch):
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2, 2))
    _both(torch, lambda lib, x, y, z: lib.einsum("abc,bcd,dea->e", x, y, z), a, b, c)
    _both(torch, lambda lib, x, y: lib.einsum("abcd,de->abce", x, y), rng.standard_normal((2, 1, 3, 4)), b[0])
    ts = [gg.tensor(v, requires_grad=True) for v in (a, b, c)]
    assert gradcheck(lambda x, y, z: gg.einsum("abc,bcd,dea->e", x, y, z), ts)
    bc = [gg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 3), (4, 3, 5))]
    assert gradcheck(lambda x, y: gg.einsum("...ab,...bc->...ac", x, y), bc)  # broadcast batch dims


@pytest.mark.parametrize("accumulate", [True, False])
def test_flat_index_put_on_reshaped_non_leaf(torch, accumulate):
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 2, 4))

    def fn(lib, t, vals):
        flat = lib.reshape(t * 1, (24,))
        rows = lib.reshape(lib.multiply(lib.arange(2, dtype=lib.int32), 12), (1, 2, 1))
        cols = lib.reshape(lib.multiply(lib.tensor([1, 1, 0] if accumulate else [2, 0, 1]), 4), (3, 1, 1))
        idx = lib.add(lib.add(rows, cols), lib.reshape(lib.arange(4, dtype=lib.int32), (1, 1, 4)))
        return lib.reshape(flat.index_put_((idx,), vals, accumulate=accumulate), (2, 3, 4))

    _both(torch, fn, x, v)
