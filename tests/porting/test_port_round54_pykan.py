"""What pykan (KindXiaoming/pykan, Kolmogorov-Arnold networks) needed in porting round 54.

- ``MultKAN.symbolic_formula`` multiplies 0-d tensors with SymPy numbers (``c * sympy_fun(...)``,
  where the fixed function ``'0'`` gives SymPy's ``Zero``). PyTorch's operators decline a number
  type they do not take (``NotImplemented``), so SymPy's reflected method builds the expression;
  glassgrad raised a misleading "integers that fit int64" OverflowError (an ``Integer``) or made a
  tensor (a ``Float``). Its functions refuse such a number with a TypeError, as PyTorch's.
- ``MultKAN.forward`` with per-node ``mult_arity`` indexes with ``x[:, [dim_sum + np.sum([])]]``, a
  list holding a float: PyTorch reads a list index as a long index (each float truncated toward
  zero); glassgrad refused every float in a list index.
- ``torch.full`` with a NumPy integer fill value is int64 in PyTorch (glassgrad made float32).
"""

from __future__ import annotations

import decimal
import fractions
import numbers

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck


class _Number:
    """A number type of another library (as SymPy's): registered as a ``numbers.Number``, it
    answers the reflected operators itself."""

    def __init__(self, v):
        self.v = v

    def __repr__(self):  # (a stable test id: pytest-xdist's workers must collect the same names)
        return f"_Number({self.v})"

    def __rmul__(self, other):
        return ("rmul", float(other), self.v)

    def __mul__(self, other):
        return ("mul", self.v, float(other))

    def __radd__(self, other):
        return ("radd", float(other), self.v)

    def __rsub__(self, other):
        return ("rsub", float(other), self.v)

    def __rtruediv__(self, other):
        return ("rtruediv", float(other), self.v)


numbers.Number.register(_Number)


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_operators_decline_a_foreign_number(lib_name, torch):
    lib = glassgrad if lib_name == "glassgrad" else torch
    t, n = lib.tensor(2.0), _Number(5)
    assert t * n == ("rmul", 2.0, 5)
    assert n * t == ("mul", 5, 2.0)
    assert t + n == ("radd", 2.0, 5)
    assert t - n == ("rsub", 2.0, 5)
    assert t / n == ("rtruediv", 2.0, 5)
    with pytest.raises(TypeError):
        lib.mul(t, n)  # a function has no reflected method to ask: PyTorch's TypeError


def test_functions_refuse_other_number_types_naming_the_op(torch):
    t = glassgrad.ones(2, 3)
    for other in (fractions.Fraction(1, 2), _Number(3)):
        with pytest.raises(TypeError, match=r"mul\(\): expected a tensor or a number .* \(2, 3\) float32"):
            glassgrad.mul(t, other)
        with pytest.raises(TypeError):
            torch.mul(torch.ones(2, 3), other)


_SCALAR_TAKERS = {
    "setitem": lambda lib, t, v: t.__setitem__(0, v),
    "index_fill": lambda lib, t, v: t.index_fill(0, lib.tensor([0]), v),
    "full": lambda lib, t, v: lib.full((2,), v),
    "full_like": lambda lib, t, v: lib.full_like(t, v),
    "new_full": lambda lib, t, v: t.new_full((2,), v),
    "fill_": lambda lib, t, v: t.fill_(v),
    "masked_fill": lambda lib, t, v: t.masked_fill(t > 0, v),
    "clamp": lambda lib, t, v: t.clamp(max=v),
}


@pytest.mark.parametrize("op", sorted(_SCALAR_TAKERS))
@pytest.mark.parametrize("value", [fractions.Fraction(1, 2), decimal.Decimal("1.5"), _Number(2)], ids=repr)
def test_a_scalar_argument_refuses_other_number_types(op, value, torch):
    """PyTorch's Scalar is a bool, int, float or complex (or a NumPy one): glassgrad wrote a Fraction's
    or SymPy Integer's value into the tensor."""
    with pytest.raises(TypeError):
        _SCALAR_TAKERS[op](torch, torch.ones(3), value)
    with pytest.raises(TypeError, match="expected a number"):
        _SCALAR_TAKERS[op](glassgrad, glassgrad.ones(3), value)


@pytest.mark.parametrize("op", sorted(_SCALAR_TAKERS))
@pytest.mark.parametrize("value", [np.float64(0.5), np.int64(0), True, 0.5], ids=repr)
def test_a_scalar_argument_still_takes_python_and_numpy_numbers(op, value, torch):
    want = _SCALAR_TAKERS[op](torch, t := torch.ones(3), value)
    got = _SCALAR_TAKERS[op](glassgrad, g := glassgrad.ones(3), value)
    want, got = (t, g) if want is None else (want, got)  # (setitem returns None: compare the tensor)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


