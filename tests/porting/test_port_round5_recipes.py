"""What the fifth round's PyTorch recipes needed (docs/porting.md, "Real scripts ported"):
checkpoints of several state dicts with optimizer state, epochs and losses; ``load(mmap=True)``
and the ``map_location`` forms; ``with torch.device(...)``; ``torch.utils.swap_tensors``;
``load_state_dict(strict=False)``'s report. Each script runs on glassgrad and on PyTorch, written
the way the recipes write it."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import safetensors.numpy

import glassgrad
from glassgrad.errors import CheckpointError

from .helpers import assert_same

W = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3)
B = np.array([0.1, -0.2, 0.3, 0.0], np.float32)
X = np.linspace(0.5, -0.5, 6, dtype=np.float32).reshape(2, 3)


def _net(torch):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W))
        net[0].bias.copy_(torch.tensor(B))
        net[2].weight.copy_(torch.tensor(np.ascontiguousarray(W.T[:2, :])))
        net[2].bias.fill_(0.5)
    return net


def _trained(torch, opt_cls, **opt_args):
    net = _net(torch)
    opt = opt_cls(net.parameters(), **opt_args)
    for _ in range(2):
        opt.zero_grad()
        net(torch.tensor(X)).pow(2).sum().backward()
        opt.step()
    return net, opt


def _groups(opt) -> list[dict]:
    """Param groups without PyTorch's implementation switches (foreach, fused ...)."""
    skip = {"foreach", "fused", "differentiable", "capturable"}
    return [{k: v for k, v in g.items() if k not in skip} for g in opt.state_dict()["param_groups"]]


def script_general_checkpoint(torch, path):
    net, optimizer = _trained(torch, torch.optim.SGD, lr=0.01, momentum=0.9)
    torch.save(
        {
            "epoch": 5,
            "model_state_dict": net.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "loss": 0.4,
        },
        path,
    )
    model = _net(torch)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.5)
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.train()
    out_before = model(torch.tensor(X))
    optimizer.zero_grad()
    out_before.pow(2).sum().backward()
    optimizer.step()  # resumes with the saved momentum and lr
    return [
        checkpoint["epoch"],
        type(checkpoint["epoch"]).__name__,
        checkpoint["loss"],
        type(checkpoint["loss"]).__name__,
        out_before,
        [p.detach() for p in model.parameters()],
        [optimizer.state[p]["momentum_buffer"] for p in model.parameters()],
        _groups(optimizer),
    ]


def test_general_checkpoint_port(torch, tmp_path):
    assert_same(
        script_general_checkpoint(glassgrad, tmp_path / "gg.pt"),
        script_general_checkpoint(torch, tmp_path / "pt.pt"),
    )


def script_multiple_models(torch, path):
    nets = [_trained(torch, torch.optim.Adam, lr=0.01) for _ in range(2)]
    torch.save(
        {
            "modelA_state_dict": nets[0][0].state_dict(),
            "modelB_state_dict": nets[1][0].state_dict(),
            "optimizerA_state_dict": nets[0][1].state_dict(),
            "optimizerB_state_dict": nets[1][1].state_dict(),
        },
        path,
    )
    checkpoint = torch.load(path)
    out = []
    for name in "AB":
        model = _net(torch)
        opt = torch.optim.Adam(model.parameters(), lr=0.5)
        model.load_state_dict(checkpoint[f"model{name}_state_dict"])
        opt.load_state_dict(checkpoint[f"optimizer{name}_state_dict"])
        state = opt.state[next(iter(model.parameters()))]
        out += [
            model(torch.tensor(X)),
            state["exp_avg"],
            state["exp_avg_sq"],
            float(state["step"]),
            _groups(opt),
        ]
    return out


def test_multiple_models_in_one_file_port(torch, tmp_path):
    assert_same(
        script_multiple_models(glassgrad, tmp_path / "gg.pt"),
        script_multiple_models(torch, tmp_path / "pt.pt"),
    )


def script_warmstart(torch, path):
    torch.save(_net(torch).state_dict(), path)
    same = _net(torch)
    wider = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Linear(2, 1)
    )
    part = torch.nn.Sequential(torch.nn.Linear(3, 4))
    return [
        str(same.load_state_dict(torch.load(path), strict=False)),
        str(wider.load_state_dict(torch.load(path), strict=False)),
        str(part.load_state_dict(torch.load(path), strict=False)),
        part[0].weight.detach(),
    ]


