"""Round 21, rasbt/machine-learning-book ch12-ch18: ``torch.bucketize`` (ch13's auto-MPG model
buckets the model year with ``right=True``) and ``torch.searchsorted``, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import ShapeError


def script(torch):
    b = torch.tensor([73, 76, 79])
    v = torch.tensor([70, 73, 75, 76, 80])
    rows = torch.tensor([[1.0, 3.0], [2.0, 4.0]])
    out = [
        torch.bucketize(v, b, right=True),
        torch.bucketize(v, b),
        torch.bucketize(76, b),
        torch.bucketize(torch.tensor([[1.5, 9.0]]), torch.tensor([1.0, 2.0]), out_int32=True),
        torch.searchsorted(b, v, side="right"),
        torch.searchsorted(b, v),
        torch.searchsorted(rows, torch.tensor([[2.0], [2.0]])),
        torch.searchsorted(torch.tensor([3, 1, 2]), torch.tensor([2]), sorter=torch.tensor([1, 2, 0])),
    ]
    return [(t.tolist(), str(t.dtype).split(".")[-1], tuple(t.shape)) for t in out]


def test_bucketize_and_searchsorted_match_pytorch(torch):
    assert script(glassgrad) == script(torch)


def test_bucketize_refuses_2d_boundaries():
    with pytest.raises(ShapeError, match="bucketize: boundaries tensor must be 1 dimension"):
        glassgrad.bucketize(glassgrad.tensor([1]), glassgrad.tensor([[1, 2]]))


def test_inplace_on_read_only_numpy_array_names_the_cause(monkeypatch):
    """``from_numpy`` of a read-only array (pandas' ``.values``, ``np.asarray(PIL image)``): PyTorch
    warns once per program and writes into it; glassgrad warns the same way, then refuses the
    write with a message naming that cause."""
    from glassgrad import factories

    monkeypatch.setattr(factories, "_read_only_warned", [False])
    a = np.arange(4.0, dtype=np.float32)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="from_numpy: the given NumPy array is not writable"):
        t = glassgrad.from_numpy(a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glassgrad.from_numpy(a)  # once per program
    with pytest.raises(ShapeError, match="from_numpy/as_tensor of a read-only NumPy array"):
        t.add_(1)


def test_searchsorted_with_nans_and_rows_takes_pytorchs_binary_search(torch):
    """A NaN in the sequence or the values goes where PyTorch's binary search takes it."""
    rng = np.random.default_rng(1)
    for trial in range(60):
        lead = (int(rng.integers(1, 4)),) if trial % 2 else ()
        s = np.sort(rng.standard_normal((*lead, int(rng.integers(1, 9)))), -1)
        s[..., -1:] = np.nan if trial % 3 == 0 else s[..., -1:]
        s[..., :1] = np.nan if trial % 5 == 0 else s[..., :1]
        v = rng.standard_normal((*lead, int(rng.integers(1, 6))))
        v.flat[0] = np.nan if trial % 4 == 0 else v.flat[0]
        for right in (False, True):
            ours = glassgrad.searchsorted(glassgrad.tensor(s), glassgrad.tensor(v), right=right).numpy()
            theirs = torch.searchsorted(torch.tensor(s), torch.tensor(v), right=right).numpy()
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("xdt", "tdt"), [(np.float64, np.float32), (np.float32, np.float64)])
def test_bce_with_logits_takes_the_targets_dtype(torch, xdt, tdt):
    """Mixed float dtypes: PyTorch's loss has the target's dtype, the input's gradient its own."""
    out = []
    for lib in (glassgrad, torch):
        x = lib.tensor(np.array([0.5, -1.0, 3.0], dtype=xdt), requires_grad=True)
        t = lib.tensor(np.array([1.0, 0.0, 0.5], dtype=tdt))
        loss = lib.nn.functional.binary_cross_entropy_with_logits(x, t)
        loss.backward()
        out.append(
            (str(loss.dtype).split(".")[-1], loss.item(), str(x.grad.dtype).split(".")[-1], x.grad.tolist())
        )
    assert out[0][0] == out[1][0] and out[0][2] == out[1][2]
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)
    np.testing.assert_allclose(out[0][3], out[1][3], rtol=1e-6)
