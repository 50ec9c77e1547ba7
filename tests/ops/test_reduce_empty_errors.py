"""Reductions without an identity over an empty dim raise PyTorch's error classes: IndexError for an
empty reduced dim (and argmax/argmin of an empty tensor), RuntimeError otherwise."""

from __future__ import annotations

import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

CASES = {
    "max(dim)": lambda m: m.zeros(2, 0).max(dim=-1),
    "min(dim)": lambda m: m.zeros(2, 0).min(dim=1),
    "amax(dim)": lambda m: m.zeros(0, 3).amax(0),
    "amin(dim)": lambda m: m.zeros(0, 3).amin(dim=0),
    "argmax(dim)": lambda m: m.zeros(2, 0).argmax(dim=1),
    "argmin(dim)": lambda m: m.zeros(2, 0).argmin(-1),
    "argmax()": lambda m: m.zeros(0, 3).argmax(),
    "argmin()": lambda m: m.zeros(0, 3).argmin(),
    "aminmax(dim)": lambda m: m.zeros(0, 3).aminmax(dim=0),
    "median(dim)": lambda m: m.zeros(2, 0).median(1),
    "mode(dim)": lambda m: m.zeros(0, 3).mode(0),
    "kthvalue(dim)": lambda m: m.zeros(0, 3).kthvalue(1, 0),
    "max()": lambda m: m.zeros(0, 3).max(),
    "amax()": lambda m: m.zeros(0).amax(),
    "aminmax()": lambda m: m.zeros(0).aminmax(),
    "inf norm(dim)": lambda m: m.zeros(0, 3).norm(float("inf"), dim=0),
    "inf norm()": lambda m: m.zeros(0, 3).norm(float("inf")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_class_matches_pytorch(torch, case):
    with pytest.raises(Exception) as theirs:
        CASES[case](torch)
    with pytest.raises(ShapeError, match="non-empty") as ours:
        CASES[case](gg)
    assert isinstance(ours.value, type(theirs.value)), (type(theirs.value), type(ours.value))
    # an IndexError only where PyTorch's is one
    assert isinstance(ours.value, IndexError) == isinstance(theirs.value, IndexError)
