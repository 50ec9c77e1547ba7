"""Review round 11 of the world-of-one distributed stack, against PyTorch 2.13: ``redistribute`` and
``full_tensor`` keep the local memory (PyTorch skips every collective over a mesh dimension of
size 1), an optimizer's state of a DTensor parameter is a DTensor laid out as the parameter (also
after ``load_state_dict`` and ``set_optimizer_state_dict``), and ``get_optimizer_state_dict`` of a
fresh Adagrad reports PyTorch's step 0."""

from __future__ import annotations

import copy
from importlib import import_module

import numpy as np
import pytest

import glassgrad

from .worlds import mods

_LAYOUTS = ("R", "S0", "S1", "P")


def _layouts(lib):
    t = mods(lib).tensor
    return {"R": t.Replicate(), "S0": t.Shard(0), "S1": t.Shard(1), "P": t.Partial()}


def _sharing(lib):
    """For each redistribution (and full_tensor): does a change of the local tensor show through?"""
    mesh = mods(lib).device_mesh.init_device_mesh("cpu", (1,))
    DT, pl = mods(lib).tensor.DTensor, _layouts(lib)
    out = {}
    for a in _LAYOUTS:
        for b in _LAYOUTS:
            if b == "P" and a != "P":
                continue  # redistributing to Partial is refused
            local = lib.zeros(2, 2)
            moved = DT.from_local(local, mesh, [pl[a]]).redistribute(mesh, [pl[b]])
            local.add_(1)
            out[a + "->" + b] = moved.to_local().sum().item()
        local = lib.zeros(2, 2)
        whole = DT.from_local(local, mesh, [pl[a]]).full_tensor()
        local.add_(1)
        out["full " + a] = whole.sum().item()
    return out


def test_redistribute_and_full_tensor_keep_the_memory_as_pytorch(torch, gworld, tworld):
    assert _sharing(glassgrad) == _sharing(torch)
    assert set(_sharing(glassgrad).values()) == {4.0}  # every result sees the change


def test_redistributed_gradient_still_flows_to_the_leaf(gworld):
    t = mods(gworld).tensor
    mesh = mods(gworld).device_mesh.init_device_mesh("cpu", (1,))
    x = gworld.arange(6.0).reshape(2, 3).requires_grad_()
    d = t.distribute_tensor(x, mesh, [t.Shard(1)])
    r = d.redistribute(mesh, [t.Replicate()])
    (r.full_tensor() * gworld.arange(6.0).reshape(2, 3)).sum().backward()
    assert d.grad.placements == (t.Shard(1),)
    assert d.grad.full_tensor().tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def _model(lib, how):
    m = mods(lib)
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Linear(4, 2))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    if how == "fsdp":
        m.fsdp.fully_shard(net)
    else:
        mesh = m.device_mesh.init_device_mesh("cpu", (1,))
        m.parallel.parallelize_module(
            net, mesh, {"0": m.parallel.ColwiseParallel(), "1": m.parallel.RowwiseParallel()}
        )
    return net


def _step(lib, net, opt):
    x = lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    y = net(x)
    y = y.full_tensor() if hasattr(y, "full_tensor") else y
    opt.zero_grad()
    y.square().sum().backward()
    opt.step()


