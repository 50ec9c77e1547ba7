"""Round 30, LLM group: ChatRWKV's ``RWKV_in_150_lines.py`` subclasses ``torch.jit.ScriptModule``
and marks its mixing steps ``@torch.jit.script_method``; both run eagerly as a plain Module."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

C = 4
RS = np.random.RandomState(0)
W = {
    "ln.weight": 1 + 0.1 * RS.randn(C),
    "ln.bias": 0.1 * RS.randn(C),
    "mix": RS.rand(1, 1, C),
    "kw": RS.randn(2 * C, C) * 0.5,
    "vw": RS.randn(C, 2 * C) * 0.5,
    "rw": RS.randn(C, C) * 0.5,
}
TOKENS = [np.linspace(-1, 1, C) * (i + 1) for i in range(3)]


def rwkv_style_channel_mixing(torch):
    """The program's shape: weights in a SimpleNamespace, a state row written in place per step."""
    F = torch.nn.functional
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        class RNN(torch.jit.ScriptModule):
            def __init__(self):
                super().__init__()
                self.eval()
                self.w = types.SimpleNamespace()
                for k, v in W.items():
                    setattr(self.w, k.replace(".", "_"), torch.tensor(v).float().squeeze())
                self.head = torch.nn.Linear(C, 2)

            @torch.jit.script_method
            def channel_mixing(self, x, state, i: int, time_mix_k, kw, vw, rw):
                xk = x * time_mix_k + state[i] * (1 - time_mix_k)
                state[i] = x
                r = torch.sigmoid(rw @ xk)
                k = torch.square(torch.relu(kw @ xk))
                return r * (vw @ k)

            def forward(self, x, state):
                with torch.no_grad():
                    w = self.w
                    x = F.layer_norm(x, (C,), weight=w.ln_weight, bias=w.ln_bias)
                    x = x + self.channel_mixing(x, state, 0, w.mix, w.kw, w.vw, w.rw)
                    return x, state

    m = RNN()
    state = torch.zeros(1, C)
    outs = []
    for t in TOKENS:
        out, state = m(torch.tensor(t).float(), state)
        outs.append(out)
    return [
        outs,
        state,
        m.training,
        isinstance(m, torch.nn.Module),
        isinstance(m, torch.jit.ScriptModule),
        list(m.state_dict()),
        [n for n, _ in m.named_parameters()],
    ]


def test_script_module_subclass_with_script_methods_port(torch):
    assert_same(rwkv_style_channel_mixing(glassgrad), rwkv_style_channel_mixing(torch))


def test_script_method_warns_deprecated_and_returns_the_method():
    def f(self, x):
        return x + 1

    with pytest.warns(DeprecationWarning, match="jit.script_method is deprecated"):
        assert glassgrad.jit.script_method(f) is f
    with pytest.raises(TypeError, match="jit.script_method: expected a Module or a function, got int"):
        glassgrad.jit.script_method(3)


def test_scripted_plain_module_is_still_not_a_script_module(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours = glassgrad.jit.script(glassgrad.nn.Linear(2, 2))
    # An eager Module is not a ScriptModule; a bare ScriptModule is a Module, as in PyTorch.
    assert not isinstance(ours, glassgrad.jit.ScriptModule)
    assert not isinstance(torch.nn.Linear(2, 2), torch.jit.ScriptModule)
    bare, theirs = glassgrad.jit.ScriptModule(), torch.jit.ScriptModule()
    assert isinstance(bare, glassgrad.nn.Module) and isinstance(theirs, torch.nn.Module)
    assert (repr(bare), bare.training) == (repr(theirs), theirs.training) == ("ScriptModule()", True)
