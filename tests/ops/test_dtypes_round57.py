"""Round 57's dtype fuzz (glassgrad against PyTorch 2.13 over every pair of shared dtypes, 0-d,
1-d and broadcast shapes, Python numbers): the classes it found, reduced and pinned here.

Descending sorts of integers holding the type's minimum, subtraction with a bool operand through
every path (operator, in-place, ``out=``, ``alpha=``), ``//`` and ``%`` of two bools, Python
numbers outside an integer dtype given to ``tensor()``, and shifts, ``gcd`` and ``lcm`` with a
bool operand beside an integer one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg

INTS = ["int8", "int16", "int32", "int64"]


def _np(t):
    return t.detach().numpy()


def _same(torch_out, gg_out):
    assert str(gg_out.dtype).split(".")[-1] == str(torch_out.dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(gg_out), _np(torch_out))


# ---------------------------------------------------------------- descending integer sorts
def _int_data(name):
    rs = np.random.RandomState(57)
    if name == "bool":
        return rs.randint(0, 2, 70).astype(bool)
    info = np.iinfo(name)
    data = rs.randint(-5, 6, 70).astype(np.int64)
    data[[0, 9, 33]] = int(info.min)
    data[[4, 50]] = int(info.max)
    return data.astype(name)


_SORTS = {
    "sort": lambda L, x: L.sort(x, descending=True),
    "sort dim 0": lambda L, x: L.sort(x.reshape(7, 10), dim=0, descending=True),
    "topk": lambda L, x: L.topk(x, 5),
    "topk 20": lambda L, x: L.topk(x, 20),
    "topk smallest": lambda L, x: L.topk(x, 5, largest=False),
}


_SORT_CASES = [(n, h) for n, h in itertools.product(INTS + ["uint8", "bool"], _SORTS)]
_SORT_CASES = [
    (n, h) for n, h in _SORT_CASES if not (n == "bool" and h.startswith("topk"))
]  # none in PyTorch


@pytest.mark.parametrize(("name", "how"), _SORT_CASES)
def test_descending_sort_and_topk_of_integers_holding_the_minimum_match_torch(torch, name, how):
    # -x wrapped the minimum onto itself: int16 -32768 was sorted first, as the largest
    data = _int_data(name)
    want = _SORTS[how](torch, torch.tensor(data))
    got = _SORTS[how](gg, gg.tensor(data))
    _same(want.values, got.values)
    # the indices pick those values (PyTorch's order among equal values is unspecified)
    source = gg.tensor(data).reshape(7, 10) if how == "sort dim 0" else gg.tensor(data)
    picked = gg.gather(source, 0 if how == "sort dim 0" else -1, got.indices)
    np.testing.assert_array_equal(_np(picked), _np(want.values))


def test_descending_argsort_and_msort_of_integers_match_torch(torch):
    for name in INTS + ["uint8"]:
        data = _int_data(name)
        want = torch.argsort(torch.tensor(data), descending=True, stable=True)
        _same(want, gg.argsort(gg.tensor(data), descending=True, stable=True))
        _same(torch.msort(torch.tensor(data)), gg.msort(gg.tensor(data)))


# ---------------------------------------------------------------- subtraction with a bool operand
_SUBS = {
    "operator": lambda L, a, b: a - b,
    "function": lambda L, a, b: L.sub(a, b),
    "alpha": lambda L, a, b: L.sub(a, b, alpha=2),
    "method alpha": lambda L, a, b: a.sub(b, alpha=3),
    "in-place": lambda L, a, b: a.sub_(b),
    "in-place operator": lambda L, a, b: a.__isub__(b),
    "out": lambda L, a, b: L.sub(a, b, out=L.empty(3, dtype=L.int64)),
}


@pytest.mark.parametrize("how", list(_SUBS))
@pytest.mark.parametrize("pair", ["bool-uint8", "int32-bool", "bool-bool", "int64-True", "True-uint8"])
def test_subtraction_with_a_bool_operand_is_refused_as_torch(torch, pair, how):
    # the promotion hid the bool: bool - uint8 ran as uint8 and gave 256 - x
    def make(L, spec):
        if spec == "True":
            return True
        data = [True, False, True] if spec == "bool" else [3, 0, 7]
        return L.tensor(data, dtype=getattr(L, spec))

    left, right = pair.split("-")
    if left == "True" and how not in ("operator", "function"):
        return  # a number has no methods
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with (a bool tensor|two bool)"):
        _SUBS[how](torch, make(torch, left), make(torch, right))
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with (a bool tensor|two bool)"):
        _SUBS[how](gg, make(gg, left), make(gg, right))


def test_subtraction_without_bool_operands_still_matches_torch(torch):
    for lib_a, lib_b in itertools.product(["uint8", "int8", "int64", "float32"], repeat=2):
        a, b = np.array([3, 0, 200]), np.array([5, 1, 7])
        want = torch.sub(
            torch.tensor(a, dtype=getattr(torch, lib_a)),
            torch.tensor(b, dtype=getattr(torch, lib_b)),
            alpha=2,
        )
        got = gg.sub(gg.tensor(a, dtype=getattr(gg, lib_a)), gg.tensor(b, dtype=getattr(gg, lib_b)), alpha=2)
        _same(want, got)


# ---------------------------------------------------------------- // and % of two bools
@pytest.mark.parametrize(
    "fn",
    [
        lambda L, a, b: a // b,
        lambda L, a, b: a % b,
        lambda L, a, b: L.div(a, b, rounding_mode="floor"),
        lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
        lambda L, a, b: L.remainder(a, b),
    ],
    ids=["floordiv", "mod", "div floor", "div trunc", "remainder"],
)
def test_floor_division_and_remainder_of_two_bools_are_refused_as_torch(torch, fn):
    # NumPy's kernels gave int8 (a dtype PyTorch never returns for them)
    for lib, error in ((torch, NotImplementedError), (gg, gg.errors.DTypeError)):
        a = lib.tensor([True, False, True])
        for b in (lib.tensor([True, True, True]), lib.tensor(True), True):
            with pytest.raises(error):
                fn(lib, a, b)
    # one bool beside an integer promotes, as PyTorch
    for spec in ([5, 7, 9], 3):
        want = fn(
            torch, torch.tensor([True, False, True]), torch.tensor(spec) if isinstance(spec, list) else spec
        )
        got = fn(gg, gg.tensor([True, False, True]), gg.tensor(spec) if isinstance(spec, list) else spec)
        _same(want, got)


# ---------------------------------------------------------------- tensor() of numbers an integer dtype cannot hold
_FITS = [
    ([-1, 255], "uint8"),  # -max..-1 wraps into an unsigned type, as PyTorch
    ([-255], "uint8"),
    ([-128, 127], "int8"),
    ([2.7, -2.7], "int32"),  # the fraction dropped
    ([[1, 2**31 - 1]], "int32"),
    ([True, 3], "int16"),
    ([255.0, 0.5], "uint8"),
    (2.0**63, "int64"),  # 2**63 - 1 is 2**63 as a double: PyTorch's check lets it through
    ([1, 2], "uint64"),
]
_OVERFLOWS = [
    (300, "uint8"),
    ([1, 300], "uint8"),
    ([-256], "uint8"),
    ([128], "int8"),
    ([[1, 2**40]], "int32"),
    ([True, 300], "uint8"),
    (float("nan"), "int64"),
    ([float("inf")], "int32"),
    ([3e9], "int32"),
    ([255.9], "uint8"),
    ([-1.5], "uint8"),
    ([-128.9], "int8"),
]


@pytest.mark.parametrize(("data", "name"), _FITS, ids=[f"{d}-{n}" for d, n in _FITS])
def test_tensor_of_numbers_that_fit_an_integer_dtype_matches_torch(torch, data, name):
    _same(torch.tensor(data, dtype=getattr(torch, name)), gg.tensor(data, dtype=getattr(gg, name)))


@pytest.mark.parametrize(("data", "name"), _OVERFLOWS, ids=[f"{d}-{n}" for d, n in _OVERFLOWS])
def test_tensor_of_numbers_past_an_integer_dtype_is_refused_as_torch(torch, data, name):
    # NumPy wrapped them: tensor(300, dtype=uint8) was 44, tensor(nan, dtype=int64) the minimum
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.tensor(data, dtype=getattr(torch, name))
    with pytest.raises(OverflowError, match="without overflow"):
        gg.tensor(data, dtype=getattr(gg, name))
    with pytest.raises(OverflowError, match="without overflow"):
        gg.as_tensor(data, dtype=getattr(gg, name))


def test_tensor_of_arrays_keeps_the_cast_of_to(torch):
    # an ndarray's values are cast as .to() casts (no check in PyTorch either)
    data = np.array([300, -1, 7])
    _same(torch.tensor(data, dtype=torch.uint8), gg.tensor(data, dtype=gg.uint8))


# ---------------------------------------------------------------- shifts, gcd and lcm with a bool operand
_BOOL_INT = {
    "int << bool": lambda L, i, b: i << b,
    "bool >> int": lambda L, i, b: b >> i,
    "bool << number": lambda L, i, b: b << 1,
    "number << bool": lambda L, i, b: 1 << b,
    "int << True": lambda L, i, b: i << True,
    "0-d bool << int": lambda L, i, b: L.tensor(True) << i,
    "in-place int <<= bool": lambda L, i, b: i.__ilshift__(b),
    "bitwise_right_shift": lambda L, i, b: L.bitwise_right_shift(i, b),
    "gcd": lambda L, i, b: L.gcd(i, b),
    "gcd bool first": lambda L, i, b: L.gcd(b, i),
    "lcm": lambda L, i, b: L.lcm(i, b),
}


@pytest.mark.parametrize("how", list(_BOOL_INT))
@pytest.mark.parametrize("name", ["uint8", "int8", "int32", "int64"])
def test_shifts_gcd_lcm_with_one_bool_operand_match_torch(torch, name, how):
    # glassgrad refused the bool operand; PyTorch promotes it (0 and 1 of the integer type)
    data, mask = np.array([3, 12, 100, 0, 7]), np.array([True, False, True, True, False])
    want = _BOOL_INT[how](torch, torch.tensor(data, dtype=getattr(torch, name)), torch.tensor(mask))
    got = _BOOL_INT[how](gg, gg.tensor(data, dtype=getattr(gg, name)), gg.tensor(mask))
    _same(want, got)


@pytest.mark.parametrize(
    "fn",
    [lambda L, b: b << b, lambda L, b: b >> True, lambda L, b: L.gcd(b, b), lambda L, b: L.lcm(b, b)],
    ids=["shift", "shift True", "gcd", "lcm"],
)
def test_shifts_gcd_lcm_of_two_bools_are_refused_as_torch(torch, fn):
    with pytest.raises(NotImplementedError):
        fn(torch, torch.tensor([True, False]))
    with pytest.raises(gg.errors.DTypeError, match="expected integer"):
        fn(gg, gg.tensor([True, False]))


# ---------------------------------------------------------------- linspace with complex ends
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_linspace_with_a_complex_end_infers_the_complex_dtype_as_torch(torch, default):
    # glassgrad made the default float dtype and failed on float(1j)
    cases = [(0, 1j, 3), (1 + 1j, 2, 4), (-2.5j, 0.5, 5), (0, 2j, 1)]
    try:
        torch.set_default_dtype(getattr(torch, default))
        gg.set_default_dtype(getattr(gg, default))
        for start, end, steps in cases:
            want = torch.linspace(start, end, steps)
            got = gg.linspace(start, end, steps)
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            np.testing.assert_allclose(
                _np(got), _np(want), rtol=0, atol=1e-15 if default == "float64" else 1e-7
            )
        _same(torch.linspace(0, 1, 3), gg.linspace(0, 1, 3))
    finally:
        torch.set_default_dtype(torch.float32)
        gg.set_default_dtype(gg.float32)


def test_gcd_lcm_of_two_integer_types_promote_as_torch(torch):
    a, b = np.array([12, 200, 0, 9]), np.array([-8, 6, 5, 3])
    for (na, nb), fn in itertools.product(
        itertools.product(["uint8", "int8", "int32"], repeat=2), ["gcd", "lcm"]
    ):
        if nb == "uint8":
            continue  # (b holds a negative number)
        want = getattr(torch, fn)(
            torch.tensor(a, dtype=getattr(torch, na)), torch.tensor(b, dtype=getattr(torch, nb))
        )
        got = getattr(gg, fn)(gg.tensor(a, dtype=getattr(gg, na)), gg.tensor(b, dtype=getattr(gg, nb)))
        _same(want, got)


# ---------------------------------------------------------------- an integer exponent past the tensor's type
def test_integer_power_by_an_exponent_past_the_type_is_refused_as_torch(torch):
    # glassgrad wrapped the exponent into the type: uint8 ** 300 was uint8 ** 44
    for name, exponent in [("uint8", 300), ("uint8", 256), ("int8", 200), ("int32", 2**31)]:
        for fn in (lambda L, x: x**exponent, lambda L, x: L.pow(x, exponent), lambda L, x: x.pow_(exponent)):
            with pytest.raises(RuntimeError, match="without overflow"):
                fn(torch, torch.tensor([2, 3], dtype=getattr(torch, name)))
            with pytest.raises(OverflowError, match="without overflow"):
                fn(gg, gg.tensor([2, 3], dtype=getattr(gg, name)))
    # within the type, and a number base (wrapped, as PyTorch), and bool (int64): computed
    for name, exponent in [
        ("uint8", 255),
        ("int8", 127),
        ("int32", 2**31 - 1),
        ("int64", 2**63 - 1),
        ("bool", 300),
    ]:
        want = torch.tensor([2, 3, 1], dtype=getattr(torch, name)) ** exponent
        _same(want, gg.tensor([2, 3, 1], dtype=getattr(gg, name)) ** exponent)
    _same(300 ** torch.tensor([2, 3], dtype=torch.uint8), 300 ** gg.tensor([2, 3], dtype=gg.uint8))


# ---------------------------------------------------------------- add(alpha=) of bools
def test_add_of_bools_with_an_int_alpha_stays_bool_as_torch(torch):
    # alpha * other made int64 (True * 2 = 2): PyTorch reads alpha as a bool for a bool result
    a, b = [True, False, False, True], [False, False, True, True]
    for alpha, other in itertools.product([2, 0, -1, 1], ["tensor", True, False]):
        for fn in (
            lambda L, x, y: L.add(x, y, alpha=alpha),
            lambda L, x, y: x.add(y, alpha=alpha),
            lambda L, x, y: x.clone().add_(y, alpha=alpha),
        ):
            want = fn(torch, torch.tensor(a), torch.tensor(b) if other == "tensor" else other)
            _same(want, fn(gg, gg.tensor(a), gg.tensor(b) if other == "tensor" else other))
    # beside an integer operand the product is an integer one, as PyTorch
    _same(torch.add(torch.tensor(a), 1, alpha=2), gg.add(gg.tensor(a), 1, alpha=2))
    _same(
        torch.tensor([1, 2]).add(torch.tensor([True, False]), alpha=3),
        gg.tensor([1, 2]).add(gg.tensor([True, False]), alpha=3),
    )