def test_sympy_numbers_beside_a_tensor_build_a_sympy_expression(torch):
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    for lib in (glassgrad, torch):
        a, b, c = lib.tensor(2.0), lib.tensor(0.5), lib.tensor(3.0)
        zero = sympy.Integer(0) * x  # pykan's fixed function '0' applied to a * x + b
        assert c * zero == 0 and isinstance(c * zero, sympy.Basic)
        assert isinstance(a * sympy.Integer(5), sympy.Float) and float(a * sympy.Integer(5)) == 10.0
        assert isinstance(a * sympy.Float(1.5), sympy.Float) and float(a * sympy.Float(1.5)) == 3.0
        assert str(c * sympy.sin(a * x + b) + zero) == "3.0*sin(2.0*x + 0.5)"


def test_tensor_of_a_sympy_integer_says_it_cannot_infer_the_dtype(torch):
    sympy = pytest.importorskip("sympy")
    with pytest.raises(RuntimeError, match="Could not infer dtype of Integer"):
        torch.tensor(sympy.Integer(5))
    # (was: "expected integers that fit int64 (|x| < 2**63), got a larger one" for 5)
    with pytest.raises(RuntimeError, match="could not infer the dtype of Integer 5"):
        glassgrad.tensor(sympy.Integer(5))
    with pytest.raises(TypeError, match="could not infer the dtype of One"):
        glassgrad.tensor([sympy.Integer(1), 2])
    with pytest.raises(OverflowError, match="fit int64"):
        glassgrad.tensor([1, 2**70])  # a Python int past int64 still says so


@pytest.mark.parametrize("fill", [np.int64(3), np.int32(-2), np.uint8(7), np.int16(5)])
def test_full_with_a_numpy_integer_is_int64(fill, torch):
    want = torch.full((2,), fill)
    got = glassgrad.full((2,), fill)
    assert str(want.dtype) == "torch.int64" and got.dtype == glassgrad.int64
    assert got.tolist() == want.tolist()


_FLOAT_KEYS = [
    [2.0],
    [np.float64(2.0)],
    [np.float64(2.0), 1],
    [2.5],
    [-1.5],
    [-0.5],
    [True, 2.0],
    [2.0, True],
    [[1.0, 2], [0, 3.0]],
    [1.0, np.int64(2)],
    (np.float64(2.0),),
    [[np.float64(1.0)]],
]


@pytest.mark.parametrize("key", _FLOAT_KEYS, ids=repr)
def test_a_list_index_holding_floats_is_a_long_index(key, torch):
    x = np.arange(12.0).reshape(3, 4)
    want = torch.tensor(x)[:, key]
    got = glassgrad.tensor(x)[:, key]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    if isinstance(key, list) and not isinstance(key[0], list):  # (a tuple is a key of one float: refused)
        np.testing.assert_array_equal(glassgrad.tensor(x)[key].numpy(), torch.tensor(x)[key].numpy())


def test_a_float_list_index_writes_and_indexes_pairs(torch):
    x = np.arange(12.0).reshape(3, 4)
    out = []
    for lib in (glassgrad, torch):
        y = lib.tensor(x)
        y[:, [1.0, 3.0]] = 0
        y[[0.0, 2.0]] += 1
        out.append((y.numpy().copy(), lib.tensor(x)[[1.0, 2.0], [0.0, 1.0]].numpy()))
    for g, w in zip(out[0], out[1], strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("bad", [float("nan"), 1e20])
def test_a_float_list_index_past_int64_is_refused(bad, torch):
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.arange(4.0)[[bad]]
    with pytest.raises(
        RuntimeError, match=r"getitem: value cannot be converted to type int64 without overflow"
    ):
        glassgrad.arange(4.0)[[bad]]


def test_float_list_index_keeps_refusing_numpy_float32_and_float_tensors(torch):
    x = glassgrad.arange(12.0).reshape(3, 4)
    with pytest.raises(TypeError):
        torch.arange(12.0).reshape(3, 4)[:, [np.float32(1.0)]]
    with pytest.raises(TypeError):
        x[:, [np.float32(1.0)]]
    with pytest.raises(TypeError):
        x[:, [1.0, glassgrad.tensor(2.0)]]


def test_float_list_index_gradcheck():
    rng = np.random.default_rng(54)
    for shape, key in [
        ((3, 5), (slice(None), [4.0, 0.5, 4.0])),
        ((4, 2, 3), ([3.0, -1.5], 1)),
        ((2, 6), ([1.0, 0],)),
    ]:
        x = glassgrad.tensor(rng.standard_normal(shape), requires_grad=True)
        w = glassgrad.tensor(rng.standard_normal(x[key].shape[-1:]))  # broadcast over the rows

        assert gradcheck(lambda x, key=key, w=w: x[key] * w, (x,))


def test_pykan_mult_nodes_with_a_float_list_index_match_pytorch(torch):
    """pykan's per-node ``mult_arity`` forward: products of columns picked by float list indices."""
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((6, 5))
    results = []
    for lib in (glassgrad, torch):
        x = lib.tensor(xv, requires_grad=True)
        dim_sum, arity = 2, [3]
        acml_id = dim_sum + np.sum(arity[:0])  # np.sum([]) is 0.0: a float
        prod = x[:, [acml_id]] * x[:, [acml_id + 1]]
        prod = prod * x[:, [acml_id + 2]]
        out = lib.cat([x[:, :dim_sum], prod], dim=1)
        (out**2).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for g, w in zip(results[0], results[1], strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)
