"""Porting round 42, group fastai: fastai 2.8.12's ``Learner`` (a tabular learner on a pandas frame,
a small CNN on PIL images: ``fit``, ``fit_one_cycle``, ``lr_find``, ``get_preds``, EarlyStopping and
SaveModel callbacks) run on glassgrad with only its imports changed.

- fastai's ``DataLoader`` drives PyTorch's iterator class directly:
  ``_SingleProcessDataLoaderIter(fake_loader)`` over a duck-typed loader whose ``_dataset_kind`` is
  ``_DatasetKind.Iterable`` and ``_index_sampler`` an endless counter; glassgrad had neither
  ``_DatasetKind`` nor the one-argument form (the import of ``fastai.basics`` failed).
- fastai's ``AvgSmoothLoss`` runs ``torch.lerp(loss, self.val, beta)`` with a float64 loss and a
  float32 ``val``: PyTorch refuses mixed dtypes (``expected dtype double for `end```), glassgrad
  promoted them and trained on.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.data import DataLoader, Dataset, IterableDataset, TensorDataset
from glassgrad.data import dataloader as gg_dataloader
from glassgrad.errors import DTypeError


# ----------------------------------------------------------------------------- lerp dtypes
def _lerp_case(lib, a, b, w):
    """Small integers and weights of 1/4 and 3/4: every result is exact in both libraries."""
    x = lib.tensor(np.arange(-2, 4).reshape(2, 3).astype(a))
    y = lib.tensor(np.arange(8, 2, -1).reshape(2, 3).astype(b))
    if isinstance(w, tuple):  # (dtype, shape)
        w = lib.full(w[1], 0.25, dtype=getattr(lib, w[0]))
    return x, y, w


_REFUSED = [
    ("float64", "float32", 0.5),  # end of another dtype (fastai's AvgSmoothLoss)
    ("float32", "float64", 0.25),
    ("float64", "float32", ("float64", ())),
    ("float32", "float32", ("float64", (3,))),  # a weight with dimensions must match
    ("float32", "float32", ("float16", (2, 3))),
    ("float32", "float32", ("int64", (3,))),
    ("int64", "int64", 0.5),  # no integer kernel
]
_ACCEPTED = [
    ("float32", "float32", ("float64", ())),  # a 0-d weight may differ
    ("float64", "float64", ("float32", ())),
    ("float32", "float32", ("float16", ())),
    ("float64", "float64", 0.75),
    ("float32", "float32", ("float32", (3,))),
]


@pytest.mark.parametrize(("a", "b", "w"), _REFUSED)
def test_lerp_refuses_mixed_dtypes_as_pytorch(torch, a, b, w):
    with pytest.raises(RuntimeError):
        torch.lerp(*_lerp_case(torch, a, b, w))
    args = _lerp_case(gg, a, b, w)
    with pytest.raises(DTypeError, match="lerp: expected"):
        gg.lerp(*args)
    with pytest.raises(DTypeError, match="lerp: expected"):
        args[0].lerp(*args[1:])
    x = args[0].clone()
    with pytest.raises(DTypeError, match="lerp_: expected"):
        x.lerp_(*args[1:])
    assert np.array_equal(x.numpy(), args[0].numpy())  # untouched


@pytest.mark.parametrize(("a", "b", "w"), _ACCEPTED)
def test_lerp_accepted_dtypes_match_pytorch(torch, a, b, w):
    want = torch.lerp(*_lerp_case(torch, a, b, w))
    got = gg.lerp(*_lerp_case(gg, a, b, w))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    x, y, ww = _lerp_case(gg, a, b, w)
    x.lerp_(y, ww)
    np.testing.assert_array_equal(x.numpy(), want.numpy())


def test_lerp_float64_end_refused_in_fastai_smoothing_pattern():
    """AvgSmoothLoss: ``val = lerp(loss.mean(), val, beta)`` with val float32 and loss float64."""
    val, loss = gg.tensor(0.0), gg.tensor([0.5, 0.7], dtype=gg.float64)
    with pytest.raises(DTypeError, match=r"for `end`"):
        gg.lerp(loss.mean(), val, 0.98)
    assert gg.lerp(loss.mean(), val.double(), 0.98).item() == pytest.approx(0.02 * 0.6)


def test_lerp_of_a_non_tensor_names_the_argument():
    with pytest.raises(TypeError, match=r"^lerp\(\): expected a Tensor as argument 'input', got ndarray"):
        gg.lerp(np.ones(3), gg.zeros(3), 0.5)


def test_lerp_gradcheck_broadcast():
    rng = np.random.default_rng(4)
    x = gg.tensor(rng.normal(size=(3, 1, 4)), requires_grad=True)
    y = gg.tensor(rng.normal(size=(2, 1)), requires_grad=True)
    w = gg.tensor(rng.uniform(-0.2, 1.2, size=(4,)), requires_grad=True)
    assert gradcheck(gg.lerp, (x, y, w))
    assert gradcheck(lambda a, b: gg.lerp(a, b, 0.7), (x, y))


# ----------------------------------------------------------------------------- loader iterators
class _Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(gg.arange(self.n).tolist())


class _Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return float(i * i)


def _fake_loader(lib, batches):
    """fastai's ``_FakeLoader``: an iterable-kind loader whose dataset yields whole batches."""

    class Fake:
        _IterableDataset_len_called, _auto_collation, drop_last = None, False, False
        _index_sampler = itertools.count()
        _dataset_kind = lib.utils.data.dataloader._DatasetKind.Iterable
        num_workers, timeout, pin_memory, pin_memory_device, persistent_workers = 0, 0, False, "", False
        generator, prefetch_factor, in_order = None, 2, True

        def __init__(self):
            self.dataset = self

        def __iter__(self):
            return iter(batches)

        @staticmethod
        def collate_fn(x):
            return x

    return Fake()


