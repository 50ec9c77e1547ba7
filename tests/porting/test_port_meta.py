"""The meta-device recipes, written as the official tutorials write them
(``recipes_source/recipes/reasoning_about_shapes.py`` and ``module_load_state_dict_tips.py``):
each script runs once on glassgrad and once on PyTorch (CPU); the results must agree."""

from __future__ import annotations

import time

import pytest

import glassgrad

from .helpers import assert_same


@pytest.fixture(autouse=True)
def _restore_default_device():
    yield
    glassgrad.set_default_device("cpu")


def script_reasoning_about_shapes(torch):
    nn, F = torch.nn, torch.nn.functional
    t = torch.rand(2, 3, 10, 10, device="meta")
    conv = torch.nn.Conv2d(3, 5, 2, device="meta")
    out = [tuple(conv(t).shape)]
    start = time.perf_counter()
    big = conv(torch.rand(2**10, 3, 2**16, 2**16, device="meta"))  # no data: no time, no memory
    out += [tuple(big.shape), str(big.device), time.perf_counter() - start < 0.5]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    seen = []

    def fw_hook(module, input, output):
        seen.append(f"Shape of output to {module} is {tuple(output.shape)}.")

    with torch.device("meta"):
        net = Net()
        inp = torch.randn((1024, 3, 32, 32))
    for _, layer in net.named_modules():
        layer.register_forward_hook(fw_hook)
    result = net(inp)
    return [*out, seen, tuple(result.shape), str(result.device), repr(t).replace("torch.", "")]


def test_reasoning_about_shapes_port(torch):
    assert_same(script_reasoning_about_shapes(glassgrad), script_reasoning_about_shapes(torch))


def script_load_state_dict_tips(torch, path):
    nn = torch.nn

    class SomeModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linears = nn.ModuleList([nn.Linear(1, 1) for i in range(10)])

        def forward(self, x):
            return self.linears(x)

    torch.manual_seed(0)
    m = SomeModule()
    torch.save(m.state_dict(), path)
    state_dict = torch.load(path, mmap=True)
    with torch.device("meta"):
        meta_m = SomeModule()
    out = [sorted({str(p.device) for p in meta_m.parameters()})]
    out.append(str(meta_m.linears[0].weight))
    meta_m.load_state_dict(state_dict, assign=True)
    x = torch.ones(3, 1)
    out.append(sorted({str(p.device) for p in meta_m.parameters()}))
    out.append([meta_m.linears[i](x).detach() for i in range(10)])
    out.append([bool(torch.equal(a, b)) for a, b in zip(meta_m.parameters(), m.parameters())])
    # the large-model pattern: build on meta, give storage, initialise, load
    with torch.device("meta"):
        lazy = SomeModule()
    lazy.to_empty(device="cpu")
    for layer in lazy.linears:
        layer.reset_parameters()
    out.append([tuple(lazy.linears[i](x).shape) for i in range(2)])
    lazy.load_state_dict(state_dict)
    out.append([bool(torch.equal(lazy.linears[i](x), m.linears[i](x))) for i in range(10)])
    return out


def test_module_load_state_dict_tips_port(torch, tmp_path):
    ours = script_load_state_dict_tips(glassgrad, tmp_path / "ours.safetensors")
    theirs = script_load_state_dict_tips(torch, tmp_path / "theirs.pt")
    assert ours[:2] == theirs[:2] and ours[2] == theirs[2]
    assert len(ours[3]) == 10 and ours[4:] == theirs[4:]
