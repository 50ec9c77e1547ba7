"""Round 64, scatterfuzz: a differential fuzz of the scatter/gather/index family against PyTorch
(values, first and second derivatives, dtypes, errors; about 12,000 float64 cases with gradients
and 6,000 with integer, bool and half dtypes). Pinned here, each as its own short program:

- ``scatter_reduce(..., 'prod')`` / ``index_reduce(..., 'prod')`` with a 0 among the reduced
  entries under ``create_graph=True``: glassgrad refused (NotImplementedError) where PyTorch's
  backward, written with differentiable ops, has second derivatives (and refuses only src's,
  for a place that two zeros or more from src reach);
- ``scatter(dim, index, value)`` and its ``reduce=`` form wrote the number through NumPy's cast:
  1e6 into float16 gave inf, 1e10 into int32 with ``reduce='add'`` gave -2**31, -1 into uint8 was
  refused, where PyTorch converts a Scalar (-1 is 255, the others refused with RuntimeError);
- ``index_add(..., alpha=)`` of integer and bool tensors: a float alpha was refused and a bool
  input with ``alpha=-1`` silently gave False, where PyTorch reads alpha in the input's dtype;
- ``take_along_dim(x, indices)`` without ``dim`` is PyTorch's flat ``gather``: int32 indices are
  taken and negative ones refused (glassgrad had it the other way round).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(64)


def _leaves(lib, *arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def _two_orders(lib, program, arrays, second=True):
    """(output, first-order gradients, second-order gradients of sum(g * v)) of program's output
    against fixed random weights, for float64 leaves made from ``arrays``."""
    leaves = _leaves(lib, *arrays)
    y = program(lib, *leaves)
    rng = np.random.default_rng(1)
    w = lib.tensor(rng.standard_normal(tuple(y.shape)))
    gs = lib.autograd.grad((lib.tanh(y) * w).sum(), leaves, create_graph=True)
    first = [g.detach().numpy() for g in gs]
    if not second:
        return y.detach().numpy(), first, None
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in gs)
    g2 = lib.autograd.grad(total, leaves, allow_unused=True)
    return y.detach().numpy(), first, [None if g is None else g.numpy() for g in g2]


def _assert_same(torch, program, arrays, second=True):
    want = _two_orders(torch, program, arrays, second)
    got = _two_orders(gg, program, arrays, second)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)
    for a, b in zip(got[1], want[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for a, b in zip(got[2] or [], want[2] or [], strict=True):
        np.testing.assert_allclose(0 if a is None else a, 0 if b is None else b, rtol=1e-10, atol=1e-12)


# ---- prod with zeros, second order --------------------------------------------------------------
X = np.array([[1.5, 0.0, -2.0, 0.5], [0.0, 1.25, 3.0, -1.0]])
SRC = np.array([[0.0, 2.0, -0.5], [1.5, 0.0, 0.75]])
IDX = np.array([[1, 1, 3], [0, 2, 2]])

PROD = [
    ("zero_in_x_and_src", X, SRC),
    ("zero_in_x_only", X, np.where(SRC == 0, 0.25, SRC)),
    ("zero_in_src_only", np.where(X == 0, 2.0, X), SRC),
    ("zeros_everywhere_of_one_place", np.array([[1.5, 0.0, -2.0, 0.5], [2.0, 1.25, 0.0, -1.0]]), SRC),
]


@pytest.mark.parametrize("include_self", [True, False], ids=["self", "noself"])
@pytest.mark.parametrize("name,x,src", PROD, ids=[c[0] for c in PROD])
def test_scatter_reduce_prod_second_order_with_zeros(torch, name, x, src, include_self):
    def program(L, a, s):
        return a.scatter_reduce(1, L.tensor(IDX), s, "prod", include_self=include_self)

    _assert_same(torch, program, [x, src])


@pytest.mark.parametrize("include_self", [True, False], ids=["self", "noself"])
def test_index_reduce_prod_second_order_with_zeros(torch, include_self):
    x = np.array([[0.0, 1.5], [2.0, -1.0], [0.5, 0.0]])
    src = np.array([[1.25, 0.0], [0.0, 3.0], [-2.0, 0.5], [0.75, 1.5]])

    def program(L, a, s):  # rows 2, 0, 2, 1: two sources into row 2, one zero each column
        return L.index_reduce(a, 0, L.tensor([2, 0, 2, 1]), s, "prod", include_self=include_self)

    _assert_same(torch, program, [x, src])


def test_scatter_reduce_prod_transposed_and_int32_index(torch):
    x = np.array([[0.0, 2.0, 1.5], [-1.0, 0.5, 0.0]])
    src = np.array([[0.0, 1.25, 3.0], [2.0, 0.0, -0.5]])

    def program(L, a, s):  # x transposed (a view), int32 index, the middle dim
        return a.t().scatter_reduce(0, L.tensor([[2, 0], [2, 1], [0, 0]], dtype=L.int32), s.t(), "prod")

    _assert_same(torch, program, [x, src])


def _two_zeros_into_one_place(lib):
    x, s = _leaves(lib, np.array([1.5, 2.0, -1.0]), np.array([0.0, 0.0, 3.0]))
    y = x.scatter_reduce(0, lib.tensor([1, 1, 2]), s, "prod")
    gx, gs = lib.autograd.grad((y * y).sum(), [x, s], create_graph=True)
    return x, s, gx, gs


def test_prod_two_zeros_into_one_place_first_order_and_x_second_order(torch):
    got, want = _two_zeros_into_one_place(gg), _two_zeros_into_one_place(torch)
    for a, b in zip(got[2:], want[2:], strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    # x's own gradient differentiates again (only src's carries PyTorch's delayed error)
    (hg,) = gg.autograd.grad(got[2].sum(), got[0], retain_graph=True)
    (ht,) = torch.autograd.grad(want[2].sum(), want[0], retain_graph=True)
    np.testing.assert_allclose(hg.numpy(), ht.numpy(), rtol=1e-12)


def test_prod_two_zeros_into_one_place_refuses_src_second_order():
    x, s, _, gs = _two_zeros_into_one_place(gg)
    with pytest.raises(RuntimeError, match=r"scatter_reduce\(\): Double backward is unsupported for src"):
        gg.autograd.grad(gs.sum(), [x, s])


# ---- scatter's number value, converted as a Scalar -----------------------------------------------
VALUES = [
    ("uint8", -1), ("uint8", 300), ("uint8", -0.3), ("int32", 1e10), ("int64", 2.5),
    ("int64", float("nan")), ("float16", 1e6), ("float32", 1e300), ("bool", 0.5), ("float64", 1 + 2j),
]  # fmt: skip


@pytest.mark.parametrize("reduce", [None, "add", "multiply"], ids=["write", "add", "multiply"])
@pytest.mark.parametrize("dtype,value", VALUES, ids=[f"{d}-{v}" for d, v in VALUES])
def test_scatter_number_value_converted_as_pytorch(torch, dtype, value, reduce):
    def run(lib):
        x = lib.tensor([3, 0, 1], dtype=getattr(lib, dtype))
        kw = {"reduce": reduce} if reduce else {}
        try:
            return x.scatter(0, lib.tensor([0, 2, 2]), value, **kw).numpy()
        except RuntimeError:  # PyTorch: "value cannot be converted to type ... without overflow"
            return "refused"

    want, got = run(torch), run(gg)
    if isinstance(want, str):
        assert got == want
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_scatter_value_overflow_names_the_op():
    with pytest.raises(RuntimeError, match="scatter: value 300 cannot be converted"):
        gg.zeros(2, dtype=gg.uint8).scatter_(0, gg.tensor([1]), 300, reduce="add")


# ---- index_add's alpha on integer and bool tensors ------------------------------------------------
ALPHAS = [2.5, -1, -2.7, True, False, 1.0, 0]


@pytest.mark.parametrize("alpha", ALPHAS, ids=[repr(a) for a in ALPHAS])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_index_add_alpha_read_in_the_input_dtype(torch, dtype, alpha):
    if dtype == "uint8" and alpha == -2.7:
        return  # refused by both: test_index_add_alpha_overflow_refused
    x = RNG.integers(0, 3, (3, 4))
    s = RNG.integers(0, 3, (3, 2))
    outs = []
    for lib in (torch, gg):
        dt = getattr(lib, dtype)
        y = lib.tensor(x, dtype=dt).index_add(1, lib.tensor([3, 3]), lib.tensor(s, dtype=dt), alpha=alpha)
        z = lib.tensor(x, dtype=dt)
        z.index_add_(1, lib.tensor([0, 3], dtype=lib.int32), lib.tensor(s, dtype=dt), alpha=alpha)
        outs.append((y.numpy(), z.numpy()))
    for a, b in zip(outs[1], outs[0], strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype,alpha", [("uint8", 300), ("uint8", -2.7), ("int32", 1e10), ("int64", 1j)])
def test_index_add_alpha_overflow_refused(torch, dtype, alpha):
    for lib in (torch, gg):
        x = lib.zeros(3, dtype=getattr(lib, dtype))
        with pytest.raises(RuntimeError, match="cannot be converted"):
            lib.index_add(x, 0, lib.tensor([1]), lib.ones(1, dtype=getattr(lib, dtype)), alpha=alpha)


def test_index_add_float_alpha_on_floats_unchanged(torch):
    x, s = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 2))

    def program(L, a, b):
        return a.index_add(0, L.tensor([2, 2]), b, alpha=-0.3)

    _assert_same(torch, program, [x, s], second=False)


# ---- take_along_dim without dim: a flat gather ----------------------------------------------------
def test_take_along_dim_flat_takes_int32(torch):
    x = RNG.standard_normal((2, 3))

    def program(L, a):
        # (contiguous: PyTorch's flat form views the input, and refuses a transposed one)
        return L.take_along_dim(a, L.tensor([[5, 0], [2, 2]], dtype=L.int32))

    _assert_same(torch, program, [x], second=False)


@pytest.mark.parametrize("index", [[-1, 0], [6, 0]], ids=["negative", "past_end"])
def test_take_along_dim_flat_refuses_out_of_range(torch, index):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="out of bounds|expected indices in"):
            lib.take_along_dim(lib.arange(6.0).reshape(2, 3), lib.tensor(index))


def test_take_along_dim_with_dim_still_counts_negatives_from_the_end(torch):
    x = RNG.standard_normal((2, 3))
    want = torch.take_along_dim(torch.tensor(x), torch.tensor([[-1], [0]]), 1).numpy()
    got = gg.take_along_dim(gg.tensor(x), gg.tensor([[-1], [0]]), 1).numpy()
    np.testing.assert_array_equal(got, want)
