"""``torch.distributed.checkpoint.state_dict``'s optimizer half against PyTorch 2.13 in a world of one
process: the state keyed by parameter names (nested and flattened), loading it into optimizers
whose groups list the parameters in another order, and the FSDP2 way of loading a model that was
built on the meta device."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def _sd(lib):
    from importlib import import_module

    return import_module(lib.__name__ + ".distributed.checkpoint.state_dict")


def _net(lib, seed=0):
    rng = np.random.default_rng(seed)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return net


def _trained(lib, steps=3):
    net = _net(lib)
    opt = lib.optim.Adam([{"params": [net[2].weight]}, {"params": [net[0].weight, net[0].bias], "lr": 0.1}])
    x = lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    for _ in range(steps):
        opt.zero_grad()
        net(x).square().sum().backward()
        opt.step()
    return net, opt


def _plain(value):
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value).tolist()


def _answers(lib, flatten):
    sd = _sd(lib)
    net, opt = _trained(lib)
    out = sd.get_optimizer_state_dict(
        net, opt, options=sd.StateDictOptions(flatten_optimizer_state_dict=flatten)
    )
    if flatten:
        return {k: _plain(v) if hasattr(v, "shape") else v for k, v in out.items()}
    state = {name: {k: _plain(v) for k, v in entries.items()} for name, entries in out["state"].items()}
    return {"state": state, "param_groups": out["param_groups"]}


@pytest.mark.parametrize("flatten", [False, True])
def test_get_optimizer_state_dict_as_pytorch(torch, flatten):
    ours, theirs = _answers(glassgrad, flatten), _answers(torch, flatten)
    assert ours.keys() == theirs.keys()
    if not flatten:
        assert ours["param_groups"] == theirs["param_groups"]
        ours, theirs = ours["state"], theirs["state"]
        assert ours.keys() == theirs.keys()
        for name in ours:
            assert ours[name].keys() == theirs[name].keys()
            for key in ours[name]:
                np.testing.assert_allclose(ours[name][key], theirs[name][key], rtol=1e-5, atol=1e-7)
    else:
        for key in ours:
            if isinstance(ours[key], list):
                np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-7)
            else:
                assert ours[key] == theirs[key], key


def test_get_gives_an_optimizer_without_steps_its_state(torch):
    def answers(lib):
        net = _net(lib)
        opt = lib.optim.AdamW(net.parameters(), lr=0.1)
        out = _sd(lib).get_optimizer_state_dict(net, opt)
        return {n: {k: _plain(v) for k, v in e.items()} for n, e in out["state"].items()}, _plain(
            net[0].weight
        )

    assert answers(glassgrad) == answers(torch)


@pytest.mark.parametrize("flatten", [False, True])
def test_set_loads_by_name_into_another_group_order(flatten):
    sd = _sd(glassgrad)
    net, opt = _trained(glassgrad)
    saved = sd.get_optimizer_state_dict(
        net, opt, options=sd.StateDictOptions(flatten_optimizer_state_dict=flatten)
    )
    twin = _net(glassgrad)
    twin.load_state_dict(net.state_dict())
    # The same two groups, listed the other way round: positions differ, names do not.
    fresh = glassgrad.optim.Adam(
        [{"params": [twin[0].bias, twin[0].weight], "lr": 0.5}, {"params": [twin[2].weight]}]
    )
    sd.set_optimizer_state_dict(twin, fresh, saved)
    assert [g["lr"] for g in fresh.param_groups] == [0.1, 0.001]
    for mine, theirs in (
        (twin[0].weight, net[0].weight),
        (twin[0].bias, net[0].bias),
        (twin[2].weight, net[2].weight),
    ):
        for key in ("exp_avg", "exp_avg_sq", "step"):
            np.testing.assert_array_equal(fresh.state[mine][key].numpy(), opt.state[theirs][key].numpy())
        # the saved tensors themselves, as PyTorch 2.13's load_state_dict keeps them (round 45)
        assert fresh.state[mine]["exp_avg"] is opt.state[theirs]["exp_avg"]


def test_set_refuses_a_group_it_cannot_find_and_foreign_parameters():
    sd = _sd(glassgrad)
    net, opt = _trained(glassgrad)
    saved = sd.get_optimizer_state_dict(net, opt)
    other = _net(glassgrad)
    stranger = glassgrad.nn.Parameter(glassgrad.ones(2))
    with pytest.raises(
        ValueError, match=r"set_optimizer_state_dict: the optimizer holds a parameter of shape \(2,\)"
    ):
        sd.set_optimizer_state_dict(other, glassgrad.optim.Adam([stranger]), saved)
    saved["param_groups"] = saved["param_groups"][:1]
    with pytest.raises(
        ValueError, match=r"set_optimizer_state_dict: no saved param group holds \['0.weight'\]"
    ):
        sd.set_optimizer_state_dict(other, glassgrad.optim.Adam(other.parameters()), saved)
    with pytest.raises(TypeError, match="expected an optimizer or an iterable of optimizers"):
        sd.get_optimizer_state_dict(other, [3])


def test_state_dict_pair_round_trip():
    sd = _sd(glassgrad)
    net, opt = _trained(glassgrad)
    model_sd, optim_sd = sd.get_state_dict(net, opt)
    twin = _net(glassgrad, seed=1)
    fresh = glassgrad.optim.Adam([{"params": [twin[2].weight]}, {"params": [twin[0].weight, twin[0].bias]}])
    keys = sd.set_state_dict(twin, fresh, model_state_dict=model_sd, optim_state_dict=optim_sd)
    assert list(keys.missing_keys) == [] and list(keys.unexpected_keys) == []
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), net[0].weight.detach().numpy())
    assert fresh.state[twin[0].weight]["step"].item() == 3.0


def test_a_meta_model_loads_a_full_state_dict_as_dtensors(gworld):
    """The FSDP2 example's ``--dcp-api`` resume: built on the meta device, ``fully_shard``, then
    ``set_model_state_dict(full_state_dict=True)`` must give real DTensor parameters (it was a
    no-op copy into meta tensors, and training then failed on meta values)."""
    from glassgrad.distributed.fsdp import fully_shard
    from glassgrad.distributed.tensor import DTensor, Shard

    sd = _sd(glassgrad)
    src = _net(glassgrad)
    full = {k: v.clone() for k, v in src.state_dict().items()}
    with glassgrad.device("meta"):
        net = glassgrad.nn.Sequential(
            glassgrad.nn.Linear(3, 4), glassgrad.nn.ReLU(), glassgrad.nn.Linear(4, 2)
        )
    fully_shard(net)
    options = sd.StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    sd.set_model_state_dict(net, full, options=options)
    for name, p in net.named_parameters():
        assert isinstance(p, DTensor) and isinstance(p, glassgrad.nn.Parameter) and not p.is_meta
        assert p.requires_grad and p.placements == (Shard(0),)
        np.testing.assert_array_equal(p.full_tensor().detach().numpy(), full[name].numpy())
    x = glassgrad.ones(2, 3)
    np.testing.assert_allclose(net(x).detach().numpy(), src(x).detach().numpy(), rtol=1e-6)
