"""Random programs of views and in-place changes, run in glassgrad and in PyTorch: glassgrad must
raise at backward or give PyTorch's gradient, never a different one (the hand-written cases are in
``test_views_inplace.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from tests.autograd.view_programs import _compute  # the same computations as the second fuzzer

# ------------------------------------------------------------------ random programs against PyTorch
_VIEW_STEPS = [
    "slice",
    "t",
    "narrow",
    "unbind",
    "split",
    "diagonal",
    "select",
    "permute",
    "view",
    "unsqueeze",
]
_COMPUTE = ["square", "exp", "sigmoid", "tanh", "scale", "sum", "softmax"]
_TARGETS = ["base", "detach", "view", "other view", "clone", "none"]
_CHANGES = ["mul_", "add_", "zero_", "fill_", "copy_"]


def _apply_view(lib, t, step, plain=False):
    if step == "slice":
        return t[1:] if t.shape[0] > 1 else t[:]
    if step == "t":
        return t.t() if t.ndim == 2 else t
    if step == "narrow":
        return t.narrow(0, 0, max(1, t.shape[0] - 1)) if t.ndim else t
    if step == "unbind":  # plain: the same view by indexing (PyTorch forbids in-place on unbind's pieces)
        return (t[0] if plain else t.unbind(0)[0]) if t.ndim > 1 else t
    if step == "split":
        return (t[-1:] if plain else t.split(1, 0)[-1]) if t.ndim else t
    if step == "diagonal":
        return t.diagonal() if t.ndim == 2 else t
    if step == "select":
        return t.select(-1, 0) if t.ndim > 1 else t
    if step == "permute":
        return t.permute(*range(t.ndim - 1, -1, -1)) if t.ndim else t
    if step == "view":
        return t.view(-1) if t.is_contiguous() else t
    return t.unsqueeze(0)


def _change(lib, t, how):
    with lib.no_grad():
        if how == "mul_":
            t.mul_(2.0)
        elif how == "add_":
            t.add_(1.0)
        elif how == "zero_":
            t.zero_()
        elif how == "fill_":
            t.fill_(0.5)
        else:
            t.copy_(lib.ones_like(t) * 0.25)


def _run(lib, program, plain=False):
    steps, other_steps, kind, target, how, before = program
    w = lib.tensor(np.linspace(0.1, 1.2, 12).reshape(3, 4), dtype=lib.float64, requires_grad=True)
    v = w
    for s in steps:
        v = _apply_view(lib, v, s, plain)
    other = w
    for s in other_steps:
        other = _apply_view(lib, other, s, plain)
    victim = {
        "base": w,
        "detach": w.detach(),
        "view": v,
        "other view": other,
        "clone": w.clone(),
        "none": None,
    }[target]
    if before and victim is not None:
        _change(lib, victim, how)
    y = _compute(lib, v, kind)
    if not before and victim is not None:
        _change(lib, victim, how)
    try:
        y.backward()
    except (RuntimeError, ValueError) as e:
        return ("raised", str(e))
    return ("grad", np.array(w.grad.tolist()))


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.sampled_from(_VIEW_STEPS), min_size=0, max_size=3),
    other_steps=st.lists(st.sampled_from(_VIEW_STEPS), min_size=1, max_size=2),
    kind=st.sampled_from(_COMPUTE),
    target=st.sampled_from(_TARGETS),
    how=st.sampled_from(_CHANGES),
    before=st.booleans(),
)
def test_random_views_and_inplace_changes_raise_or_match_torch(steps, other_steps, kind, target, how, before):
    torch = pytest.importorskip("torch")
    program = (steps, other_steps, kind, target, how, before)
    ours = _run(gg, program)
    theirs = _run(torch, program, plain=True)
    if ours[0] == "raised":
        assert isinstance(ours[1], str)  # raising is always safe; a wrong gradient is not
        return
    assert theirs[0] == "grad", f"glassgrad gave a gradient where PyTorch raised: {program}: {theirs[1]}"
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12, err_msg=str(program))
