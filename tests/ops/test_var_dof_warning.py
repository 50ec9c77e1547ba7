"""var/std/var_mean/std_mean warn as PyTorch when no degrees of freedom are left (the reduction
factor, input numel / output numel, minus the correction is <= 0) and give its nan/inf; NYU-DLSP20
05-regression takes the variance over a stack of one prediction."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

CASES = [
    ("var", (1, 3), {"dim": 0}),  # one sample: the notebook's case
    ("std", (1, 3), {"dim": 0}),
    ("var", (0, 3), {"dim": 1}),  # empty output
    ("var", (3, 0), {"dim": 1}),  # empty reduction
    ("var", (0,), {}),
    ("var", (2,), {"correction": 2}),
    ("var", (2,), {"correction": 3}),
    ("var", (2,), {"correction": 0.5}),  # 1.5 left: no warning
    ("std", (2, 3), {"dim": 0}),  # no warning
    ("var", (1,), {"unbiased": False}),  # correction 0: no warning
    ("var_mean", (1, 3), {"dim": 0}),
    ("std_mean", (1, 3), {"dim": 0}),
]


def _run(lib, op, shape, kw):
    x = lib.arange(float(np.prod(shape))).reshape(shape)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = getattr(lib, op)(x, **kw)
    outs = out if isinstance(out, tuple) else (out,)
    messages = [str(w.message).split(" (Triggered")[0] for w in rec if w.category is UserWarning]
    return messages, [o.numpy() for o in outs]


@pytest.mark.parametrize("op, shape, kw", CASES)
def test_few_degrees_of_freedom_warn_as_torch(torch, op, shape, kw):
    ours, ours_out = _run(gg, op, shape, kw)
    theirs, theirs_out = _run(torch, op, shape, kw)
    assert ours == theirs
    for a, b in zip(ours_out, theirs_out):
        np.testing.assert_array_equal(a, b)


def test_the_warning_names_the_method_and_points_at_the_caller():
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0") as rec:
        gg.ones(1, 4).var(dim=0)
    assert rec[0].filename == __file__


def test_backward_does_not_warn_again_and_meta_does_not_warn():
    x = gg.ones(1, 3, requires_grad=True)
    with pytest.warns(UserWarning):
        y = x.std(dim=0).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward()
        gg.ones(1, 3, device="meta").var(dim=0)
