"""Issue 7, item 2: ``torch.utils.data`` reached both as an attribute path and by import, the way
the tutorials' data sections use it. Each script runs on glassgrad and on PyTorch."""

from __future__ import annotations

import importlib

import numpy as np

import glassgrad

from .helpers import assert_same

X = np.arange(40, dtype=np.float32).reshape(20, 2)
Y = np.arange(20) % 3


def script_dataset_and_loader(torch):
    data = importlib.import_module(torch.__name__ + ".utils.data")
    assert data.DataLoader is torch.utils.data.DataLoader

    class Squares(data.Dataset):  # a map-style dataset, as the data tutorial writes one
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, idx):
            return torch.tensor([float(idx)]), idx * idx

    full = data.ConcatDataset([data.TensorDataset(torch.tensor(X), torch.tensor(Y)),
                               data.TensorDataset(torch.tensor(X[:4]) * 2, torch.tensor(Y[:4]))])  # fmt: skip
    head = data.Subset(full, [0, 21, 23])
    train, test = data.random_split(full, [0.75, 0.25], generator=torch.Generator().manual_seed(0))
    loader = data.DataLoader(head, batch_size=2, shuffle=False, drop_last=False)
    batches = [(xb, yb) for xb, yb in loader]
    squares = data.DataLoader(Squares(5), batch_size=3)
    collated = data.default_collate([(torch.ones(2), 1, {"k": 2.0}), (torch.zeros(2), 0, {"k": 3.0})])
    sampled = list(data.BatchSampler(data.SequentialSampler(range(7)), batch_size=3, drop_last=True))
    return [len(full), len(head), len(train), len(test), batches, [b for b in squares], collated, sampled]


def test_dataset_and_loader_port(torch):
    assert_same(script_dataset_and_loader(glassgrad), script_dataset_and_loader(torch))


def test_from_import_forms():
    from glassgrad.utils.data import DataLoader, TensorDataset, random_split  # noqa: F401
    from glassgrad.utils.data.dataloader import default_collate  # noqa: F401

    assert glassgrad.utils.data.TensorDataset is TensorDataset
