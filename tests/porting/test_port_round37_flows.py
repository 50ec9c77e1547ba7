"""Round 37, normalizing flows and neural CDEs (probabilists/zuko, patrick-kidger/torchcde with
torchdiffeq and torchsde), each against PyTorch.

- ``autograd.grad`` stops at its inputs: a producer of an input whose saved arrays were freed by an
  earlier backward is never run, so it raises nothing (zuko's ``MonotonicTransform.call_and_ladj``
  clones the previous transform's output, itself made under ``enable_grad`` and already
  differentiated, and asks for the gradient with respect to the clone). A node that does run
  still raises the freed-graph error.
- ``Module.__setstate__``: ``copy.deepcopy`` and ``pickle`` of a module subclass whose
  ``__getattr__`` forwards unknown names to a wrapped module (zuko's ``BayesianModel``) recursed
  without end, since the half-built copy had no ``__dict__`` yet.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as gnn
from glassgrad.errors import GraphError


def _freed_then_clone(lib, x0):
    a = lib.tensor(x0, requires_grad=True)
    y1 = a * a.exp()  # saves its operands
    y1.sum().backward()  # frees them
    with lib.enable_grad():
        x = y1.clone().requires_grad_()
        y = x.sin() * x
    return a, x, y


def test_grad_stops_at_input_before_a_freed_producer(torch):
    x0 = np.random.default_rng(0).normal(size=(3, 4))
    got, want = [], []
    for lib, res in ((gg, got), (torch, want)):
        _, x, y = _freed_then_clone(lib, x0)
        (g,) = lib.autograd.grad(y, x, lib.ones_like(y), retain_graph=True)
        res.append(g.detach().numpy())
        (g2,) = lib.autograd.grad(y.sum(), [x], create_graph=True)
        res.append(g2.detach().numpy())
    xv = x0 * np.exp(x0)
    np.testing.assert_allclose(want[0], np.cos(xv) * xv + np.sin(xv), rtol=1e-13)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-13, atol=0)


def test_grad_still_raises_when_a_freed_node_must_run(torch):
    x0 = np.random.default_rng(1).normal(size=(2, 3))
    for lib, err in ((gg, GraphError), (torch, RuntimeError)):
        a, _, y = _freed_then_clone(lib, x0)
        with pytest.raises(err, match="second time"):
            lib.autograd.grad(y.sum(), a)
    a, _, y = _freed_then_clone(gg, x0)
    with pytest.raises(GraphError, match="mul: Trying to backward through the graph a second time"):
        y.sum().backward()


def test_chained_monotonic_transforms_in_no_grad(torch):
    """zuko's pattern: each transform differentiates its own output w.r.t. a clone of its input,
    under no_grad outside; the second one's input carries the first one's freed graph."""
    x0 = np.random.default_rng(2).normal(size=(5, 3))

    def run(lib):
        def call_and_ladj(x, k):
            create = lib.is_grad_enabled() and x.requires_grad
            with lib.enable_grad():
                x = x.clone().requires_grad_()
                y = x + k * lib.tanh(x)
            (j,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=create)
            return y, j.log()

        with lib.no_grad():
            x = lib.tensor(x0)
            total = 0
            for k in (0.5, 0.25, 2.0):
                x, ladj = call_and_ladj(x, k)
                total = total + ladj
        return x.detach().numpy(), total.detach().numpy()

    for g, t in zip(run(gg), run(torch)):
        np.testing.assert_allclose(g, t, rtol=1e-13, atol=1e-15)


def test_backward_inputs_stop_before_a_freed_producer(torch):
    x0 = np.random.default_rng(3).normal(size=(4,))
    out = []
    for lib in (gg, torch):
        _, x, y = _freed_then_clone(lib, x0)
        z = y.sum()
        z.backward(inputs=[x])
        out.append(x.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-13)


def _hook(module, inputs, output):
    return None


def _forwarding(lib):
    class Wrapper(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.base = lib.nn.Linear(3, 2)
            self.register_buffer("scale", lib.ones(2, dtype=lib.float64))

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.base, name)

        def forward(self, x):
            return self.base(x) * self.scale

    # pickle finds classes by module and qualified name: publish this one under its own
    Wrapper.__qualname__ = Wrapper.__name__ = f"_Wrapper_{lib.__name__}"
    globals()[Wrapper.__name__] = Wrapper
    return Wrapper


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_forwarding_getattr_module_copies(torch, how):
    x0 = np.random.default_rng(4).normal(size=(2, 3))
    results = []
    for lib in (gg, torch):
        lib.manual_seed(0)
        m = _forwarding(lib)().double()
        with lib.no_grad():
            m.base.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 7))
            m.base.bias.copy_(lib.tensor([0.5, -1.0]))
        m.register_forward_hook(_hook)
        c = copy.deepcopy(m) if how == "deepcopy" else pickle.loads(pickle.dumps(m))
        assert c is not m and c.base is not m.base
        assert c.weight.shape == (2, 3)  # forwarded to base, as before
        assert len(c._forward_hooks) == 1
        assert sorted(c.state_dict()) == ["base.bias", "base.weight", "scale"]
        with lib.no_grad():
            c.base.weight.add_(1.0)
        assert float(m.base.weight.detach().sum()) == pytest.approx(15 / 7)
        results.append(c(lib.tensor(x0)).detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-13)


def test_setstate_fills_missing_tables():
    """An older pickled state without some tables gets empty ones, as PyTorch's __setstate__ does."""
    m = gnn.Linear(2, 2)
    state = {k: v for k, v in m.__dict__.items() if not k.startswith("_forward") and k != "training"}
    fresh = gnn.Linear.__new__(gnn.Linear)
    fresh.__setstate__(state)
    assert fresh.training is True
    assert len(fresh._forward_hooks) == 0 and len(fresh._forward_pre_hooks) == 0
    x = gg.ones(1, 2)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), m(x).detach().numpy())
    with pytest.raises(TypeError, match=r"Linear.__setstate__: expected a dict of attributes, got tuple"):
        fresh.__setstate__((1, 2))


def _versioned(lib):
    class Versioned(lib.nn.Module):
        """PyTorch's own layers' pattern: a subclass ``__setstate__`` that calls the base's."""

        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 1)
            self.mode = "new"

        def __setstate__(self, state):
            super().__setstate__(state)
            if "mode" not in state:
                self.mode = "old"

    Versioned.__qualname__ = Versioned.__name__ = f"_Versioned_{lib.__name__}"
    globals()[Versioned.__name__] = Versioned
    return Versioned


def test_subclass_setstate_calls_base(torch):
    for lib in (gg, torch):
        m = _versioned(lib)()
        c = copy.deepcopy(m)
        assert c.mode == "new" and isinstance(c.lin, lib.nn.Linear)
        del m.__dict__["mode"]
        old = pickle.loads(pickle.dumps(m))
        assert old.mode == "old" and [n for n, _ in old.named_parameters()] == ["lin.weight", "lin.bias"]
