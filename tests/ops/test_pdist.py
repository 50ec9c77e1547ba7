"""``pdist`` (ops/products_more.py; ``torch.pdist`` and ``F.pdist``, port round 30): PyTorch parity
of values, dtypes and gradients for every p (equal rows, zero differences, ties), a float64
finite-difference gradcheck, double backward, empty results and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, ShapeError
from tests.ops.test_indexing_more import DTYPES, parity, rand


def _rows():
    x = rand(5, 3)
    x[3] = x[1]  # two equal rows: distance 0, whose gradient PyTorch sets to 0
    x[4, 0] = x[0, 0]  # a zero difference (p < 1 sets its gradient to 0)
    x[2] = x[0] + np.array([1.0, -1.0, 0.5])  # a tie of |d| for p = inf
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_pdist_matches_pytorch(torch, dtype, p):
    parity(torch, lambda L, c, a: L.pdist(a, p), [_rows()], dtype)
    parity(torch, lambda L, c, a: L.nn.functional.pdist(a, p=p), [_rows()], dtype)


@pytest.mark.parametrize("shape", [(1, 3), (4, 0)])
def test_pdist_degenerate_shapes_match_pytorch(torch, shape):
    parity(torch, lambda L, c, a: L.pdist(a), [np.ones(shape)])


def test_pdist_of_no_rows_is_empty():
    # (PyTorch 2.13's backward crashes the process for 0 rows: checked by hand)
    x = gg.ones(0, 3, requires_grad=True)
    out = gg.pdist(x)
    assert out.shape == (0,) and out.dtype == gg.float32
    out.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("p", [0.5, 1.5, 2.0, 3.0])
def test_pdist_gradcheck_float64(p):
    x = gg.tensor(rand(4, 3), requires_grad=True)
    assert gradcheck(lambda a: gg.pdist(a, p), (x,))


def test_pdist_double_backward_matches_pytorch(torch):
    # PyTorch has no double backward for pdist nor cdist: the norms of the differences of the
    # same pairs (no pair equal) are the reference
    x = rand(4, 3)
    rows, cols = np.triu_indices(4, k=1)
    grads = []
    for lib in (gg, torch):
        a = lib.tensor(x, requires_grad=True)
        d = gg.pdist(a) if lib is gg else (a[rows] - a[cols]).pow(2).sum(-1).sqrt()
        (g,) = lib.autograd.grad(d.pow(3).sum(), a, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), a)
        grads.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10, atol=1e-12)


def test_pdist_errors_name_op_and_shapes():
    with pytest.raises(ShapeError, match=r"pdist: expected a 2-D input \(N, M\), got shape \(3,\)"):
        gg.pdist(gg.ones(3))
    with pytest.raises(ShapeError, match=r"got shape \(2, 2, 2\)"):
        gg.nn.functional.pdist(gg.ones(2, 2, 2))
    with pytest.raises(DTypeError, match="pdist: expected a floating point input, got glassgrad.int64"):
        gg.pdist(gg.ones(2, 3, dtype=gg.int64))
    with pytest.raises(ValueError, match="pdist: expected p to be a non-negative number, got -1"):
        gg.pdist(gg.ones(2, 3), p=-1)
