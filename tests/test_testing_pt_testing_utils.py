"""``testing.assert_close``, ``isclose`` and ``make_tensor`` against PyTorch's (round 67, the cases
of PyTorch's ``test/test_testing.py``): the error messages' text, the order in which structure
and type errors win over value mismatches, ``allow_subclasses``, sparse COO comparison, and
``isclose`` on integers."""

from __future__ import annotations

import collections
import itertools
import math
import warnings

import numpy as np
import pytest

import glassgrad as gg


def _message(mod, actual, expected, **kw):
    """``(exception class name, text)`` of ``mod.testing.assert_close``, or ``("ok", "")``."""
    try:
        mod.testing.assert_close(actual, expected, **kw)
    except Exception as ex:  # the class is part of what is compared
        return type(ex).__name__, str(ex)
    return "ok", ""


def _both(torch, build, **kw):
    """The same inputs built by each library (``build(mod)`` -> ``(actual, expected)``), compared."""
    return _message(torch, *build(torch), **kw), _message(gg, *build(gg), **kw)


MESSAGE_CASES = {
    "int tensors": lambda m: (m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 2], [5, 4]])),
    "int relative": lambda m: (m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 4], [3, 4]])),
    "uint8 no wrap": lambda m: (m.tensor([0], dtype=m.uint8), m.tensor([255], dtype=m.uint8)),
    "bool tensors": lambda m: (m.tensor([True, False]), m.tensor([True, True])),
    "float32": lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.5, 3.5])),
    "float64 nan": lambda m: (
        m.tensor([1.0, math.nan], dtype=m.float64),
        m.tensor([1.0, 2.0], dtype=m.float64),
    ),
    "inf vs -inf": lambda m: (m.tensor([math.inf, 1.0]), m.tensor([-math.inf, 1.0])),
    "zero over zero matched": lambda m: (m.tensor([1.0, 0.0]), m.tensor([2.0, 0.0])),
    "0-d tensors": lambda m: (m.tensor(2.0), m.tensor(4.0)),
    "python ints": lambda m: (3, 5),
    "python floats": lambda m: (2.0, 4.0),
    "nan scalar": lambda m: (math.nan, 1.0),
    "booleans": lambda m: (True, False),
    "none": lambda m: (1, None),
    "sequence item": lambda m: ((m.tensor(1), m.tensor(1)), (m.tensor(1), m.tensor(2))),
    "nested mapping item": lambda m: ({"a": [m.tensor(1), {"c": 1}]}, {"a": [m.tensor(1), {"c": 2}]}),
    "sequence length": lambda m: ((m.zeros(()),), ()),
    "mapping keys": lambda m: ({"a": m.zeros(()), "b": 1}, {"b": 1, "c": 2}),
    "shape": lambda m: (m.zeros(2, 3), m.zeros(3, 2)),
    "stride ignored": lambda m: (
        m.arange(6.0).reshape(2, 3),
        m.arange(6.0).reshape(3, 2).t().contiguous().t(),
    ),
    "numpy arrays": lambda m: (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    "numpy scalar": lambda m: (np.float32(1.0), np.float32(1.5)),
    "number types": lambda m: (1, 1.0),
    "tensor vs number": lambda m: (m.zeros(1), 0.0),
    "strings": lambda m: ("0", "0"),
    "tuple vs dict": lambda m: ((m.tensor(1),), {"a": m.tensor(1)}),
}


@pytest.mark.parametrize("name", list(MESSAGE_CASES))
def test_messages_as_pytorch(torch, name):
    want, got = _both(torch, MESSAGE_CASES[name])
    assert got == (want[0], want[1].replace("torch.", "glassgrad.")), name


@pytest.mark.parametrize("rtol, atol", [(1e-3, 0.0), (0.0, 1e-3), (1.3e-6, 1e-5), (0.0, 0.0), (0, 0.5)])
def test_message_tolerances_as_pytorch(torch, rtol, atol):
    want, got = _both(torch, lambda m: (m.tensor((1, 2)), m.tensor((2, 2))), rtol=rtol, atol=atol)
    assert got == want