def test_single_process_iter_of_a_duck_typed_loader_as_pytorch(torch):
    batches = [[1, 2], [3, 4], [5]]
    want = list(torch.utils.data.dataloader._SingleProcessDataLoaderIter(_fake_loader(torch, batches)))
    got = list(gg_dataloader._SingleProcessDataLoaderIter(_fake_loader(gg, batches)))
    assert got == want == batches
    assert (gg_dataloader._DatasetKind.Map, gg_dataloader._DatasetKind.Iterable) == (0, 1)


@pytest.mark.parametrize(
    ("make", "kw"),
    [
        (lambda lib: lib.utils.data.TensorDataset(lib.arange(7.0), lib.arange(7)), {"batch_size": 3}),
        (lambda lib: lib.utils.data.TensorDataset(lib.arange(7.0)), {"batch_size": 3, "drop_last": True}),
        (lambda lib: lib.utils.data.TensorDataset(lib.arange(4.0)), {"batch_size": None}),
        (lambda lib: _Squares(), {"batch_size": 2, "collate_fn": lambda b: sum(b)}),
        (lambda lib: _Stream(7), {"batch_size": 3}),
        (lambda lib: _Stream(7), {"batch_size": 3, "drop_last": True}),
        (lambda lib: _Stream(3), {"batch_size": None}),
    ],
)
def test_single_process_iter_of_the_loader_alone_equals_iter(torch, make, kw):
    """``_SingleProcessDataLoaderIter(loader)`` (PyTorch's form, one argument) gives the batches of
    ``iter(loader)``, and ``len`` as PyTorch's (that of the index sampler for a map dataset)."""

    def flat(batches):
        return [
            [np.asarray(t).tolist() for t in b] if isinstance(b, list) else np.asarray(b).tolist()
            for b in batches
        ]

    gg_loader = DataLoader(make(gg), **kw)
    it = gg_dataloader._SingleProcessDataLoaderIter(gg_loader)
    got = flat(it)
    assert got == flat(iter(gg_loader))
    data = make(torch)
    if not isinstance(data, (_Squares, _Stream)):  # (those two are glassgrad datasets)
        want = flat(
            torch.utils.data.dataloader._SingleProcessDataLoaderIter(torch.utils.data.DataLoader(data, **kw))
        )
        assert got == want
    if isinstance(gg_loader.dataset, TensorDataset):
        assert len(gg_dataloader._SingleProcessDataLoaderIter(gg_loader)) == len(gg_loader)


def test_tensor_dataset_item_of_a_1d_tensor_is_a_0d_array(torch):
    """``TensorDataset(x)[i]`` of a 1-D ``x`` held a NumPy scalar: ``np.asarray`` of it raised
    "object __array__ method not producing an array" (PyTorch gives a 0-d array)."""
    want = np.asarray(torch.utils.data.TensorDataset(torch.arange(4.0))[2][0])
    got = np.asarray(TensorDataset(gg.arange(4.0))[2][0])
    assert got.shape == want.shape == () and got.dtype == want.dtype and got == want
    batch = next(iter(DataLoader(TensorDataset(gg.arange(4.0), gg.arange(4)), batch_size=None)))
    assert [np.asarray(t).tolist() for t in batch] == [0.0, 0]


def test_map_fetcher_hands_samples_to_a_custom_collate():
    """glassgrad's batched ``__getitems__`` columns go to ``default_collate`` only: a collate_fn of
    the user's gets the list of samples, as from PyTorch's fetcher."""
    from glassgrad.utils.data._utils.fetch import _MapDatasetFetcher

    ds = TensorDataset(gg.arange(4.0), gg.arange(4))
    seen = []
    _MapDatasetFetcher(ds, True, seen.append, False).fetch([2, 0])
    assert [(a.item(), b.item()) for a, b in seen[0]] == [(2.0, 2), (0.0, 0)]
