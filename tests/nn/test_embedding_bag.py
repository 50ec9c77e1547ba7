"""EmbeddingBag / F.embedding_bag against PyTorch: every mode, offsets, per-sample weights,
padding_idx, include_last_offset, empty bags, 2-D input, reprs, state_dict, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError


def _case(rng: np.random.Generator):
    num, length = int(rng.integers(3, 9)), int(rng.integers(0, 12))
    ids = rng.integers(0, num, length)
    offsets = np.sort(rng.integers(0, length + 1, int(rng.integers(1, 5))))
    offsets[0] = 0
    return num, ids, offsets


@pytest.mark.parametrize("seed", range(24))
def test_functional_sweep_matches_pytorch(torch, seed):
    rng = np.random.default_rng(seed)
    num, ids, offsets = _case(rng)
    mode = ("sum", "mean", "max")[seed % 3]
    dtype = np.float32 if seed % 2 else np.float64
    include_last = bool(rng.integers(0, 2))
    if include_last:
        offsets = np.append(offsets, ids.size)  # CSR: the last offset is the input's length (see below)
    padding_idx = None if seed % 4 == 0 else int(rng.integers(-num, num))
    w = rng.standard_normal((num, 4)).astype(dtype)
    psw = rng.standard_normal(ids.size).astype(dtype) if mode == "sum" and seed % 5 else None
    gw, tw = gg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    gp = None if psw is None else gg.tensor(psw, requires_grad=True)
    tp = None if psw is None else torch.tensor(psw, requires_grad=True)
    kw = dict(mode=mode, include_last_offset=include_last, padding_idx=padding_idx)
    out = F.embedding_bag(gg.tensor(ids), gw, gg.tensor(offsets), per_sample_weights=gp, **kw)
    tout = torch.nn.functional.embedding_bag(
        torch.tensor(ids), tw, torch.tensor(offsets), per_sample_weights=tp, **kw
    )
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.shape == tuple(tout.shape) and out.dtype == gg.tensor(w).dtype
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol)
    up = rng.standard_normal(out.shape).astype(dtype)
    out.backward(gg.tensor(up))
    tout.backward(torch.from_numpy(up))
    np.testing.assert_allclose(gw.grad._data, tw.grad.numpy(), atol=tol)
    if gp is not None:
        np.testing.assert_allclose(gp.grad._data, tp.grad.numpy(), atol=tol)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_module_2d_input_matches_pytorch(torch, mode):
    ours, theirs = (
        nn.EmbeddingBag(10, 3, mode=mode, padding_idx=1),
        torch.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=1),
    )
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert not ours.weight._data[1].any()
    ours.load_state_dict({"weight": theirs.weight.detach().numpy().copy()})
    ids = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [1, 1, 1, 1]])
    out, tout = ours(gg.tensor(ids)), theirs(torch.tensor(ids))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(ours.weight.grad._data, theirs.weight.grad.numpy(), atol=1e-6)


def test_reprs_max_norm_and_from_pretrained(torch):
    kw = dict(max_norm=1.0, mode="sum", padding_idx=2, include_last_offset=True)
    assert repr(nn.EmbeddingBag(10, 3, **kw)) == repr(torch.nn.EmbeddingBag(10, 3, **kw))
    assert repr(nn.EmbeddingBag(10, 3, norm_type=1.0)) == repr(torch.nn.EmbeddingBag(10, 3, norm_type=1.0))
    w = np.random.default_rng(0).standard_normal((6, 3)) * 3
    ours = nn.EmbeddingBag.from_pretrained(gg.tensor(w.copy()), max_norm=1.5, mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w.copy()), max_norm=1.5, mode="sum")
    assert not ours.weight.requires_grad
    ids, off = np.array([0, 2, 2, 5, 1]), np.array([0, 3])
    np.testing.assert_allclose(
        ours(gg.tensor(ids), gg.tensor(off))._data, theirs(torch.tensor(ids), torch.tensor(off)).numpy()
    )
    np.testing.assert_allclose(ours.weight._data, theirs.weight.numpy())  # rows renormalised in place


def test_empty_bags_and_empty_input():
    w = gg.randn(5, 2)
    out = F.embedding_bag(gg.tensor([3, 1]), w, gg.tensor([0, 0, 2]), mode="max")
    assert out[0].tolist() == [0.0, 0.0] and out[2].tolist() == [0.0, 0.0]
    assert F.embedding_bag(gg.zeros(0, 3, dtype=gg.int64), w).shape == (0, 2)
    empty = F.embedding_bag(gg.tensor([], dtype=gg.int64), w, gg.tensor([0, 0]), mode="sum")
    assert empty.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_include_last_offset_short_of_the_input_ends_the_last_bag():
    # PyTorch's documented contract is offsets[-1] == len(input); when it is smaller, PyTorch's
    # modes disagree (sum stops at offsets[-1], mean and max read on to the end). glassgrad always
    # ends the last bag at offsets[-1], the CSR meaning.
    w = gg.arange(10.0).reshape(10, 1)
    ids, off = gg.tensor([1, 2, 3, 4, 5, 6]), gg.tensor([0, 2, 4])
    for mode, want in (("sum", [3.0, 7.0]), ("mean", [1.5, 3.5]), ("max", [2.0, 4.0])):
        assert F.embedding_bag(ids, w, off, mode=mode, include_last_offset=True).flatten().tolist() == want


def test_errors():
    w, ids = gg.randn(10, 3), gg.tensor([1, 2, 4, 5])
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(ids, w, gg.tensor([1, 2]))
    with pytest.raises(ValueError, match="can not be greater than input's length 4"):
        F.embedding_bag(ids, w, gg.tensor([0, 5]))
    with pytest.raises(ValueError, match="non-decreasing offsets"):
        F.embedding_bag(ids, w, gg.tensor([0, 3, 2]))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ids.reshape(2, 2), w, gg.tensor([0, 1]))
    with pytest.raises(ValueError, match="offsets has to be a 1-D tensor"):
        F.embedding_bag(ids, w)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(ids, w, gg.tensor([0]), mode="min")
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(ids, w, gg.tensor([0]), per_sample_weights=gg.ones(4))
    with pytest.raises(IndexError, match=r"expected ids in \[0, 10\), got id 11"):
        F.embedding_bag(gg.tensor([11]), w, gg.tensor([0]))
    with pytest.raises(DTypeError, match="expected integer ids"):
        F.embedding_bag(gg.tensor([1.0]), w, gg.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(3, 2, mode="min")


def test_max_mode_nan_follows_pytorch_and_its_gradient_stays_in_the_bag(torch):
    # PyTorch keeps a bag's first entry and replaces it only by a strictly greater one: a NaN
    # wins only as the first entry. The gradient of a NaN column once went to the last row of the
    # whole input (here id 3, of another bag); later NaNs turned a bag's maximum into NaN.
    w = np.array([[1.0, 2.0], [1.0, 5.0], [np.nan, 0.0], [3.0, 3.0]])
    for ids, off in (([2, 0, 1, 3], [0, 1]), ([0, 1, 0, 2], [0, 2]), ([2, 3, 2], [0])):
        gw, tw = gg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        out = F.embedding_bag(gg.tensor(ids), gw, gg.tensor(off), mode="max")
        tout = torch.nn.functional.embedding_bag(torch.tensor(ids), tw, torch.tensor(off), mode="max")
        np.testing.assert_array_equal(out._data, tout.detach().numpy())
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_array_equal(gw.grad._data, tw.grad.numpy())


def test_no_offsets_give_no_bags(torch):
    # an empty offsets tensor: PyTorch returns (0, D); glassgrad raised NumPy's IndexError
    w = gg.randn(4, 2)
    out = F.embedding_bag(gg.tensor([0, 1]), w, gg.tensor([], dtype=gg.int64), mode="sum")
    tout = torch.nn.functional.embedding_bag(
        torch.tensor([0, 1]), torch.randn(4, 2), torch.tensor([], dtype=torch.int64), mode="sum"
    )
    assert out.shape == tuple(tout.shape) == (0, 2)
    with pytest.raises(ValueError, match="at least 1 offset with include_last_offset"):
        F.embedding_bag(gg.tensor([0, 1]), w, gg.tensor([], dtype=gg.int64), include_last_offset=True)


def test_max_norm_renormalises_every_input_id_as_pytorch(torch):
    # PyTorch rescales every id of the input, padding_idx and ids past offsets[-1] included;
    # glassgrad rescaled only the ids that entered a bag
    ours, theirs = gg.full((4, 2), 3.0), torch.full((4, 2), 3.0)
    kw = dict(max_norm=1.0, padding_idx=1, include_last_offset=True)
    F.embedding_bag(gg.tensor([0, 1, 2, 3]), ours, gg.tensor([0, 2]), **kw)
    torch.nn.functional.embedding_bag(torch.tensor([0, 1, 2, 3]), theirs, torch.tensor([0, 2]), **kw)
    np.testing.assert_allclose(ours._data, theirs.numpy(), atol=1e-6)
