"""ops/elementwise.py and ops/compare.py: PyTorch's dtype promotion (0-d tensors, NumPy scalars,
mixed categories), integer powers, the gradient of pow at its edges, clamp on integer tensors, and
the bitwise operators ``& | ^ ~``."""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError
from glassgrad.ops import compare as C
from glassgrad.ops import elementwise as E

# One array per kind of operand: dims and 0-d, every dtype family.
OPERANDS = {
    "f32": np.array([1.5, -2.0, 3.0], np.float32),
    "f64": np.array([0.5, 2.0, -1.0], np.float64),
    "i64": np.array([1, -2, 3], np.int64),
    "i32": np.array([2, 5, -1], np.int32),
    "b": np.array([True, False, True]),
    "f32_0d": np.array(2.5, np.float32),
    "f64_0d": np.array(-1.5, np.float64),
    "i64_0d": np.array(2, np.int64),
    "i32_0d": np.array(3, np.int32),
    "b_0d": np.array(True),
}
SCALARS = [2, -3, 2.5, True, np.float64(0.5), np.float32(1.5), np.int64(4)]
BINARY = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv, "maximum": "maximum"}


def _call(lib, op, a, b):
    return getattr(lib, op)(a, b) if isinstance(op, str) else op(a, b)


def _wrap(lib, x):
    torch = pytest.importorskip("torch")
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x.copy()) if lib is torch else gg.tensor(x.copy())
    return x


def _check_same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours._data.astype(np.float64), theirs.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("pair", list(itertools.product(OPERANDS, repeat=2)), ids=lambda p: "-".join(p))
def test_tensor_tensor_result_dtype_matches_pytorch(torch, op, pair):
    a, b = (OPERANDS[k] for k in pair)
    try:
        theirs = _call(torch, BINARY[op], _wrap(torch, a), _wrap(torch, b))
    except (RuntimeError, TypeError):
        return  # PyTorch refuses the pair (e.g. bool / bool); an error or any result is fine here
    with np.errstate(all="ignore"):  # x / False is inf, as in PyTorch
        _check_same(_call(gg, BINARY[op], _wrap(gg, a), _wrap(gg, b)), theirs)


@pytest.mark.parametrize("op", ["add", "mul", "truediv", "sub", "pow"])
@pytest.mark.parametrize("key", sorted(OPERANDS))
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
def test_tensor_scalar_result_dtype_matches_pytorch(torch, op, key, scalar):
    fn = getattr(operator, op)
    a = OPERANDS[key]
    for left, right in [(a, scalar), (scalar, a)]:  # the reflected operators too
        try:
            theirs = fn(_wrap(torch, left), _wrap(torch, right))
        except (RuntimeError, TypeError):
            continue
        with np.errstate(all="ignore"):
            _check_same(fn(_wrap(gg, left), _wrap(gg, right)), theirs)


def test_zero_dim_tensor_does_not_upcast_a_tensor_with_dims():
    x = gg.tensor([1.0, 2.0], requires_grad=True)  # float32
    s = gg.tensor(3.0, dtype=gg.float64, requires_grad=True)
    y = x * s
    assert y.dtype == gg.float32  # PyTorch: dims beat 0-d within one category
    y.sum().backward()
    assert s.grad.dtype == gg.float64 and s.grad.item() == 3.0  # the gradient reaches the 0-d leaf
    assert x.grad.dtype == gg.float32 and x.grad.tolist() == [3.0, 3.0]
    assert (gg.tensor([1, 2], dtype=gg.int32) + gg.tensor(5)).dtype == gg.int32
    assert (gg.tensor([1, 2]) * gg.tensor(2.5, dtype=gg.float64)).dtype == gg.float64  # higher category


def test_numpy_scalars_are_weak_like_python_scalars():
    x = gg.tensor([1.0, 2.0])
    for s in [np.float64(2.0), np.float32(2.0), np.int64(2)]:
        assert (x * s).dtype == gg.float32 and (s * x).dtype == gg.float32
        assert (x - s).tolist() == [-1.0, 0.0]
    assert (gg.tensor([1, 2]) * np.float64(2.5)).dtype == gg.float32
    assert (gg.tensor([1, 2]) * np.int64(3)).tolist() == [3, 6]


def test_two_scalars_promote_like_pytorch():
    cond = gg.tensor([True, False])
    out = gg.where(cond, 1.0, 0)
    assert out.dtype == gg.float32 and out.tolist() == [1.0, 0.0]  # not float64
    assert gg.where(cond, 1, 0).dtype == gg.int64


def test_integer_powers_follow_pytorch():
    base, exp = gg.tensor([0, 1, -1, 2, -2, 3]), gg.tensor([-1, -2, -3, -1, -2, 2])
    assert (base**exp).tolist() == [0, 1, -1, 0, 0, 9] and (base**exp).dtype == gg.int64
    assert (2 ** gg.tensor([-1, 3])).tolist() == [0, 8]
    assert (gg.tensor([1, 2], dtype=gg.int32) ** 2).dtype == gg.int32
    assert (gg.tensor([True, False]) ** 2).dtype == gg.int64
    assert (gg.tensor([2, 3]) ** 0.5).dtype == gg.float32
    with pytest.raises(ValueError, match="pow: integers to negative integer powers are not allowed"):
        gg.tensor([1, 2]) ** -1
    with pytest.raises(DTypeError, match="pow: expected a numeric base or exponent"):
        gg.tensor([True]) ** gg.tensor([True])


