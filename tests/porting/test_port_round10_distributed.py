"""Round 10: the tensor-parallel examples of pytorch/examples (``distributed/tensor_parallelism``:
``tensor_parallel_example.py``, ``sequence_parallel_example.py``, ``fsdp_tp_example.py``) and
``distributed/ddp/example.py``, in a world of one process. Each script below is our own code
written in the examples' style (their plans, optimizer and loop), run on glassgrad and on
PyTorch 2.13 from the same weights and inputs: the losses and the trained parameters agree, and
so do the parameters' placements and meshes (docs/porting.md)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad

from ..distributed.worlds import gg_world, mods, torch_world


def _toy(lib):
    class ToyModel(lib.nn.Module):  # the examples' MLP
        def __init__(self):
            super().__init__()
            self.in_proj = lib.nn.Linear(10, 32)
            self.relu = lib.nn.ReLU()
            self.out_proj = lib.nn.Linear(32, 5)

        def forward(self, x):
            return self.out_proj(self.relu(self.in_proj(x)))

    return ToyModel()


def _placed(params, T):
    return [(n, isinstance(p, T.DTensor), repr(p.placements), repr(p.device_mesh)) for n, p in params]


def _tp_script(lib, state, inputs, sequence_parallel):
    m = mods(lib)
    P, S = m.parallel, m.tensor.Shard
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    model = _toy(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    plan = (
        {"in_proj": P.ColwiseParallel(input_layouts=S(0)), "out_proj": P.RowwiseParallel(output_layouts=S(0))}
        if sequence_parallel
        else {"in_proj": P.ColwiseParallel(), "out_proj": P.RowwiseParallel()}
    )
    model = P.parallelize_module(module=model, device_mesh=mesh, parallelize_plan=plan)
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.25, foreach=True)
    losses = []
    for x in inputs:
        output = model(lib.tensor(x))
        loss = output.sum()
        loss.backward()
        optimizer.step()
        losses.append((type(output).__name__, loss.item()))
    params = {n: p.full_tensor().detach().numpy() for n, p in model.named_parameters()}
    return losses, params, _placed(model.named_parameters(), m.tensor)


def _both(torch, tmp_path, script, *args):
    with gg_world():
        ours = script(glassgrad, *args)
    with torch_world(torch, tmp_path):
        theirs = script(torch, *args)
    return ours, theirs


def _assert_close(ours, theirs, rtol=1e-5, atol=1e-6):
    (l1, p1, placed1), (l2, p2, placed2) = ours, theirs
    assert [t for t, _ in l1] == [t for t, _ in l2]
    np.testing.assert_allclose([v for _, v in l1], [v for _, v in l2], rtol=rtol, atol=atol)
    assert placed1 == placed2
    for k in p2:
        np.testing.assert_allclose(p1[k], p2[k], rtol=rtol, atol=atol, err_msg=k)


def test_tensor_and_sequence_parallel_examples_train_as_pytorch(torch, tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in _toy(torch).state_dict().items()}
    inputs = np.random.default_rng(0).random((10, 20, 10), dtype=np.float32)  # 10 iterations of rand(20, 10)
    for sequence_parallel in (False, True):
        ours, theirs = _both(torch, tmp_path, _tp_script, state, inputs, sequence_parallel)
        _assert_close(ours, theirs)


def _tiny(lib):
    """A two-layer llama-shaped model of our own (the 2-D example's module names and plan; attention
    without SDPA, which PyTorch 2.13 cannot run on DTensors on the CPU)."""
    nn, F = lib.nn, lib.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(d))

        def forward(self, x):
            return x * lib.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight

    class Attention(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.h = h
            self.wq, self.wk, self.wv, self.wo = (nn.Linear(d, d, bias=False) for _ in range(4))

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = (
                w(x).view(b, t, self.h, d // self.h).transpose(1, 2) for w in (self.wq, self.wk, self.wv)
            )
            y = ((q @ k.transpose(-2, -1)) * (d // self.h) ** -0.5).softmax(-1) @ v  # (b, h, t, d/h)
            return self.wo(y.transpose(1, 2).reshape(b, t, d))

    class FeedForward(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.w1, self.w2, self.w3 = (
                nn.Linear(d, 2 * d, bias=False),
                nn.Linear(2 * d, d, bias=False),
                nn.Linear(d, 2 * d, bias=False),
            )

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class Block(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.attention_norm, self.attention = RMSNorm(d), Attention(d, h)
            self.ffn_norm, self.feed_forward = RMSNorm(d), FeedForward(d)

        def forward(self, x):
            h = x + self.attention(self.attention_norm(x))
            return h + self.feed_forward(self.ffn_norm(h))

    class Tiny(nn.Module):
        def __init__(self, vocab=16, d=8, heads=2, layers=2):
            super().__init__()
            self.tok_embeddings = nn.Embedding(vocab, d)
            self.layers = nn.ModuleList(Block(d, heads) for _ in range(layers))
            self.norm, self.output = RMSNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, tokens):
            h = self.tok_embeddings(tokens)
            for layer in self.layers:
                h = layer(h)
            return self.output(self.norm(h)).float()

    return Tiny()


def _fsdp_tp_script(lib, state, batches):
    m = mods(lib)
    P, S, R = m.parallel, m.tensor.Shard, m.tensor.Replicate
    mesh = m.device_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
    tp_mesh, dp_mesh = mesh["tp"], mesh["dp"]
    model = _tiny(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    model = P.parallelize_module(model, tp_mesh, {
        "tok_embeddings": P.RowwiseParallel(input_layouts=R(), output_layouts=S(1)),
        "norm": P.SequenceParallel(),
        "output": P.ColwiseParallel(input_layouts=S(1), output_layouts=R()),
    })  # fmt: skip
    for block in model.layers:
        P.parallelize_module(module=block, device_mesh=tp_mesh, parallelize_plan={
            "attention_norm": P.SequenceParallel(),
            "attention": P.PrepareModuleInput(input_layouts=(S(1),), desired_input_layouts=(R(),)),
            "attention.wq": P.ColwiseParallel(use_local_output=False),
            "attention.wk": P.ColwiseParallel(use_local_output=False),
            "attention.wv": P.ColwiseParallel(use_local_output=False),
            "attention.wo": P.RowwiseParallel(output_layouts=S(1)),
            "ffn_norm": P.SequenceParallel(),
            "feed_forward": P.PrepareModuleInput(input_layouts=(S(1),), desired_input_layouts=(R(),)),
            "feed_forward.w1": P.ColwiseParallel(),
            "feed_forward.w2": P.RowwiseParallel(output_layouts=S(1)),
            "feed_forward.w3": P.ColwiseParallel(),
        })  # fmt: skip
    sharded_model = m.fsdp.fully_shard(model, mesh=dp_mesh)
    optimizer = lib.optim.AdamW(sharded_model.parameters(), lr=3e-3, foreach=True)
    losses = [type(sharded_model).__name__]
    for tokens in batches:
        inp = lib.tensor(tokens)
        output = sharded_model(inp)
        loss = lib.nn.functional.cross_entropy(output.flatten(0, 1), inp.flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append((type(output).__name__, loss.item()))
    params = {n: p.full_tensor().detach().numpy() for n, p in sharded_model.named_parameters()}
    return losses[1:], params, [losses[0], *_placed(sharded_model.named_parameters(), m.tensor)]


@pytest.mark.filterwarnings("ignore:FSDP2-wrapped module")  # PyTorch's, about its own backward hooks
def test_fsdp_tp_example_trains_as_pytorch(torch, tmp_path):
    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in _tiny(torch).state_dict().items()}
    batches = np.random.default_rng(1).integers(0, 16, (4, 2, 5))
    ours, theirs = _both(torch, tmp_path, _fsdp_tp_script, state, batches)
    assert ours[2][0] == theirs[2][0] == "FSDPTiny"
    assert ours[2][1] == (
        "tok_embeddings.weight",
        True,
        "(Shard(dim=0), Shard(dim=0))",
        "DeviceMesh((dp=1, tp=1), 'cpu', stride=((), ()))",
    )
    _assert_close(ours, theirs, rtol=2e-5, atol=2e-6)


def _ddp_script(lib, state, x, labels):
    dist = lib.distributed
    backend = dist.get_default_backend_for_device(lib.device("cpu"))
    # torch.accelerator.set_device_index(rank) raises on a CPU machine, in both: the CPU path skips it
    out = [backend, dist.get_world_size(), dist.get_rank(), dist.get_backend()]
    model = _toy(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    ddp_model = lib.nn.parallel.DistributedDataParallel(model)  # device_ids=[rank] is for a GPU module
    optimizer = lib.optim.SGD(ddp_model.parameters(), lr=0.001)
    optimizer.zero_grad()
    loss = lib.nn.MSELoss()(ddp_model(lib.tensor(x)), lib.tensor(labels)[:, :5])
    loss.backward()
    optimizer.step()
    out.append(round(loss.item(), 6))
    return out, {k: v.detach().numpy() for k, v in ddp_model.state_dict().items()}


def test_ddp_example_cpu_path_as_pytorch(torch, tmp_path):
    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in _toy(torch).state_dict().items()}
    rng = np.random.default_rng(2)
    x, labels = (
        rng.standard_normal((20, 10), dtype=np.float32),
        rng.standard_normal((20, 10), dtype=np.float32),
    )
    (o1, p1), (o2, p2) = _both(torch, tmp_path, _ddp_script, state, x, labels)
    assert o1 == o2 and o1[:4] == ["gloo", 1, 0, "gloo"]
    for k in p2:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-6, atol=1e-7, err_msg=k)