def test_attribute_messages_as_pytorch(torch):
    def stride(m):
        a = m.zeros((2, 2))
        return a, m.as_strided(a.clone().t().contiguous(), a.shape, a.stride()[::-1])

    cases = [
        (lambda m: (m.zeros(2), m.zeros(2, dtype=m.float64)), {}),
        (stride, {"check_stride": True}),
        (lambda m: (m.zeros((2, 2)), m.zeros((2, 2)).to_sparse()), {}),
        (lambda m: (m.ones((), dtype=m.float32), m.ones((), dtype=m.int32)), {"check_dtype": False}),
    ]
    for build, kw in cases:
        want, got = _both(torch, build, **kw)
        assert got == (want[0], want[1].replace("torch.", "glassgrad.")), kw


def test_msg_replaces_comparison_errors_only(torch):
    """A string ``msg`` replaces the text of a value or attribute mismatch and a callable maps it;
    structure and type errors keep their own text (PyTorch raises them before comparing)."""
    cases = [
        (lambda m: (m.tensor(1), m.tensor(2)), "Custom!"),
        (lambda m: (m.tensor(1), m.tensor(2)), lambda s: "X" + s[:20]),
        (lambda m: (m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)), "Custom!"),
        (lambda m: ([m.tensor(1)], [m.tensor(1), m.tensor(2)]), "Custom!"),
        (lambda m: ([m.tensor(1)], [np.ones(1)]), "Custom!"),
    ]
    for build, msg in cases:
        want, got = _both(torch, build, msg=msg)
        assert got == (want[0], want[1].replace("torch.", "glassgrad."))


def test_structure_and_type_errors_come_before_values(torch):
    """A TypeError at a later item wins over a value mismatch at an earlier one, and mapping items
    are compared in sorted key order, as PyTorch's."""
    cases = [
        lambda m: ([m.tensor(1), m.tensor(1)], [m.tensor(2), "x"]),
        lambda m: ([m.tensor(1), [1]], [m.tensor(2), [1, 2]]),
        lambda m: ({"b": m.tensor(1), "a": m.tensor(1)}, {"b": m.tensor(2), "a": m.tensor(2)}),
    ]
    for build in cases:
        want, got = _both(torch, build)
        assert got == (want[0], want[1].replace("torch.", "glassgrad."))


def _wrapped(actual, expected):
    od = collections.OrderedDict
    return [
        (actual, expected), ((actual,), [expected]), ({"t": actual}, od([("t", expected)])),
        ([{"t": actual}], (od([("t", expected)]),)),
    ]  # fmt: skip


def test_allow_subclasses_false_refuses_a_parameter(torch):
    for mod in (torch, gg):
        a = mod.zeros(())
        for actual, expected in _wrapped(a, mod.nn.Parameter(a)):
            mod.testing.assert_close(actual, expected)
            with pytest.raises(TypeError, match=str(type(mod.nn.Parameter(a))).replace(".", r"\.")):
                mod.testing.assert_close(actual, expected, allow_subclasses=False)
        mod.testing.assert_close(a, a.clone(), allow_subclasses=False)


def _coo(mod, indices, values):
    return mod.sparse_coo_tensor(indices, values, size=(2, 2))


SPARSE_CASES = {
    "same coalesced": lambda m: (
        _coo(m, ((0, 1), (1, 0)), (1, 2)).coalesce(),
        _coo(m, ((0, 1), (1, 0)), (1, 2)).coalesce(),
    ),
    "same uncoalesced": lambda m: (_coo(m, ((0, 1), (1, 0)), (1, 2)), _coo(m, ((0, 1), (1, 0)), (1, 2))),
    "nnz": lambda m: (
        _coo(m, ((0, 1), (1, 0)), (1, 2)).coalesce(),
        _coo(m, ((0, 1, 1), (1, 0, 0)), (1, 1, 1)),
    ),
    "indices": lambda m: (_coo(m, ((0, 1), (1, 0)), (1, 2)), _coo(m, ((0, 1), (1, 1)), (1, 2))),
    "values": lambda m: (_coo(m, ((0, 1), (1, 0)), (1, 2)), _coo(m, ((0, 1), (1, 0)), (1, 3))),
}


@pytest.mark.parametrize("name", list(SPARSE_CASES))
def test_sparse_coo_compared_as_stored(torch, name):
    want, got = _both(torch, SPARSE_CASES[name])
    assert got == want


