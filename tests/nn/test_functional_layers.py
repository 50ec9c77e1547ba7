"""F.linear, F.bilinear, F.dropout, F.embedding, F.one_hot, F.pad: PyTorch parity (values and
gradients w.r.t. input, weight and bias), dropout's statistics and reproducibility, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError, ShapeError
from tests.nn.test_functional_parity import DTYPES, TOL, check


# ------------------------------------------------------------------ linear, bilinear
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize(("w_shape", "bias"), [((4, 3), False), ((4, 3), True), ((3,), False)])
def test_linear_parity(torch, dtype, x_shape, w_shape, bias):
    TF = torch.nn.functional
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[:-1]))
    check(F.linear, TF.linear, *arrays, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead", [(5,), (2, 3), ()])
@pytest.mark.parametrize("bias", [False, True])
def test_bilinear_parity(torch, dtype, lead, bias):
    TF = torch.nn.functional
    rng = np.random.default_rng(1)
    arrays = [
        rng.standard_normal((*lead, 3)),
        rng.standard_normal((*lead, 2)),
        rng.standard_normal((4, 3, 2)),
    ]
    if bias:
        arrays.append(rng.standard_normal(4))
    check(F.bilinear, TF.bilinear, *arrays, dtype=dtype)


def test_linear_and_bilinear_errors():
    with pytest.raises(ShapeError, match=r"linear: .*got input \(2, 5\) and weight \(4, 3\)"):
        F.linear(gg.randn(2, 5), gg.randn(4, 3))
    with pytest.raises(ShapeError, match=r"linear: expected bias of shape \(4,\).*got \(3,\)"):
        F.linear(gg.randn(2, 3), gg.randn(4, 3), gg.randn(3))
    with pytest.raises(ShapeError, match=r"bilinear: .*got \(5, 3\) and \(4, 2\)"):
        F.bilinear(gg.randn(5, 3), gg.randn(4, 2), gg.randn(4, 3, 2))
    with pytest.raises(ShapeError, match=r"bilinear: .*got \(5, 3\), \(5, 2\) and \(3, 2\)"):
        F.bilinear(gg.randn(5, 3), gg.randn(5, 2), gg.randn(3, 2))


# ------------------------------------------------------------------ dropout
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(dtype, p):
    n = 200_000
    x = gg.tensor(np.full(n, 2.0, dtype), requires_grad=True)
    out = F.dropout(x, p)
    assert out.dtype == x.dtype
    dropped = out._data == 0
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(dropped.mean() - p) < 6 * sigma  # a 6-sigma band: fails only if the rate is wrong
    np.testing.assert_allclose(out._data[~dropped], 2.0 / (1 - p), rtol=TOL[dtype])  # inverted scaling
    out.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.where(dropped, 0.0, 1 / (1 - p)), rtol=TOL[dtype])


def test_dropout_masks_are_independent_across_calls():
    x = gg.ones(1000)
    a, b = F.dropout(x, 0.5)._data == 0, F.dropout(x, 0.5)._data == 0
    assert (a != b).any()


def test_dropout_is_reproducible_with_manual_seed():
    x = gg.ones(4, 50)
    gg.manual_seed(123)
    first = F.dropout(x, 0.3)._data
    gg.manual_seed(123)
    again = F.dropout(x, 0.3)._data
    gg.manual_seed(124)
    other = F.dropout(x, 0.3)._data
    np.testing.assert_array_equal(first, again)
    assert (first != other).any()


def test_dropout_eval_and_edge_probabilities():
    x = gg.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    assert (out._data == 0).all() and out.requires_grad
    out.sum().backward()
    assert (x.grad._data == 0).all()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match=rf"dropout: expected a probability p between 0 and 1, got {p}"):
        F.dropout(gg.randn(3), p)


# ------------------------------------------------------------------ embedding
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("idx", [[3, 1, 3, 3, 0], [[0, 2], [2, 2], [4, 1]], 2])
@pytest.mark.parametrize("padding_idx", [None, 2, -3])
def test_embedding_parity(torch, dtype, idx, padding_idx):
    """Repeated indices accumulate gradient; the padding row gets none (its value is still returned)."""
    TF = torch.nn.functional
    w = np.random.default_rng(2).standard_normal((5, 3))
    out = check(
        lambda i, w: F.embedding(i, w, padding_idx),
        lambda i, w: TF.embedding(i, w, padding_idx),
        np.array(idx),
        w,
        dtype=dtype,
    )
    assert out.shape == (*np.shape(idx), 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("max_norm", "norm_type"), [(1.0, 2.0), (0.5, 1.0), (100.0, 2.0)])
def test_embedding_max_norm_renormalises_rows_like_torch(torch, dtype, max_norm, norm_type):
    TF = torch.nn.functional
    w_np = np.random.default_rng(3).standard_normal((6, 4)).astype(dtype) * 2
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    w, tw = gg.tensor(w_np, requires_grad=True), torch.tensor(w_np, requires_grad=True)
    out = F.embedding(gg.tensor(idx), w, max_norm=max_norm, norm_type=norm_type)
    tout = TF.embedding(torch.tensor(idx), tw, max_norm=max_norm, norm_type=norm_type)
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=TOL[dtype], atol=TOL[dtype])
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(w.grad._data, tw.grad.numpy(), rtol=TOL[dtype], atol=TOL[dtype])


def test_embedding_errors():
    w = gg.randn(5, 3, requires_grad=True)
    with pytest.raises(DTypeError, match="embedding: expected integer indices"):
        F.embedding(gg.tensor([1.0, 2.0]), w)
    with pytest.raises(IndexError, match=r"embedding: expected indices in \[0, 5\), got index 5"):
        F.embedding(gg.tensor([1, 5]), w)
    with pytest.raises(IndexError, match=r"got index -1"):
        F.embedding(gg.tensor([-1, 0]), w)
    with pytest.raises(ValueError, match=r"embedding: expected padding_idx in \[-5, 5\), got 5"):
        F.embedding(gg.tensor([1]), w, padding_idx=5)
    with pytest.raises(
        ShapeError, match=r"embedding: expected weight of shape \(num_embeddings, embedding_dim\), got \(5,\)"
    ):
        F.embedding(gg.tensor([1]), gg.randn(5))


# ------------------------------------------------------------------ one_hot, pad
def test_one_hot_parity(torch):
    TF = torch.nn.functional
    idx = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(
        F.one_hot(gg.tensor(idx), 5)._data, TF.one_hot(torch.tensor(idx), 5).numpy()
    )
    np.testing.assert_array_equal(F.one_hot(gg.tensor(idx))._data, TF.one_hot(torch.tensor(idx)).numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("pad", "value"), [((1, 2), 0.0), ((0, 1, 2, 0), -1.5)])
def test_pad_parity(torch, dtype, pad, value):
    TF = torch.nn.functional
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    check(lambda a: F.pad(a, pad, value=value), lambda a: TF.pad(a, pad, value=value), x, dtype=dtype)
