"""``from torch.jit import script, trace`` (chatbot tutorial, docs/porting.md "Real scripts
ported"): TorchScript's names, run eagerly. Split from test_port_round5_sequence.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same


def script_jit_eager(torch):
    import importlib

    jit = importlib.import_module(f"{torch.__name__}.jit")
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    model.load_state_dict({"weight": torch.tensor(W32), "bias": torch.tensor(B32)})
    x = torch.tensor(X32)
    with warnings.catch_warnings():  # PyTorch 2.13 deprecates TorchScript
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = jit.script(model)
        traced = jit.trace(model, x)
    return [model(x), scripted(x), traced(x), jit.is_scripting()]


W32 = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
B32 = np.array([0.5, -0.25], dtype=np.float32)
X32 = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def test_jit_script_and_trace_run_eagerly_port(torch):
    assert_same(script_jit_eager(glassgrad), script_jit_eager(torch))


def test_jit_is_the_module_itself_and_refuses_archives(tmp_path):
    from glassgrad.jit import ignore, load, save, script, trace

    model = glassgrad.nn.Linear(2, 2)
    with pytest.warns(DeprecationWarning, match="jit.script is deprecated"):
        assert script(model) is model
    with pytest.warns(DeprecationWarning, match="jit.trace is deprecated"):
        assert trace(model, glassgrad.zeros(1, 2)) is model

    @ignore
    def f(x):
        return x

    assert f(3) == 3 and ignore(drop=True)(f) is f
    with pytest.raises(NotImplementedError, match="state_dict"):
        save(model, tmp_path / "m.pt")
    with pytest.raises(NotImplementedError):
        load(tmp_path / "m.pt")
    with pytest.raises(TypeError, match="jit.script: expected a Module or a function, got int"):
        script(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eager stand-ins themselves warn only as deprecated
        assert glassgrad.jit.is_tracing() is False
    assert glassgrad.jit is __import__("glassgrad.jit").jit


def test_jit_final_annotation_port(torch):
    # `factor: torch.jit.Final[int]` in a module's class body is evaluated when the class is made
    # (the chatbot tutorial has no `from __future__ import annotations`): it must subscript
    assert glassgrad.jit.Final[int] == torch.jit.Final[int]


def _main_script_stderr(lib: str) -> str:
    """stderr of a script's ``__main__`` that scripts and traces a Linear, default warning filters."""
    import os
    import subprocess
    import sys

    code = f"import {lib} as t\nm = t.nn.Linear(2, 1)\nt.jit.script(m)\nt.jit.trace(m, t.zeros(1, 2))\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_jit_deprecation_hidden_in_main_like_pytorch_port(torch):
    # d2l's hybridize section: PyTorch attributes its DeprecationWarning to torch/jit, so a script
    # run with Python's default filters shows nothing; glassgrad's used to point at the caller
    assert _main_script_stderr(torch.__name__) == ""
    assert _main_script_stderr("glassgrad") == ""
    with warnings.catch_warnings(record=True) as got:  # still raised, from glassgrad/jit.py
        warnings.simplefilter("always")
        glassgrad.jit.script(glassgrad.nn.Linear(2, 1))
    assert [w.category for w in got] == [DeprecationWarning]
    assert got[0].filename.endswith("jit.py")
