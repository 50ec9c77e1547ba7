"""Issue 7, items 1 and 3, written as the official examples write them: pick a device, build
tensors and a model on it with PyTorch's factory keywords, seed every generator, set the backend
flags. Each script runs once on glassgrad and once on PyTorch (CPU); the results must agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same


def script_device_selection(torch):
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    use_cuda = torch.cuda.is_available()
    torch.manual_seed(1)
    torch.cuda.manual_seed(1)
    torch.cuda.manual_seed_all(1)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    kwargs = {"num_workers": 1, "pin_memory": True} if use_cuda else {}
    cuda = torch.device("cuda")  # constructible without a GPU; it fails only on use
    return [use_accel, str(device), device.type, use_cuda, torch.cuda.device_count(), kwargs,
            torch.backends.mps.is_available(), str(cuda), cuda.type]  # fmt: skip


def test_device_selection_port(torch):
    assert_same(script_device_selection(glassgrad), script_device_selection(torch))


def script_factories(torch):
    device, dtype = torch.device("cpu"), torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    a = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    made = [x, torch.sin(x), a,
            torch.zeros(2, 3, device=device), torch.ones((2,), dtype=torch.float64, device="cpu"),
            torch.arange(5, device=device), torch.arange(0, 1, 0.25, device=device, dtype=dtype),
            torch.eye(3, device=device), torch.full((2, 2), 7, device=device),
            torch.tensor([[1, 2], [3, 4]], device=device, dtype=torch.long),
            torch.empty(3, 4, device=device).shape,
            torch.zeros_like(x[:3], device=device), torch.ones_like(x[:2], dtype=torch.float64),
            torch.full_like(x[:2], 2.5), torch.randn(4, 5, device=device, dtype=dtype).shape,
            torch.rand(4, device=device).shape, torch.randint(0, 10, (3,), device=device).dtype]  # fmt: skip
    assert a.requires_grad and a.is_leaf
    return made


def test_factories_port(torch):
    assert_same(script_factories(glassgrad), script_factories(torch))


def script_model_to_device(torch):
    device = torch.device("cpu")
    model = torch.nn.Linear(3, 2).to(device)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]))
        model.bias.fill_(0.1)
    data, target = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([1])
    data, target = data.to(device), target.to(device)
    out = model(data.cpu())
    return [out, out.device.type, str(data.to("cpu", torch.float64).dtype).split(".")[-1],
            next(model.parameters()).device.type]  # fmt: skip


def test_model_to_device_port(torch):
    assert_same(script_model_to_device(glassgrad), script_model_to_device(torch))


def test_cuda_tensor_fails_on_use_with_a_clear_message():
    # PyTorch without a GPU raises too (AssertionError/RuntimeError); ours says why and what to do
    with pytest.raises(RuntimeError, match="CPU only"):
        glassgrad.ones(2).to(glassgrad.device("cuda"))
    with pytest.raises(RuntimeError, match="CPU only"):
        glassgrad.ones(2).cuda()


def script_default_device(torch):
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    torch.set_default_device(device)
    try:
        x = torch.linspace(0, 1, 5, dtype=torch.float)
        return [device, x, x.device.type]
    finally:
        torch.set_default_device(None)


def test_default_device_port(torch):
    assert_same(script_default_device(glassgrad), script_default_device(torch))


def test_seeding_is_repeatable():
    # same seed, same numbers (PyTorch's stream differs; scripts only rely on repeatability)
    glassgrad.manual_seed(3)
    first = glassgrad.randn(4).numpy().copy()
    glassgrad.manual_seed(3)
    np.testing.assert_array_equal(first, glassgrad.randn(4).numpy())