def test_warmstart_with_strict_false_port(torch, tmp_path):
    ours, theirs = (
        script_warmstart(glassgrad, tmp_path / "gg.pt"),
        script_warmstart(torch, tmp_path / "pt.pt"),
    )
    assert ours[0] == "<All keys matched successfully>"
    assert_same(ours, theirs)


# ----------------------------------------------------------------------------- load(mmap, map_location)
def script_mmap(torch, path):
    torch.save({"w": torch.tensor(W), "i": torch.arange(5), "step": 3}, path)
    mapped = torch.load(path, mmap=True)
    plain = torch.load(path)
    mapped["w"].mul_(2.0)  # copy-on-write: the file keeps the saved values
    mapped["i"][0] = 7
    again = torch.load(path, mmap=True)
    return [mapped, plain, again]


def test_mmap_load_port(torch, tmp_path):
    ours = script_mmap(glassgrad, tmp_path / "gg.pt")
    assert_same(ours, script_mmap(torch, tmp_path / "pt.pt"))
    assert ours[1]["w"].numpy().flags.writeable and ours[2]["w"].numpy().flags.writeable


def test_mmap_tensors_view_the_file(tmp_path):
    path = tmp_path / "big.safetensors"
    glassgrad.save({"a": glassgrad.tensor(W), "b": {"c": glassgrad.ones(3, dtype=glassgrad.float64)}}, path)
    loaded = glassgrad.load(path, mmap=True)
    base = loaded["a"].numpy().base
    while getattr(base, "base", None) is not None:
        base = base.base
    assert type(getattr(base, "obj", base)).__name__ == "mmap"  # no copy of the bytes was made
    assert loaded["b"]["c"].dtype == glassgrad.float64
    glassgrad.save({"a": glassgrad.zeros(4, 3), "b": {"c": glassgrad.zeros(3)}}, path)  # replaced by a rename
    np.testing.assert_array_equal(loaded["a"].numpy(), W)  # the mapping keeps the old file's bytes
    foreign = tmp_path / "foreign.safetensors"
    safetensors.numpy.save_file({"x": np.arange(6, dtype=np.int32).reshape(2, 3)}, str(foreign))
    assert_same(
        glassgrad.load(foreign, mmap=True), {"x": glassgrad.arange(6, dtype=glassgrad.int32).reshape(2, 3)}
    )


def _corrupt(path, header_edit):
    """Rewrite a saved file's JSON header through ``header_edit(dict)``."""
    import json
    import struct

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header_edit(header)
    body = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(body)) + body + raw[8 + n :])


def test_mmap_refuses_bad_files(tmp_path):
    path = tmp_path / "ok.safetensors"
    glassgrad.save({"w": glassgrad.tensor(W)}, path)
    with open(path, "rb") as f, pytest.raises(ValueError, match="file path"):
        glassgrad.load(f, mmap=True)
    with pytest.raises(FileNotFoundError):
        glassgrad.load(tmp_path / "missing.pt", mmap=True)
    with pytest.raises(CheckpointError, match="folder"):
        glassgrad.load(tmp_path, mmap=True)
    short = tmp_path / "short.safetensors"
    short.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(CheckpointError, match="truncated"):
        glassgrad.load(short, mmap=True)
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"\x05\x00")
    with pytest.raises(CheckpointError, match="at least 8 bytes"):
        glassgrad.load(tiny, mmap=True)
    lying = tmp_path / "lying.safetensors"
    lying.write_bytes(path.read_bytes())
    _corrupt(lying, lambda h: h["w"].__setitem__("shape", [5, 3]))
    with pytest.raises(CheckpointError, match="does not fit its bytes"):
        glassgrad.load(lying, mmap=True)
    _corrupt(lying, lambda h: h["w"].__setitem__("shape", "x"))
    with pytest.raises(CheckpointError, match="valid shape"):
        glassgrad.load(lying, mmap=True)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(CheckpointError, match="header says"):
        glassgrad.load(huge, mmap=True)


