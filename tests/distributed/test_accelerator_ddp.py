"""``torch.accelerator`` on a machine without one, and ``DistributedDataParallel``'s checks of a
CPU module's ``device_ids``/``output_device``, against PyTorch 2.13 (CPU build)."""

from __future__ import annotations

import warnings

import pytest

import glassgrad

from .worlds import error_of

_NONE = "Cannot access accelerator device when none is available"


def _accelerator(lib):
    acc = lib.accelerator
    out = [acc.is_available(), acc.current_accelerator(), acc.current_accelerator(check_available=True), acc.device_count(),
           acc.set_device_index(-1), acc.set_device_index(-2)]  # fmt: skip
    idx = acc.device_index(None)
    with idx:
        out.append("inside")
    errors = [error_of(acc.current_device_index), error_of(acc.set_device_index, 0), error_of(acc.set_device_index, 3),
              error_of(acc.synchronize), error_of(acc.device_index(0).__enter__),
              error_of(acc.set_device_index, lib.device("cpu")), error_of(acc.set_device_index, None)]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        errors += [error_of(acc.current_device_idx), error_of(acc.set_device_idx, 0)]
    out.append([(type(w.message).__name__, str(w.message)) for w in caught])
    return out, errors


def test_accelerator_without_one_as_pytorch(torch):
    ours, our_errors = _accelerator(glassgrad)
    theirs, their_errors = _accelerator(torch)
    assert ours == theirs
    phrases = (
        [_NONE] * 5
        + ["Accelerator expected", "Expected a torch.device with a specified index or an integer"]
        + [_NONE] * 2
    )
    for (t1, m1), (t2, m2), phrase in zip(our_errors, their_errors, phrases, strict=True):
        assert t1 == t2 and phrase in m1 and phrase in m2, (t1, m1, t2, m2)


def _ddp(lib):
    DDP = lib.nn.parallel.DistributedDataParallel
    ok = [DDP(lib.nn.Linear(2, 2)), DDP(lib.nn.Linear(2, 2), device_ids=[]), DDP(lib.nn.Linear(2, 2), output_device=0),
          DDP(lib.nn.Linear(2, 2), device_ids=None, output_device=None)]  # fmt: skip
    out = [(d.device_ids, d.output_device, list(d.state_dict())) for d in ok]
    errors = [
        error_of(DDP, lib.nn.Linear(2, 2), device_ids=[0]),
        error_of(DDP, lib.nn.Linear(2, 2), device_ids=[1]),
        error_of(DDP, lib.nn.Linear(2, 2), device_ids=["cpu"]),
        error_of(DDP, lib.nn.Linear(2, 2), output_device=1),
        error_of(DDP, lib.nn.Linear(2, 2), output_device="cpu"),
        error_of(DDP, lib.nn.Linear(2, 2), device_ids=[0, 1]),
        error_of(DDP, lib.nn.ReLU()),
        error_of(DDP, lib.nn.Linear(2, 2).requires_grad_(False)),
    ]
    return out, errors


def test_ddp_checks_a_cpu_modules_devices_as_pytorch(torch, gworld, tworld):
    ours, our_errors = _ddp(glassgrad)
    theirs, their_errors = _ddp(torch)
    assert ours == theirs
    only = "only work with single-device/multiple-device GPU modules or CPU modules, but got device_ids "
    phrases = [only + "[0], output_device None, and module parameters {device(type='cpu')}",
               only + "[1]", only + "['cpu']", only + "None, output_device 1", only + "None, output_device cpu",
               "device_ids can only be None or contain a single element.",
               "DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient."]  # fmt: skip
    phrases.append(phrases[-1])
    for (t1, m1), (t2, m2), phrase in zip(our_errors, their_errors, phrases, strict=True):
        assert t1 == t2 and phrase in m1 and phrase in m2, (t1, m1, t2, m2)


def test_ddp_still_trains_its_module(gworld):
    net = gworld.nn.parallel.DistributedDataParallel(gworld.nn.Linear(3, 1))
    net(gworld.ones(4, 3)).sum().backward()
    assert net.module.weight.grad.tolist() == [[4.0, 4.0, 4.0]]
    with pytest.raises(TypeError, match="expected device_ids to be None or a list, got int"):
        gworld.nn.parallel.DistributedDataParallel(gworld.nn.Linear(3, 1), device_ids=0)


def _device_id_errors(lib, tmp_path):
    dist = lib.distributed
    kw = (
        {}
        if lib is glassgrad
        else {"store": dist.FileStore(str(tmp_path / "s"), 1), "rank": 0, "world_size": 1}
    )
    out = [
        error_of(dist.init_process_group, "gloo", device_id=d, **kw)
        for d in (lib.device("cpu"), 0, lib.device("cuda", 0))
    ]
    return out + [dist.is_initialized()]


def test_init_process_group_refuses_a_device_id_as_pytorch(torch, tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    c10d = torch.distributed.distributed_c10d
    count = c10d._world.group_count
    try:
        ours, theirs = _device_id_errors(glassgrad, tmp_path), _device_id_errors(torch, tmp_path)
    finally:
        # PyTorch counts the groups its refused init_process_group calls began; left so, a later
        # test's group is registered under another name than its device meshes look up
        c10d._world.group_count = count
    assert ours[-1] is theirs[-1] is False
    phrases = [
        "init_process_group device_id parameter must be an accelerator with an index",
        "device_id is an int, but no accelerator support is found from the current compilation",
        "device_id cuda:0 does not match the current compilation's accelerator support: None",
    ]
    for (t1, m1), (t2, m2), phrase in zip(ours[:-1], theirs[:-1], phrases, strict=True):
        assert t1 == t2 == "ValueError" and phrase in m1 and phrase in m2, (m1, m2)
