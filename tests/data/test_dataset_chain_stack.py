"""ChainDataset, StackDataset and get_worker_info against ``torch.utils.data``: the same samples and
batches from the same data, and the same refusals."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import (
    ChainDataset,
    DataLoader,
    IterableDataset,
    StackDataset,
    TensorDataset,
    get_worker_info,
)


def _plain(batch):
    """Batches as nested lists/dicts of Python numbers, whichever library made them."""
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return [_plain(v) for v in batch]
    return np.asarray(batch.tolist() if hasattr(batch, "tolist") else batch).tolist()


def _stream(lib, start, n):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()  # None in the main process, in both libraries
            assert info is None
            return iter(range(start, start + n))

        def __len__(self):
            return n

    return Stream()


def _chain_script(lib):
    chained = lib.utils.data.ChainDataset([_stream(lib, 0, 3), _stream(lib, 10, 4)])
    return len(chained), list(chained), [_plain(b) for b in lib.utils.data.DataLoader(chained, batch_size=3)]


def test_chain_dataset_matches_torch(torch):
    assert _chain_script(gg) == _chain_script(torch)


def _stack_script(lib):
    x = lib.arange(12.0).reshape(6, 2)
    y = lib.arange(6)
    tds = lib.utils.data.TensorDataset(x)
    out = []
    for ds in (lib.utils.data.StackDataset(tds, y), lib.utils.data.StackDataset(img=x, label=y)):
        out.append([len(ds), _plain(ds[4])])
        out.append([_plain(b) for b in lib.utils.data.DataLoader(ds, batch_size=4)])
    return out


def test_stack_dataset_matches_torch(torch):
    assert _stack_script(gg) == _stack_script(torch)


def test_stack_dataset_uses_getitems_of_its_parts():
    calls = []

    class Counted(TensorDataset):
        def __getitems__(self, indices):
            calls.append(list(indices))
            return super().__getitems__(indices)

    ds = StackDataset(Counted(gg.arange(5)), list(range(5)))
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert calls == [[0, 1, 2]] and _plain(batch) == [[[0, 1, 2]], [0, 1, 2]]


def test_stack_and_chain_refusals():
    with pytest.raises(
        ValueError, match=r"StackDataset: expected datasets of one length, got lengths \[2, 3\]"
    ):
        StackDataset([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="StackDataset: expected datasets as positional or as keyword"):
        StackDataset([1], y=[2])
    with pytest.raises(ValueError, match="StackDataset: expected at least one dataset"):
        StackDataset()
    with pytest.raises(TypeError, match="ChainDataset: expected IterableDatasets, got TensorDataset"):
        list(ChainDataset([TensorDataset(gg.arange(2))]))
    assert get_worker_info() is None and isinstance(ChainDataset([]), IterableDataset)


def _add_script(lib):
    """``stream + stream`` chains (torchtext's ``train + val + test`` of Multi30k datapipes)."""
    chained = _stream(lib, 0, 2) + _stream(lib, 10, 1) + _stream(lib, 20, 2)
    inner = chained.datasets[0]
    return type(chained).__name__, type(inner).__name__, len(chained), list(chained)


def test_iterable_dataset_add_chains_like_torch(torch):
    assert _add_script(gg) == _add_script(torch) == ("ChainDataset", "ChainDataset", 5, [0, 1, 10, 20, 21])
