"""An empty batch (N = 0) through the layers that once crashed on it (NumPy cannot infer a -1 dim
of an empty array; the norms' "one value per channel" tests counted 0 as 1): the same output
shapes, input and parameter gradients and buffers as PyTorch."""

from __future__ import annotations

import pytest

import glassgrad as gg

LAYERS = {
    "ConvTranspose1d": (lambda nn: nn.ConvTranspose1d(2, 3, 3), (0, 2, 5)),
    "ConvTranspose2d": (lambda nn: nn.ConvTranspose2d(2, 4, 3, groups=2), (0, 2, 5, 5)),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(2), (0, 2, 4)),
    "MaxPool2d": (lambda nn: nn.MaxPool2d(2), (0, 2, 4, 4)),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(2), (0, 2, 4)),
    "AvgPool2d": (lambda nn: nn.AvgPool2d(2), (0, 2, 4, 4)),
    "LPPool2d": (lambda nn: nn.LPPool2d(2, 2), (0, 2, 4, 4)),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d(2), (0, 2, 4, 4)),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), (0, 4, 3, 3)),
    "InstanceNorm2d": (lambda nn: nn.InstanceNorm2d(4), (0, 4, 3, 3)),  # affine: PyTorch fails on N = 0
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(4), (0, 4)),
    "BatchNorm2d": (lambda nn: nn.BatchNorm2d(4), (0, 4, 3, 3)),
}


def _run(lib, name):
    make, shape = LAYERS[name]
    layer = make(lib.nn)
    x = lib.zeros(*shape, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    grads = [None if p.grad is None else p.grad.tolist() for p in layer.parameters()]
    return tuple(y.shape), tuple(x.grad.shape), grads, [b.tolist() for b in layer.buffers()]


@pytest.mark.parametrize("name", LAYERS)
def test_empty_batch_matches_torch(torch, name):
    assert _run(gg, name) == _run(torch, name)