@pytest.mark.parametrize("exponent", [0, 0.0, "tensor"])
def test_pow_gradient_is_zero_for_a_zero_exponent_even_at_zero(exponent):
    # d/da a^0 = 0 everywhere; 0 * 0^-1 would give nan at a = 0 (PyTorch gives 0)
    x = gg.tensor([0.0, 1.0, -2.0], dtype=gg.float64, requires_grad=True)
    b = gg.zeros(3, dtype=gg.float64) if exponent == "tensor" else exponent
    (x**b).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_pow_gradients_match_pytorch_at_zero_base(torch):
    a = np.array([0.0, 1.5, 0.0, 2.0])
    b = np.array([0.0, 2.0, 3.0, 0.5])
    x, y = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (x**y).sum().backward()
    (tx**ty).sum().backward()
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad._data, ty.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("exponent", [3, 3.0, -2, -2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cube_and_inverse_square_are_pytorchs_bit_for_bit(torch, exponent, dtype):
    # PyTorch computes x ** 3 as x * x * x and x ** -2 as 1 / (x * x); NumPy's power rounds
    # differently (and is slow for a negative base), so a plain a ** b would differ in the last bit
    a = (np.random.default_rng(0).standard_normal((7, 33)) * 3).astype(dtype)
    a[0, :3] = [0.0, -0.0, 1e-30]
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = x**exponent, tx**exponent
    assert np.array_equal(out._data, tout.detach().numpy())
    g = np.random.default_rng(1).standard_normal(a.shape).astype(dtype)
    out.backward(gg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-6 if dtype == "float32" else 1e-13)
    assert (gg.tensor([2, -3]) ** 3).tolist() == [8, -27]  # integers stay exact integers


def test_clamp_of_integers_with_float_bounds_gives_floats():
    i = gg.tensor([-3, 0, 2])
    out = i.clamp(-0.5, 1.5)
    assert out.dtype == gg.float32 and out.tolist() == [-0.5, 0.0, 1.5]
    assert i.clamp(max=0.3).tolist() == pytest.approx([-3.0, 0.0, 0.3])
    assert i.clamp(-1, 1).dtype == gg.int64 and i.clamp(-1, 1).tolist() == [-1, 0, 1]
    b = gg.tensor([True, False]).clamp(min=0)
    assert b.dtype == gg.int64 and b.tolist() == [1, 0]


def test_promote_keeps_the_graph_of_a_cast_operand():
    a = gg.tensor(2.0, dtype=gg.float64, requires_grad=True)
    x, s = E.promote(gg.ones(3), a)
    assert x.dtype == gg.float32 and not x.requires_grad
    assert s.dtype == gg.float32 and s.requires_grad and s.grad_fn is not None


# ------------------------------------------------------------------ bitwise operators
INTS = np.array([6, -3, 12], np.int64)
BOOLS = np.array([True, False, True])


@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor])
@pytest.mark.parametrize(
    "left, right",
    [
        (INTS, np.array([3, 5, -1])),
        (BOOLS, np.array([True, True, False])),
        (INTS, 5),
        (BOOLS, True),
        (5, INTS),
        (True, BOOLS),
        (BOOLS, INTS),
        (np.array([1, 2], np.int32), 3),
    ],
    ids=str,
)
def test_bitwise_operators_match_pytorch(torch, op, left, right):
    _check_same(op(_wrap(gg, left), _wrap(gg, right)), op(_wrap(torch, left), _wrap(torch, right)))


def test_invert_and_float_operands(torch):
    assert (~gg.tensor(INTS)).tolist() == (~torch.tensor(INTS)).tolist()  # bitwise not: -7, 2, -13
    assert (~gg.tensor(BOOLS)).tolist() == [False, True, False]
    for bad in [lambda: gg.tensor([1.0]) & gg.tensor([1.0]), lambda: gg.tensor([1]) | 2.5,
                lambda: ~gg.tensor([1.5]), lambda: 1.5 ^ gg.tensor([True])]:  # fmt: skip
        with pytest.raises(DTypeError, match="expected integer or bool operands"):
            bad()
    assert C.logical_and(gg.tensor([2, 0]), gg.tensor([1.5, 1.0])).tolist() == [True, False]


def test_reflected_remainder_and_sign_of_bools():
    assert (7 % gg.tensor([2, 3])).tolist() == [1, 1]
    assert (5.5 % gg.tensor([2.0])).tolist() == [1.5]
    assert C.sign(gg.tensor([True, False])).tolist() == [True, False]


def test_comparing_with_none_or_a_string_is_false_not_an_error():
    t = gg.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - PyTorch's behaviour
    assert (t == "a") is False
    assert gg.tensor([1.0]) not in [None, "x"]


def test_dtypes_numpy_refuses_raise_a_named_dtype_error():
    # (bool subtraction is refused before NumPy, with PyTorch's message: test_dtypes_round57.py)
    with pytest.raises(DTypeError, match=r"sub: Subtraction, the `-` operator, with two bool tensors"):
        gg.tensor([True]) - gg.tensor([False])
    with pytest.raises(DTypeError, match="neg: expected dtypes the op supports"):
        -gg.tensor([True])
