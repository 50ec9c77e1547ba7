"""Port round 50 (fast.ai course22p2's ``miniai`` and its notebooks): every notebook starts with
``torch.set_printoptions(precision=2, linewidth=125, sci_mode=False)``. The defects it showed, in
``set_printoptions``, against PyTorch: ``sci_mode`` was ignored, a ``profile`` overrode the
options passed with it, and ``threshold=float('inf')`` raised OverflowError."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import glassgrad as gg


@pytest.fixture
def restore_printoptions():
    yield
    gg.set_printoptions(profile="default")
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_printoptions"):
        torch.set_printoptions(profile="default")


def _values():
    """Tensors whose automatic mode differs between entries: wide ranges, tiny and huge values,
    integers, zeros, non-finite entries, scalars, complex, float16 and a summarised one."""
    rng = np.random.default_rng(0)
    out = [
        np.array([1e-8, 1.0, 1e5], np.float32),
        np.array([100000.0, 1.0], np.float32),
        np.array([0.5, 2.0, 3.0]),
        np.array([1.0, 2e9]),
        np.array([3.0, 40000.0]),  # integers: fixed `3.` unless forced
        np.array([0.0, -0.0, np.nan, np.inf]),  # no non-zero finite entry: the override does nothing
        np.zeros(3, np.float32),
        np.array(2.5e-7),
        np.array(3.0),
        np.array([1 + 2e-6j, 0.5 - 1e4j]),
        np.array([1.5, 2000.0], np.float16),
        rng.uniform(0, 1, 2000).astype(np.float32),  # summarised: the mode from the edges
        (rng.standard_normal((3, 7)) * 1e6).astype(np.float32),
    ]
    for _ in range(40):
        a = rng.standard_normal(int(rng.integers(1, 9))) * 10.0 ** int(rng.integers(-9, 10))
        out.append(np.round(a) if rng.integers(2) else a)
    return out


@pytest.mark.parametrize(
    "opts",
    [
        dict(sci_mode=False),
        dict(sci_mode=True),
        dict(precision=2, linewidth=125, sci_mode=False),  # miniai's notebooks
        dict(precision=3, linewidth=60, sci_mode=True),
        dict(precision=2),  # sci_mode left out: back to the automatic choice
    ],
)
def test_set_printoptions_sci_mode_matches_pytorch(torch, restore_printoptions, opts):
    torch.set_printoptions(sci_mode=True)  # left over from an earlier call: each call resets it
    gg.set_printoptions(sci_mode=True)
    torch.set_printoptions(**opts)
    gg.set_printoptions(**opts)
    for a in _values():
        want = repr(torch.tensor(a))
        got = repr(gg.tensor(a)).replace("glassgrad.", "torch.")
        assert got == want, (opts, a)


def test_sci_mode_false_prints_fixed_point_by_hand(restore_printoptions):
    gg.set_printoptions(precision=2, sci_mode=False)
    # PyTorch's width is the widest fixed-point entry; the automatic mode would be scientific
    assert repr(gg.tensor([1e-8, 1.0, 1e5])) == "tensor([     0.00,      1.00, 100000.00])"
    gg.set_printoptions(sci_mode=True)  # precision stays 2; integers too are scientific
    assert repr(gg.tensor([1.0, 2.0])) == "tensor([1.00e+00, 2.00e+00])"
    gg.set_printoptions()  # sci_mode=None again: the automatic mode
    assert repr(gg.tensor([1.0, 2.0])) == "tensor([1., 2.])"


@pytest.mark.parametrize("profile", ["default", "short", "full"])
def test_profile_then_the_options_passed_with_it(torch, restore_printoptions, profile):
    """PyTorch applies the profile first, then the options given in the same call."""
    x = np.random.default_rng(1).standard_normal(1200) * 3
    for lib in (torch, gg):
        lib.set_printoptions(profile=profile, precision=2, edgeitems=1, linewidth=50)
    assert repr(gg.tensor(x)).replace("glassgrad.", "torch.") == repr(torch.tensor(x))
    for lib in (torch, gg):  # an unknown profile changes nothing, the options still apply
        lib.set_printoptions(profile="nope", precision=5)
    assert repr(gg.tensor(x[:5])).replace("glassgrad.", "torch.") == repr(torch.tensor(x[:5]))


def test_threshold_inf_never_summarises(torch, restore_printoptions):
    x = np.arange(1500.0) / 7
    for lib in (torch, gg):
        lib.set_printoptions(threshold=math.inf)
    got = repr(gg.tensor(x))
    assert "..." not in got
    assert got.replace("glassgrad.", "torch.") == repr(torch.tensor(x))
