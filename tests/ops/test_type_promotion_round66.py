"""Round 66 (pt_type_promotion): PyTorch's test_type_promotion.py run against glassgrad.

Parity with PyTorch for what it found: ``rsub`` and sparse ``sub`` negated (or scaled) a narrow
unsigned operand before promoting it (silently wrapped values); in-place casts refused with
PyTorch's words; a sparse in-place sum of one category (int16 into uint8) refused; ``mul`` of a
dense and a sparse tensor refused; ``abs`` of a complex tensor into a float or complex ``out=``
refused; ``promote_types``/``can_cast`` of bfloat16 and complex32 raised.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg

_INTS = ["uint8", "int8", "int16", "int64"]


def _values(dtype):
    # values that wrap when negated or doubled in uint8 / int8 (200, -100)
    return {"uint8": [0, 3, 200, 255], "int8": [-100, 2, 7, -1]}.get(dtype, [-300, 2, 7, 1000])


def _pair(lib, d1, d2):
    return (lib.tensor(_values(d1), dtype=getattr(lib, d1)), lib.tensor(_values(d2), dtype=getattr(lib, d2)))


def _same(got, want):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("d1,d2", list(itertools.product(_INTS, _INTS)))
@pytest.mark.parametrize("alpha", [1, 2, -3])
def test_rsub_promotes_before_negating(torch, d1, d2, alpha):
    x, y = _pair(gg, d1, d2)
    tx, ty = _pair(torch, d1, d2)
    _same(gg.rsub(x, y, alpha=alpha), torch.rsub(tx, ty, alpha=alpha))
    _same(gg.rsub(x, 5, alpha=alpha), torch.rsub(tx, 5, alpha=alpha))
    _same(gg.rsub(x, 2.5), torch.rsub(tx, 2.5))


def test_rsub_refuses_as_sub(torch):
    b = gg.tensor([True, False])
    for args, kw in [((b, gg.ones(2)), {"alpha": 2}), ((gg.ones(2), b), {"alpha": 2}), ((b, b), {})]:
        with pytest.raises(RuntimeError):
            torch.rsub(*[torch.from_numpy(a.numpy()) for a in args], **kw)
        with pytest.raises(RuntimeError, match="bool"):
            gg.rsub(*args, **kw)
    i = gg.ones(2, dtype=gg.int32)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        gg.rsub(i, i, alpha=1.5)


def test_rsub_gradient_mixed_dtypes(torch):
    x0, y0 = np.array([1.5, -2.0, 0.25], np.float32), np.array([3.0, 5.0, -1.0])
    x, y = gg.tensor(x0, requires_grad=True), gg.tensor(y0, requires_grad=True)
    tx, ty = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
    r, tr = gg.rsub(x, y, alpha=3), torch.rsub(tx, ty, alpha=3)
    w = np.array([0.5, -1.0, 2.0])
    (r * gg.tensor(w)).sum().backward()
    (tr * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(r.detach().numpy(), tr.detach().numpy(), rtol=1e-12)
    assert x.grad.dtype == gg.float32 and y.grad.dtype == gg.float64
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)


def test_inplace_cast_refusal_message(torch):
    for lib in (torch, gg):
        i = lib.ones(3, dtype=lib.int32)
        with pytest.raises(RuntimeError, match="can't be cast to"):
            i.add_(1.5)
        with pytest.raises(RuntimeError, match="can't be cast to"):
            lib.tensor([True, True]).add_(lib.tensor([1, 1], dtype=lib.uint8))
        u = lib.tensor([1, 2, 3], dtype=lib.uint8)
        u *= lib.tensor([1, -1, 2], dtype=lib.int16)  # one category: allowed, wraps into uint8
        assert u.tolist() == [1, 254, 6]


def _sparse_pair(lib, d1, d2):
    a = lib.tensor([[1, 0, 5], [0, -2, 0]], dtype=getattr(lib, d1)).to_sparse()
    b = lib.tensor([[0, 3, 200], [0, 200, 0]], dtype=getattr(lib, d2)).to_sparse()
    return a, b


@pytest.mark.parametrize(
    "d1,d2", [("int8", "uint8"), ("uint8", "int16"), ("int16", "uint8"), ("uint8", "int64")]
)
@pytest.mark.parametrize("alpha", [1, 2])
def test_sparse_sub_add_promote_before_scaling(torch, d1, d2, alpha):
    a, b = _sparse_pair(gg, d1, d2)
    ta, tb = _sparse_pair(torch, d1, d2)
    _same((a.sub(b, alpha=alpha)).to_dense(), ta.sub(tb, alpha=alpha).to_dense())
    _same((a.add(b, alpha=alpha)).to_dense(), ta.add(tb, alpha=alpha).to_dense())
    _same((a - b).to_dense(), (ta - tb).to_dense())


def test_sparse_inplace_sum_of_one_category(torch):
    """int16 into uint8 is a cast PyTorch allows (one category), for a sparse operand too."""
    results = []
    for lib in (torch, gg):
        d = lib.tensor([[1, 0], [0, 2]], dtype=lib.uint8)
        s = lib.tensor([[0, -3], [0, 1]], dtype=lib.int16).to_sparse()
        s8 = lib.tensor([[1, 0], [0, 2]], dtype=lib.uint8).to_sparse()
        results.append((d.add_(s), s8.sub_(s).to_dense()))
    for got, want in zip(results[1], results[0]):
        _same(got, want)
    with pytest.raises(RuntimeError, match="can't be cast to"):
        gg.tensor([[1, 0]], dtype=gg.uint8).to_sparse().mul_(gg.tensor([[2.5, 0]]).to_sparse())


def test_mul_dense_by_sparse(torch):
    d0 = [[3, 4], [5, 6]]
    s, d = gg.tensor([[1, 0], [0, 2]], dtype=gg.int16).to_sparse(), gg.tensor(d0, dtype=gg.uint8)
    ts, td = (
        torch.tensor([[1, 0], [0, 2]], dtype=torch.int16).to_sparse(),
        torch.tensor(d0, dtype=torch.uint8),
    )
    for got, want in [
        (gg.mul(d, s), torch.mul(td, ts)),
        (d.mul(s), td.mul(ts)),
        (gg.mul(d[0], s), torch.mul(td[0], ts)),
    ]:
        assert got.layout == gg.sparse_coo and want.layout == torch.sparse_coo
        _same(got.to_dense(), want.to_dense())
    # the gradient through the dense operand's product: d(sum(y * x))/dy = x, /dx = y on x's entries
    x = gg.tensor([[1.0, 0.0], [0.0, 2.0]]).to_sparse().requires_grad_()
    y = gg.tensor([[3.0, 4.0], [5.0, 6.0]], dtype=gg.float64, requires_grad=True)
    gg.mul(y, x).to_dense().sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(x.grad.to_dense().numpy(), [[3.0, 0.0], [0.0, 6.0]])


@pytest.mark.parametrize("src", ["complex64", "complex128"])
@pytest.mark.parametrize("dst", ["float16", "float32", "float64", "complex64", "complex128", "int64"])
def test_abs_of_complex_into_out(torch, src, dst):
    vals = [3 + 4j, -1j, 0.5 - 0.25j]
    t = torch.tensor(vals, dtype=getattr(torch, src))
    g = gg.tensor(vals, dtype=getattr(gg, src))
    tout, gout = torch.empty(3, dtype=getattr(torch, dst)), gg.empty(3, dtype=getattr(gg, dst))
    try:
        torch.abs(t, out=tout)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            gg.abs(g, out=gout)
        return
    assert gg.abs(g, out=gout) is gout
    _same(gout, tout)


_NAMED = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex32", "complex64", "complex128"]  # fmt: skip


def test_promote_types_and_can_cast_of_numpy_less_dtypes(torch):
    for a, b in itertools.product(_NAMED, _NAMED):
        ga, gb, ta, tb = getattr(gg, a), getattr(gg, b), getattr(torch, a), getattr(torch, b)
        assert str(gg.promote_types(ga, gb)).split(".")[-1] == str(torch.promote_types(ta, tb)).split(".")[-1]
        assert gg.can_cast(ga, gb) == torch.can_cast(ta, tb), (a, b)
    assert gg.promote_types(gg.float8_e4m3fn, gg.float8_e4m3fn) is gg.float8_e4m3fn
    with pytest.raises(RuntimeError):  # PyTorch: "Promotion for Float8 Types is not supported"
        gg.promote_types(gg.float8_e4m3fn, gg.float32)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "float16", "float64"])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "pow", "remainder", "fmod", "eq"])
@pytest.mark.parametrize("scalar", [np.True_, np.int64(3), np.float64(-1.75), np.float32(0.5)])
def test_numpy_scalar_operand_read_as_pytorch_reads_it(torch, dtype, op, scalar):
    """PyTorch reads a NumPy bool or float scalar as a float, an integer one as an int."""
    vals = [1, 0, 1] if dtype == "bool" else [1, 2, 3]
    t, g = torch.tensor(vals, dtype=getattr(torch, dtype)), gg.tensor(vals, dtype=getattr(gg, dtype))
    try:
        want = getattr(torch, op)(t, scalar)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(gg, op)(g, scalar)
        return
    got = getattr(gg, op)(g, scalar)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy().astype(float), want.numpy().astype(float), rtol=1e-3)
    if op in ("add", "mul", "remainder", "fmod"):  # the ops whose result is the promoted dtype
        assert gg.result_type(g, scalar) == got.dtype


def test_pow_of_integers_by_a_negative_numpy_integer(torch):
    with pytest.raises(RuntimeError, match="negative integer powers"):
        torch.pow(torch.tensor([1, 2], dtype=torch.uint8), np.int64(-2))
    with pytest.raises(RuntimeError, match="negative integer powers"):
        gg.pow(gg.tensor([1, 2], dtype=gg.uint8), np.int64(-2))


def test_numpy_complex_scalar_keeps_its_imaginary_part():
    """A deliberate difference (design.md): PyTorch reads it through float() and drops 2j."""
    got = gg.tensor([1.0, 2.0]) + np.complex64(1 - 2j)
    assert got.dtype == gg.complex64
    np.testing.assert_array_equal(got.numpy(), np.array([2 - 2j, 3 - 2j], np.complex64))


def test_tensor_only_functions_take_a_number_as_the_tensor_form(torch):
    """A deliberate difference (design.md): PyTorch's bindings raise TypeError for the number."""
    x = gg.tensor([0.5, -1.0, 2.0])
    for name in ("atan2", "maximum", "logical_and"):
        want = getattr(torch, name)(torch.tensor([0.5, -1.0, 2.0]), torch.tensor(0.75))
        got = getattr(gg, name)(x, 0.75)
        _same(got, getattr(gg, name)(x, gg.tensor(0.75)))  # the 0-d tensor form's values and dtype
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2.4e-7)  # float32 rounding (atan2)