def script_map_location(torch, path):
    torch.save({"w": torch.tensor(W)}, path)
    return [
        torch.load(path, map_location=torch.device("cpu")),
        torch.load(path, map_location="cpu"),
        torch.load(path, map_location=lambda storage, loc: storage),
        torch.load(path, map_location={"cuda:0": "cpu"}),
    ]


def test_map_location_forms_port(torch, tmp_path):
    assert_same(
        script_map_location(glassgrad, tmp_path / "gg.pt"), script_map_location(torch, tmp_path / "pt.pt")
    )


def test_map_location_to_another_device_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    glassgrad.save({"w": glassgrad.tensor(W)}, path)
    for where in ("cuda:0", glassgrad.device("cuda"), {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match="CPU only"):
            glassgrad.load(path, map_location=where)
    with pytest.raises(TypeError, match="device"):
        glassgrad.load(path, map_location=3.5)
    doubled = glassgrad.load(path, map_location=lambda t, loc: t * 2 if loc == "cpu" else None)
    np.testing.assert_allclose(doubled["w"].numpy(), 2 * W)


# ------------------------------------------------------------------------------------------ devices
def script_device_context(torch):
    with torch.device("cpu") as entered:
        mod = torch.nn.Linear(20, 30)
        made = torch.randn(128, 20)
    # Always through `with`: a bare __enter__() leaves PyTorch's device mode on for the whole
    # process (it changed later tests' results).
    return [str(mod.weight.device), str(mod(made).device), str(entered)]


def test_device_context_manager_port(torch):
    assert script_device_context(glassgrad) == script_device_context(torch)


def test_device_context_manager_refuses_other_devices():
    for name in ("cuda", "mps"):  # meta is a device here (tests/test_meta_device.py)
        with pytest.raises(RuntimeError, match="CPU only"), glassgrad.device(name):
            pass


# ------------------------------------------------------------------------------------- swap_tensors
def script_swap_tensors(torch):
    t1, t2 = torch.arange(2), torch.arange(3)
    held = t1
    torch.utils.swap_tensors(t1, t2)
    mod = torch.nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        mod.weight.copy_(torch.tensor([[0.5], [-1.5]]))
    optimizer = torch.optim.SGD(mod.parameters(), lr=0.1)
    old = mod.weight
    mod.weight = torch.nn.Parameter(2 * mod.weight)  # reassigning: the optimizer keeps the old one
    stale = optimizer.param_groups[0]["params"][0] is mod.weight
    new = torch.nn.Parameter(3 * old.detach())
    torch.utils.swap_tensors(old, new)  # swapping: every holder of `old` sees the new contents
    plain, param = torch.zeros(2), torch.nn.Parameter(torch.ones(2))
    torch.utils.swap_tensors(plain, param)
    grad_w = torch.ones(3, requires_grad=True)
    (grad_w * 2).sum().backward()
    other = torch.zeros(3)
    torch.utils.swap_tensors(grad_w, other)
    return [
        held is t1, t1, t2, stale, optimizer.param_groups[0]["params"][0], new,
        type(plain).__name__, plain, type(param).__name__, param,
        other.grad, other.requires_grad, grad_w.grad, grad_w.requires_grad,
    ]  # fmt: skip


def test_swap_tensors_port(torch):
    assert_same(script_swap_tensors(glassgrad), script_swap_tensors(torch))


def test_swap_tensors_errors(torch):
    a, b = glassgrad.ones(2), glassgrad.zeros(2)
    ref = weakref.ref(a)
    with pytest.raises(RuntimeError, match="weak"):
        glassgrad.utils.swap_tensors(a, b)
    ta, tb = torch.ones(2), torch.zeros(2)
    tref = weakref.ref(ta)
    with pytest.raises(RuntimeError, match="weakref"):
        torch.utils.swap_tensors(ta, tb)  # the same refusal in PyTorch
    del ref, tref
    with pytest.raises(TypeError, match="Tensor"):
        glassgrad.utils.swap_tensors(a, np.zeros(2))

    # (nn.Buffer(t) is a plain Tensor since round 66, as PyTorch's: a subclass with its own slots
    # is the refusal PyTorch shares)
    class Slotted(glassgrad.Tensor):
        __slots__ = ("extra",)

    with pytest.raises(RuntimeError, match="slots"):
        glassgrad.utils.swap_tensors(glassgrad.ones(2), Slotted(glassgrad.ones(2)))
