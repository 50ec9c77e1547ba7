"""The official quickstart's shape of program (a Dataset, DataLoader, a Module with Flatten and
Sequential, CrossEntropyLoss, SGD, train and test loops, saving and reloading the weights), run on
glassgrad and on PyTorch from the same starting weights: the losses and accuracies must agree.
Also the two ways of moving a model's weights between the libraries that docs/porting.md shows."""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

RNG = np.random.default_rng(7)
IMAGES = RNG.standard_normal((96, 1, 4, 4)).astype(np.float32)
LABELS = (IMAGES.reshape(96, -1)[:, :3].argmax(1)).astype(np.int64)
START = {"linear_relu_stack.0.weight": RNG.standard_normal((12, 16)) * 0.3,
         "linear_relu_stack.0.bias": np.zeros(12),
         "linear_relu_stack.2.weight": RNG.standard_normal((3, 12)) * 0.3,
         "linear_relu_stack.2.bias": np.zeros(3)}  # fmt: skip


def script_quickstart(torch, tmp_path):
    nn = torch.nn
    from importlib import import_module

    data = import_module(torch.__name__ + ".utils.data")
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

    class Images(data.Dataset):
        def __init__(self, lo, hi):
            self.x, self.y = torch.from_numpy(IMAGES[lo:hi]), torch.from_numpy(LABELS[lo:hi])

        def __len__(self):
            return len(self.y)

        def __getitem__(self, idx):
            return self.x[idx], self.y[idx]

    train_dataloader = data.DataLoader(Images(0, 64), batch_size=16)
    test_dataloader = data.DataLoader(Images(64, 96), batch_size=16)

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = NeuralNetwork().to(device)
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in START.items()})
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    losses, accuracies = [], []
    for _epoch in range(3):
        model.train()
        for X, y in train_dataloader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        model.eval()
        correct = 0
        with torch.no_grad():
            for X, y in test_dataloader:
                pred = model(X.to(device))
                correct += (pred.argmax(1) == y.to(device)).type(torch.float).sum().item()
        accuracies.append(correct / len(test_dataloader.dataset))
    path = os.path.join(tmp_path, "model.pth")
    torch.save(model.state_dict(), path)
    reloaded = NeuralNetwork()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
    x = torch.from_numpy(IMAGES[:2])
    return losses, accuracies, reloaded(x), model(x), str(model).replace(torch.__name__, "LIB")


def test_quickstart_port(torch, tmp_path):
    ours = script_quickstart(glassgrad, tmp_path)
    theirs = script_quickstart(torch, tmp_path)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours[0][-1] < ours[0][0]


def test_weights_move_through_numpy(torch):
    ours = glassgrad.nn.Sequential(glassgrad.nn.Linear(4, 3), glassgrad.nn.Tanh(), glassgrad.nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    # PyTorch -> glassgrad, then back into a fresh PyTorch model
    ours.load_state_dict({k: glassgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    again = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    again.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(glassgrad.tensor(x)).detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(again(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)


def test_weights_move_through_safetensors(torch, tmp_path):
    storch = pytest.importorskip("safetensors.torch")
    theirs = torch.nn.Linear(5, 2)
    path = str(tmp_path / "w.safetensors")
    storch.save_file(theirs.state_dict(), path)  # PyTorch writes, glassgrad reads
    ours = glassgrad.nn.Linear(5, 2)
    ours.load_state_dict(glassgrad.load(path))
    glassgrad.save(ours.state_dict(), path)  # glassgrad writes, PyTorch reads
    back = torch.nn.Linear(5, 2)
    back.load_state_dict(storch.load_file(path))
    x = np.ones((1, 5), np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(glassgrad.tensor(x)).detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(back(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)