def test_isclose_integers_exact_and_unwrapped(torch):
    """NumPy's isclose read 2**53 and 2**53 + 1 as close (a float64 cast) and let uint8 differences
    wrap; PyTorch compares integers exactly at zero tolerance and their errors in float32."""
    a = gg.tensor(2**53, dtype=gg.int64)
    assert not gg.isclose(a, a + 1, rtol=0, atol=0) and not gg.allclose(a, a + 1, rtol=0, atol=0)
    values = [0, 1, -1, 100, -100, 200, 2**53, 2**53 + 1, 0.5, math.nan, math.inf, -math.inf, 1 + 1e-7]
    tolerances = [(0.5, 1.5), (0.0, 0.0), (1e-3, 0.0), (1e-5, 1e-8), (0.0, 1e-7)]
    for dt in ("bool", "uint8", "int8", "int64", "float16", "float32", "float64", "complex128"):
        for x, y in itertools.product(values, repeat=2):
            try:
                ta, tb = torch.tensor([x]).to(getattr(torch, dt)), torch.tensor([y]).to(getattr(torch, dt))
            except (RuntimeError, OverflowError):
                continue
            ga, gb = gg.tensor(ta.numpy()), gg.tensor(tb.numpy())
            for (rtol, atol), equal_nan in itertools.product(tolerances, (False, True)):
                want = torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan).item()
                got = gg.isclose(ga, gb, rtol=rtol, atol=atol, equal_nan=equal_nan).item()
                assert got == want, (dt, x, y, rtol, atol, equal_nan)


@pytest.mark.parametrize(
    "dtype, delta",
    [("float16", 5e-4), ("float32", 5e-5), ("float32", 2e-4), ("float64", 5e-6), ("float64", 2e-5)],
)
@pytest.mark.parametrize("base", [1.0, 0.0])
def test_assert_allclose_default_tolerances(torch, dtype, delta, base):
    """The deprecated ``assert_allclose`` has looser defaults than ``assert_close`` (float32: rtol
    1e-4), so a difference of 5e-5 on 1.0 passes there."""
    outcomes = []
    for mod in (torch, gg):
        a = mod.tensor([base], dtype=getattr(mod, dtype))
        e = mod.tensor([base + delta], dtype=getattr(mod, dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            try:
                mod.testing.assert_allclose(a, e)
                outcomes.append("ok")
            except AssertionError:
                outcomes.append("AssertionError")
    assert outcomes[1] == outcomes[0]


def test_make_tensor_argument_checks(torch):
    """A bool interval outside [0, 2) and ``noncontiguous`` with ``memory_format`` are refused."""
    calls = [
        {"dtype": "bool", "low": 2, "high": 4},
        {"dtype": "bool", "low": 2, "high": 3},
        {"dtype": "bool", "low": 1, "high": 1},
        {"dtype": "float32", "noncontiguous": True, "memory_format": "channels_last", "shape": (2, 3, 4, 5)},
    ]
    for kw in calls:
        kw = dict(kw)
        shape = kw.pop("shape", (2, 3))
        for mod in (torch, gg):
            args = {k: getattr(mod, v) if k in ("dtype", "memory_format") else v for k, v in kw.items()}
            with pytest.raises(ValueError):
                mod.testing.make_tensor(shape, device="cpu", **args)
    for mod in (torch, gg):
        t = mod.testing.make_tensor((200,), device="cpu", dtype=mod.bool, low=1, high=2)
        assert (
            t.all()
            and mod.testing.make_tensor((200,), device="cpu", dtype=mod.bool, low=0, high=1)
            .logical_not()
            .all()
        )


def test_kept_differences_device_optional_and_bool_numbers():
    """(docs/design.md) ``make_tensor`` without ``device`` makes a CPU tensor; a bool compared with
    a number is compared as a number (its type checked under ``check_dtype``)."""
    t = gg.testing.make_tensor((2, 3), dtype=gg.float32)
    assert t.device.type == "cpu" and t.shape == (2, 3)
    with pytest.raises(AssertionError, match=r"The \(d\)types do not match: <class 'bool'> != <class 'int'>"):
        gg.testing.assert_close(True, 1)
    gg.testing.assert_close(True, 1, check_dtype=False)
    with pytest.raises(AssertionError, match="Scalars are not equal"):
        gg.testing.assert_close(True, 2, check_dtype=False)
