"""Round 57 differential fuzz of indexing, scatter/gather and shape ops against PyTorch: the
findings it reduced, each failing before its fix. (The fuzz driver lives outside the repository.)

- ``index_put_(..., accumulate=True)`` into a 1-D tensor with a 2-D+ index and values that
  broadcast (fewer dims than the index) added garbage: NumPy 2.4's ``add.at`` misreads such values.
- ``index_fill`` of a 0-d tensor raised a bare ``IndexError`` (PyTorch fills it as one slice); an
  index past the end, a 2-D index or a float index got NumPy's errors or was accepted.
- ``select``/``unbind``/``diagonal``/``diag_embed`` on too few dims raised a ``ShapeError`` that
  is no ``IndexError`` (PyTorch's type); ``unfold`` of a 0-d tensor took any dim.
- ``flatten(d, d)`` made a view where PyTorch returns the tensor itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _leaves(lib, *arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _grads_match(fn, *arrays, tol=1e-12):
    """fn(lib, *leaves) on both libraries: value, dtype and every leaf's gradient of a weighted sum."""
    import torch

    rng = np.random.default_rng(0)
    outs = {}
    for lib in (torch, gg):
        leaves = _leaves(lib, *arrays)
        out = fn(lib, *leaves)
        w = rng.standard_normal(tuple(out.shape)) if lib is torch else outs[torch][2]
        (out * lib.tensor(w)).sum().backward()
        outs[lib] = (out.detach().numpy(), [t.grad.numpy() for t in leaves], w)
    (vt, gt, _), (vg, gg_, _) = outs[torch], outs[gg]
    np.testing.assert_allclose(vg, vt, rtol=tol, atol=tol)
    for a, b in zip(gt, gg_):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


# ---- index_put_ accumulate: values broadcast against a 2-D+ index into a 1-D tensor ----------


@pytest.mark.parametrize(
    ("index", "vshape"),
    [
        ([[3, 3, -2], [0, 3, 1]], (3,)),  # the fuzz case: repeats, a negative index
        ([[0, 1], [1, 1]], (2,)),
        ([[[0, 1], [2, 2]], [[3, 0], [1, 1]]], (2,)),
        ([[[0, 1], [2, 2]], [[3, 0], [1, 1]]], (2, 1)),
        ([[0, 1], [1, 1]], ()),
        ([[0, 1], [1, 1]], (1, 2)),
    ],
)
@pytest.mark.parametrize("inplace", [True, False])
def test_index_put_accumulate_broadcast_values_into_1d(torch, index, vshape, inplace):
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(4), rng.standard_normal(vshape)

    def fn(lib, x, v):
        idx = (lib.tensor(index),)
        y = x * 1.0
        return y.index_put_(idx, v, accumulate=True) if inplace else y.index_put(idx, v, accumulate=True)

    _grads_match(fn, x, v)


def test_index_put_accumulate_broadcast_values_no_grad(torch):
    for lib in (torch, gg):
        x = lib.arange(4.0, dtype=lib.float64)
        x.index_put_(
            (lib.tensor([[3, 3, -2], [0, 3, 1]]),), lib.tensor([10.0, 20.0, 30.0], dtype=lib.float64), True
        )
        if lib is torch:
            want = x.numpy()
    np.testing.assert_array_equal(x.numpy(), want)


def test_put_accumulate_2d_index_matches_pytorch(torch):
    # put_ goes through index_put on the flattened input
    rng = np.random.default_rng(2)
    x, src = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))

    def fn(lib, x, src):
        return (x * 1.0).put_(lib.tensor([[5, -1], [0, 5]]), src, accumulate=True)

    _grads_match(fn, x, src)


# ---- index_fill: 0-d input, and its index checks ----------------------------------------------


@pytest.mark.parametrize("index", [[0], [-1], [], [0, 0], 0])
@pytest.mark.parametrize("dim", [0, -1])
def test_index_fill_zero_dim_input(torch, index, dim):
    def fn(lib, x):
        return (x * 1.0).index_fill_(dim, lib.tensor(index, dtype=lib.int64), 2.5)

    _grads_match(fn, np.array(1.5))


def test_index_fill_negative_index(torch):
    # (a value tensor that requires grad is left out: PyTorch 2.13's backward refuses negative indices)
    rng = np.random.default_rng(3)

    def fn(lib, x):
        return x.index_fill(1, lib.tensor([-1, 0, -1]), 0.75)

    _grads_match(fn, rng.standard_normal((2, 4)))


def test_index_fill_tensor_value(torch):
    rng = np.random.default_rng(4)

    def fn(lib, x, v):
        return x.index_fill(1, lib.tensor([3, 0, 3]), v)

    _grads_match(fn, rng.standard_normal((2, 4)), np.array(0.75))


@pytest.mark.parametrize(
    ("shape", "index", "error"),
    [
        ((), [1], IndexError),
        ((3,), [3], IndexError),
        ((3,), [-4], IndexError),
        ((3,), [[0, 1]], RuntimeError),  # PyTorch: "Index has to be a vector/scalar"
        ((3,), [0.5], IndexError),  # PyTorch: "Expected dtype int64 for index"
    ],
)
def test_index_fill_refusals(torch, shape, index, error):
    for lib in (torch, gg):
        with pytest.raises(error):
            lib.zeros(shape).index_fill(0, lib.tensor(index), 1.0)
    with pytest.raises(error, match="index_fill"):
        gg.zeros(shape).index_fill(0, gg.tensor(index), 1.0)


# ---- too few dims: IndexError, as PyTorch -----------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor(1.0).select(0, 0),
        lambda lib: lib.tensor(1.0).unbind(0),
        lambda lib: lib.tensor([1.0, 2.0]).diagonal(),
        lambda lib: lib.diag_embed(lib.tensor(1.0)),
        lambda lib: lib.tensor(1.0).unfold(1, 1, 1),
        lambda lib: lib.tensor(1.0).unfold(-2, 1, 1),
    ],
    ids=["select", "unbind", "diagonal", "diag_embed", "unfold", "unfold-neg"],
)
def test_too_few_dims_raise_index_error(torch, call):
    for lib in (torch, gg):
        with pytest.raises(IndexError):
            call(lib)


@pytest.mark.parametrize("dim", [0, -1])
def test_unfold_zero_dim_accepts_dims_0_and_minus_1(torch, dim):
    def fn(lib, x):
        return x.unfold(dim, 1, 1) * 3.0

    _grads_match(fn, np.array(0.5))


# ---- flatten over one dim is the tensor itself ------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dims"), [((2, 3, 4), (1, 1)), ((2, 3, 4), (-2, 1)), ((3,), (0, -1)), ((3,), (0, 0))]
)
def test_flatten_one_dim_returns_self(torch, shape, dims):
    for lib in (torch, gg):
        x = lib.zeros(shape, requires_grad=True)
        y = x.flatten(*dims)
        assert y is x
        assert y.grad_fn is None


@pytest.mark.parametrize(("shape", "dims"), [((), (0, 0)), ((2, 3), (0, 1)), ((2, 3, 4), (0, 1))])
def test_flatten_other_dims_still_views(torch, shape, dims):
    for lib in (torch, gg):
        x = lib.zeros(shape)
        y = x.flatten(*dims)
        assert y is not x
        y.add_(1.0)  # a view: writes reach x
        assert float(x.sum()) == float(np.prod(shape))
