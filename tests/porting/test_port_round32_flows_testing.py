"""Round 32, normalizing flows: normflows' own tests do ``from torch.testing import assert_close``
(``assert_close(inputs_, inputs)`` after a flow's forward and inverse; ``atol=, rtol=`` in
flow_test.py). glassgrad had no ``testing`` module. Each case is run in both libraries: pass or
the same exception type; the dtype-derived tolerances are checked at their edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad


def _cases(t):
    f32 = t.float32
    return {
        "round_trip": (t.tensor([1.0, 2.0, 3.0]), t.tensor([1.0, 2.0, 3.0 + 2e-6])),
        "far": (t.tensor([1.0, 2.0, 3.0]), t.tensor([1.0, 2.5, 3.0])),
        "f32_edge_in": (t.tensor([1.0]), t.tensor([1.0 + 1e-5])),
        "f64_edge_out": (t.tensor([1.0], dtype=t.float64), t.tensor([1.0 + 1e-6], dtype=t.float64)),
        "f64_edge_in": (t.tensor([1.0], dtype=t.float64), t.tensor([1.0 + 1.5e-7], dtype=t.float64)),
        "dtype": (t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0], dtype=t.float64)),
        "shape": (t.tensor([1.0, 2.0]), t.tensor([[1.0, 2.0]])),
        "tensor_vs_float": (t.tensor(1.0), 1.0),
        "tensor_vs_ndarray": (t.tensor([1.0]), np.array([1.0])),
        "int_vs_float": (1, 1.0),
        "floats": (1.0, 1.0 + 1e-9),
        "floats_far": (1.0, 1.0001),
        "ints": (t.tensor([1, 2]), t.tensor([1, 3])),
        "bools": (t.tensor([True]), t.tensor([False])),
        "nan": (t.tensor([math.nan]), t.tensor([math.nan])),
        "inf": (t.tensor([math.inf]), t.tensor([math.inf])),
        "neg_inf": (t.tensor([math.inf]), t.tensor([-math.inf])),
        "requires_grad": (t.tensor(1.0, requires_grad=True), t.tensor(1.0)),
        "list_tuple": ((t.tensor(1.0),), [t.tensor(1.0)]),
        "list_len": ([1, 2], [1]),
        "list_item": ([t.tensor(1.0)], [t.tensor(2.0)]),
        "dict_keys": ({"a": 1}, {"b": 1}),
        "dict_nested": ({"a": [t.zeros(2, dtype=f32)]}, {"a": [t.tensor([0.0, 1.0])]}),
        "ndarrays": (np.array([1.0]), np.array([1.1])),
        "complex": (t.tensor([1 + 1j]), t.tensor([1 + 2j])),
        "strings": ("a", "a"),
        "empty": (t.zeros(0), t.zeros(0)),
    }


def _outcome(t, a, e, **kw):
    try:
        t.testing.assert_close(a, e, **kw)
    except Exception as err:  # the kind of failure is what is compared
        return type(err).__name__
    return None


@pytest.mark.parametrize("name", list(_cases(glassgrad)))
def test_assert_close_outcomes_match_pytorch(torch, name):
    ours, theirs = _cases(glassgrad)[name], _cases(torch)[name]
    assert _outcome(glassgrad, *ours) == _outcome(torch, *theirs)


@pytest.mark.parametrize(
    "kw",
    [dict(atol=1e-3, rtol=0.0), dict(rtol=0.2, atol=0.0), dict(rtol=0.2), dict(check_dtype=False),
     dict(equal_nan=True), dict(msg="boom")],
)  # fmt: skip
def test_assert_close_keywords_match_pytorch(torch, kw):
    outcomes = {}
    for t in (glassgrad, torch):
        pairs = [
            (t.tensor([1.0, 5.0]), t.tensor([1.0, 5.0005])),
            (t.tensor([1.0]), t.tensor([1.1])),
            (t.tensor([1, 2]), t.tensor([1.0, 2.0])),
            (t.tensor([math.nan, 1.0]), t.tensor([math.nan, 1.0])),
        ]
        outcomes[t.__name__] = [_outcome(t, a, e, **kw) for a, e in pairs]
    assert outcomes["glassgrad"] == outcomes["torch"]


def test_assert_close_message_names_the_worst_element():
    with pytest.raises(AssertionError) as info:
        glassgrad.testing.assert_close(
            glassgrad.tensor([[1.0, 2.0], [3.0, 4.0]]), glassgrad.tensor([[1.0, 2.0], [3.0, 5.0]])
        )
    text = str(info.value)
    assert text.startswith("Tensor-likes are not close")
    assert "Mismatched elements: 1 / 4" in text and "(1, 1)" in text and "0.2" in text
    with pytest.raises(AssertionError, match="^Xboom"):
        glassgrad.testing.assert_close(
            glassgrad.tensor(1.0), glassgrad.tensor(2.0), msg=lambda m: "Xboom " + m
        )
    with pytest.raises(AssertionError, match=r"occurred for item \['a'\]\[0\]"):
        glassgrad.testing.assert_close({"a": [glassgrad.tensor([1.0])]}, {"a": [glassgrad.tensor([2.0])]})


def test_testing_importable_as_pytorch():
    from glassgrad.testing import assert_close  # as `from torch.testing import assert_close`

    assert assert_close is glassgrad.testing.assert_close