_OPTIMS = [
    ("Adam", {"amsgrad": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adadelta", {}),
    ("Adagrad", {}),
    ("ASGD", {}),
    ("NAdam", {}),
]


def _layout(v):
    return (type(v).__name__.replace("DTensorParameter", "DTensor"), repr(getattr(v, "placements", None)))


def _state_layouts(lib, how, name, kw):
    net = _model(lib, how)
    opt = getattr(lib.optim, name)(net.parameters(), **kw)
    _step(lib, net, opt)
    out = {"live": {i: {k: _layout(v) for k, v in s.items()} for i, s in opt.state_dict()["state"].items()}}
    again = getattr(lib.optim, name)(_model(lib, how).parameters(), **kw)
    again.load_state_dict(opt.state_dict())
    out["loaded"] = {i: {k: _layout(v) for k, v in s.items()} for i, s in again.state_dict()["state"].items()}
    return out


@pytest.mark.parametrize("how", ["fsdp", "tp"])
@pytest.mark.parametrize("name, kw", _OPTIMS)
def test_optimizer_state_of_dtensor_parameters_is_laid_out_as_pytorch(torch, gworld, tworld, how, name, kw):
    ours = _state_layouts(glassgrad, how, name, kw)
    theirs = _state_layouts(torch, how, name, kw)
    assert ours == theirs
    assert any(layout[0] == "DTensor" for s in ours["live"].values() for layout in s.values())


def test_plain_parameters_keep_plain_state_after_loading_dtensor_state(gworld):
    net = _model(gworld, "fsdp")
    opt = gworld.optim.Adam(net.parameters())
    _step(gworld, net, opt)
    plain = gworld.nn.Sequential(gworld.nn.Linear(3, 4), gworld.nn.Linear(4, 2))
    again = gworld.optim.Adam(plain.parameters())
    again.load_state_dict(opt.state_dict())
    kinds = {type(v).__name__ for s in again.state.values() for v in s.values()}
    assert kinds == {"Tensor"}


def _dcp(lib):
    return import_module(lib.__name__ + ".distributed.checkpoint.state_dict")


def _resumed_layouts(lib, full):
    S = _dcp(lib)
    options = S.StateDictOptions(full_state_dict=full)
    net = _model(lib, "fsdp")
    opt = lib.optim.AdamW(net.parameters(), lr=0.1)
    _step(lib, net, opt)
    saved = S.get_optimizer_state_dict(net, opt, options=options)
    out = {"saved": {n: {k: _layout(v) for k, v in s.items()} for n, s in saved["state"].items()}}
    net2 = _model(lib, "fsdp")
    opt2 = lib.optim.AdamW(net2.parameters(), lr=0.1)
    S.set_optimizer_state_dict(net2, opt2, saved, options=options)
    out["loaded"] = {i: {k: _layout(v) for k, v in s.items()} for i, s in opt2.state_dict()["state"].items()}
    _step(lib, net2, opt2)
    out["after"] = [np.asarray(p.full_tensor().detach()).round(5).tolist() for p in net2.parameters()]
    return out


@pytest.mark.parametrize("full", [False, True])
def test_set_optimizer_state_dict_keeps_dtensor_state_as_pytorch(torch, gworld, tworld, full):
    assert _resumed_layouts(glassgrad, full) == _resumed_layouts(torch, full)


def _fresh_adagrad(lib):
    net = lib.nn.Linear(2, 1)
    opt = lib.optim.Adagrad(net.parameters(), lr=0.1, initial_accumulator_value=0.5)
    saved = _dcp(lib).get_optimizer_state_dict(net, opt)
    return {name: {k: v.tolist() for k, v in s.items()} for name, s in saved["state"].items()}


def test_get_optimizer_state_dict_of_a_fresh_adagrad_is_at_step_zero(torch, gworld, tworld):
    ours, theirs = _fresh_adagrad(glassgrad), _fresh_adagrad(torch)
    assert ours == theirs
    assert ours["weight"]["step"] == 0.0 and ours["bias"]["sum"] == [0.5]


def _copies(lib):
    m = mods(lib)
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    t = m.tensor
    out = []
    param = lib.nn.Parameter(t.distribute_tensor(lib.ones(2, 3), mesh, [t.Shard(0)]))
    leaf = t.distribute_tensor(lib.ones(2, 3), mesh, [t.Shard(1)]).requires_grad_()
    for x in (param, leaf):
        (x.full_tensor() * lib.arange(6.0).reshape(2, 3)).sum().backward()
        c = copy.deepcopy(x)
        out += [c.requires_grad, c.is_leaf, type(c.grad).__name__, repr(c.grad.placements)]
        out.append(c.grad.full_tensor().tolist())
        x.grad.full_tensor().zero_()  # the copy holds its own gradient
        out.append(c.grad.full_tensor().sum().item())
    return out


def test_deepcopy_of_a_dtensor_keeps_its_gradient_as_pytorch(torch, gworld, tworld):
    assert _copies(glassgrad) == _copies(torch)


def _subclassed(lib):
    m = mods(lib)
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    t = m.tensor

    class MyParam(lib.nn.Parameter):
        pass

    d = t.distribute_tensor(lib.ones(2, 3), mesh, [t.Shard(1)])
    p = MyParam(d, requires_grad=False)
    return [isinstance(p, t.DTensor), isinstance(p, lib.nn.Parameter), isinstance(p, MyParam),
            repr(getattr(p, "placements", None)), p.requires_grad, p.is_leaf]  # fmt: skip


def test_a_parameter_subclass_of_a_dtensor_is_a_dtensor_parameter_as_pytorch(torch, gworld, tworld):
    assert _subclassed(glassgrad) == _subclassed(torch)


def _init_with_inf(lib, how):
    net = lib.nn.Sequential(lib.nn.Linear(2, 2))
    with lib.no_grad():
        net[0].weight.copy_(lib.tensor([[float("inf"), 1.0], [2.0, float("nan")]]))
    if how == "fsdp":
        mods(lib).fsdp.fully_shard(net)
    opt = lib.optim.Adam(net.parameters(), lr=0.1)
    saved = _dcp(lib).get_optimizer_state_dict(
        net, opt, options=_dcp(lib).StateDictOptions(full_state_dict=True)
    )
    weight = net[0].weight
    weight = weight.full_tensor() if hasattr(weight, "full_tensor") else weight
    state = {name: {k: np.asarray(v).tolist() for k, v in s.items()} for name, s in saved["state"].items()}
    return np.asarray(weight.detach()).tolist(), state


@pytest.mark.parametrize("how", ["plain", "fsdp"])
def test_get_optimizer_state_dict_leaves_inf_parameters_as_they_were(torch, gworld, tworld, how):
    ours, theirs = _init_with_inf(glassgrad, how), _init_with_inf(torch, how)
    np.testing.assert_equal(ours[0], theirs[0])
    np.testing.assert_equal(ours[1], theirs[1])
    assert ours[0][0][0] == float("inf") and ours[1]["0.weight"]["exp_avg"] == [[0.0, 0.0], [0.0, 0.0]]


def _data_of(lib):
    m = mods(lib)
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    t = m.tensor
    p = lib.nn.Parameter(t.distribute_tensor(lib.ones(2, 3), mesh, [t.Shard(1)]))
    data = p.data
    out = [type(data).__name__, repr(data.placements), data.requires_grad, data.is_leaf]
    data.to_local().add_(1)  # the same memory
    return [*out, p.full_tensor().sum().item()]


def test_data_of_a_dtensor_parameter_is_a_dtensor_as_pytorch(torch, gworld, tworld):
    assert _data_of(glassgrad) == _data_of(torch)
