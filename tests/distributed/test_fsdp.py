"""``fully_shard`` (FSDP2) against PyTorch 2.13 in a world of one process: the same classes,
placements, meshes and errors, and the same training; mixed precision and HSDP refused."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard

from .worlds import error_of, mods


def _plain(v):
    return repr(v) if isinstance(v, tuple) and v and hasattr(v[0], "is_shard") else v


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(4, 4)
            self.b = lib.nn.Linear(4, 2)
            self.scale = lib.nn.Parameter(lib.ones(1))

        def forward(self, x):
            return self.b(lib.relu(self.a(x))) * self.scale

    return Net()


def _fsdp_answers(lib):
    m = mods(lib)
    F, T = m.fsdp, m.tensor
    net = _net(lib)
    assert F.fully_shard(net.a) is net.a
    F.fully_shard(net)
    out = [type(net).__name__, type(net.a).__name__, type(net.b).__name__, isinstance(net, F.FSDPModule),
           isinstance(net.b, F.FSDPModule), repr(net), [c.__name__ for c in type(net.a).__mro__[:3]][1:]]  # fmt: skip
    out += [
        (n, isinstance(p, T.DTensor), _plain(p.placements), repr(p.device_mesh))
        for n, p in net.named_parameters()
    ]
    y = net(lib.ones(3, 4))
    out += [type(y).__name__, tuple(y.shape)]
    y.sum().backward()
    out += [(isinstance(p.grad, T.DTensor), _plain(p.grad.placements)) for p in net.parameters()]
    out += [net.unshard(), net.reshard(), net.set_requires_gradient_sync(False), net.set_reshard_after_backward(False),
            net.set_modules_to_forward_prefetch([net.a]), net.set_modules_to_backward_prefetch([net.a]),
            net.set_is_last_backward(True), net.set_reshard_after_forward(True), net.unshard(async_op=True).wait()]  # fmt: skip
    out.append(repr(F.MixedPrecisionPolicy()).replace("torch.", "").replace("glassgrad.", ""))
    pair = F.fully_shard([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)])
    out += [type(pair).__name__, [type(p).__name__ for p in pair]]
    seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
    F.fully_shard(seq, ignored_params={seq[0].weight})
    out.append([isinstance(p, T.DTensor) for p in seq.parameters()])
    tied = lib.nn.Module()
    tied.a, tied.b = lib.nn.Linear(2, 2, bias=False), lib.nn.Linear(2, 2, bias=False)
    tied.b.weight = tied.a.weight
    F.fully_shard(tied)
    out += [tied.a.weight is tied.b.weight, len(list(tied.parameters()))]
    lin = lib.nn.Linear(3, 2)
    w = lin.weight
    F.fully_shard(lin, shard_placement_fn=lambda p: T.Shard(1) if p.ndim == 2 else None)
    out += [_plain(lin.weight.placements), _plain(lin.bias.placements), lin.weight is w]
    out.append(bool((lin.weight.full_tensor() == w).all()))
    with lib.device("meta"):
        lazy = lib.nn.Linear(2, 2)
    F.fully_shard(lazy)
    out += [str(lazy.weight.device), _plain(lazy.weight.placements)]
    lazy.to_empty(device="cpu")
    out += [isinstance(lazy.weight, T.DTensor), str(lazy.weight.device)]
    scalar = lib.nn.Module()
    scalar.s = lib.nn.Parameter(lib.tensor(2.0))
    errors = [
        error_of(F.fully_shard, net),
        error_of(F.fully_shard, scalar),
        error_of(F.fully_shard, lib.nn.Linear(2, 2), shard_placement_fn=lambda p: T.Shard(1)),
        error_of(F.fully_shard, lib.nn.Linear(2, 2), shard_placement_fn=lambda p: T.Replicate()),
        error_of(net.set_modules_to_forward_prefetch, [lib.nn.Linear(2, 2)]),
    ]
    return out, errors


_PHRASES = [
    "Each distinct composable distributed API can only be applied to a module once. fully_shard has already",
    "fully_shard doesn't support scalar parameters. Change s to a 1D tensor with numel equal to 1.",
    "Shard dim 1 is invalid for 1D tensor",
    "Invalid shard_placement_fn result: R",
    "Expects FSDPModule but got",
]


def test_fully_shard_answers_as_pytorch(torch, gworld, tworld):
    ours, our_errors = _fsdp_answers(glassgrad)
    theirs, their_errors = _fsdp_answers(torch)
    assert ours == theirs
    for (t1, m1), (t2, m2), phrase in zip(our_errors, their_errors, _PHRASES):
        assert t1 == t2 and phrase in m1 and phrase in m2, (t1, m1, t2, m2)


def _train(lib, state, steps=4):
    net = _net(lib)
    net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    mods(lib).fsdp.fully_shard(net.a)
    mods(lib).fsdp.fully_shard(net)
    opt = lib.optim.AdamW(net.parameters(), lr=0.05, foreach=True)
    xs = np.linspace(-1, 1, steps * 12, dtype=np.float32).reshape(steps, 3, 4)
    losses = []
    for x in xs:
        loss = net(lib.tensor(x)).pow(2).sum()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses, {k: v.full_tensor().detach().numpy() for k, v in net.state_dict().items()}


def test_fully_shard_trains_as_pytorch(torch, gworld, tworld):
    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in _net(torch).state_dict().items()}
    ours, theirs = _train(glassgrad, state), _train(torch, state)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for k in state:
        np.testing.assert_allclose(ours[1][k], theirs[1][k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_what_fully_shard_refuses(gworld):
    with pytest.raises(
        NotImplementedError, match=r"fully_shard: mixed precision is not supported.*param_dtype"
    ):
        fully_shard(glassgrad.nn.Linear(2, 2), mp_policy=MixedPrecisionPolicy(param_dtype=glassgrad.bfloat16))
    net = fully_shard(
        glassgrad.nn.Linear(2, 2), mp_policy=MixedPrecisionPolicy(reduce_dtype=glassgrad.float32)
    )
    assert isinstance(net, FSDPModule)  # float32 everywhere: nothing to cast
    mesh = gworld.distributed.init_device_mesh("cpu", (1, 1), mesh_dim_names=("rep", "shard"))
    with pytest.raises(NotImplementedError, match="fully_shard: HSDP"):
        fully_shard(glassgrad.nn.Linear(2, 2), mesh=mesh)
    with pytest.raises(TypeError, match="fully_shard: expected an nn.Module"):
        fully_shard(3)
    with pytest.raises(NotImplementedError, match="offloading"):
        fully_shard(glassgrad.nn.Linear(2, 2), offload_policy=object())


def _checkpoint_answers(lib):
    from importlib import import_module

    sd = import_module(lib.__name__ + ".distributed.checkpoint.state_dict")
    net = _net(lib)
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_((lib.arange(p.numel()).float().reshape(p.shape) - 3) / 4 * (i + 1))  # exact in float32
    mods(lib).fsdp.fully_shard(net)
    full = sd.get_model_state_dict(net, options=sd.StateDictOptions(full_state_dict=True, cpu_offload=True))
    out = [sorted(full), [type(v).__name__ for v in full.values()], [v.tolist() for v in full.values()]]
    sharded = sd.get_model_state_dict(net)
    out.append([_plain(v.placements) for v in sharded.values()])
    res = sd.set_model_state_dict(
        net, {k: v * 2 for k, v in full.items()}, options=sd.StateDictOptions(full_state_dict=True)
    )
    out += [list(res.missing_keys), list(res.unexpected_keys), net.b.bias.full_tensor().tolist()]
    opt = lib.optim.AdamW(net.parameters(), lr=0.1)
    before = [p.full_tensor().tolist() for p in net.parameters()]
    sd._init_optim_state(opt)
    out += [
        sorted(opt.state[net.a.weight]),
        float(opt.state[net.a.weight]["step"]),
        [p.grad for p in net.parameters()],
    ]
    out.append(before == [p.full_tensor().tolist() for p in net.parameters()])
    return out


def test_checkpoint_model_state_dict_helpers_as_pytorch(torch, gworld, tworld):
    assert _checkpoint_answers(glassgrad) == _checkpoint_answers(torch)
