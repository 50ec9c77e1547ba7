"""Port round 11: Sebastian Raschka's "Build a Large Language Model (From Scratch)" code
(rasbt/LLMs-from-scratch). Appendix A's DDP scripts needed ``torch.utils.data.distributed``'s
``DistributedSampler``, ``torch.multiprocessing.spawn`` and PyTorch's answers on a CPU machine
(``init_process_group(backend="nccl")``, ``torch.cuda.set_device``, ``torch.cuda.Event``); the
efficient-attention notebook needed ``torch._dynamo.config``; the loaders warn about
``pin_memory`` as PyTorch's do. The last test runs a GPT written here in the book's style (our code:
a registered causal-mask buffer, ``masked_fill_`` with ``mask.bool()[:n, :n]``, a LayerNorm with
``scale``/``shift``, the tanh GELU, a key/value cache of non-persistent buffers) on both libraries
from the same weights."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import glassgrad
import glassgrad.multiprocessing as gmp
from glassgrad.data.distributed import DistributedSampler

from .helpers import assert_same

# ---- DistributedSampler -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 3, 4, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shares_match_torch(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(ours))
        shuffled = DistributedSampler(range(n), replicas, rank, drop_last=drop_last)
        assert len(list(shuffled)) == len(TorchSampler(range(n), replicas, rank, drop_last=drop_last))


def test_distributed_sampler_shuffles_per_epoch_alike_in_every_rank():
    """Every rank draws the same permutation (``seed + epoch``), so the shares are disjoint and
    cover the dataset; ``set_epoch`` gives a new order, the same epoch the same one."""
    shares = [list(DistributedSampler(range(12), 3, r, seed=5)) for r in range(3)]
    assert sorted(i for share in shares for i in share) == list(range(12))
    sampler = DistributedSampler(range(50), 1, 0)
    first = list(sampler)
    assert list(sampler) == first and sorted(first) == list(range(50))
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_distributed_sampler_needs_a_group_or_explicit_ranks(torch):
    import glassgrad.distributed as dist

    for lib_sampler in (DistributedSampler, torch.utils.data.distributed.DistributedSampler):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            lib_sampler(range(4))
        with pytest.raises(ValueError, match="Invalid rank 2"):
            lib_sampler(range(4), num_replicas=2, rank=2)
    dist.init_process_group("gloo", world_size=1, rank=0)
    try:
        sampler = DistributedSampler(range(5), shuffle=False)  # the world of one: everything
        assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])
    finally:
        dist.destroy_process_group()


def test_distributed_sampler_drives_a_dataloader_as_in_the_ddp_script():
    """Appendix A's DDP script: ``DataLoader(..., sampler=DistributedSampler(ds))``, then
    ``train_loader.sampler.set_epoch(epoch)`` each epoch."""
    ds = glassgrad.utils.data.TensorDataset(glassgrad.arange(10.0))
    loader = glassgrad.utils.data.DataLoader(
        ds, batch_size=4, shuffle=False, sampler=DistributedSampler(ds, 2, 1, shuffle=False)
    )
    assert [b[0].tolist() for b in loader] == [[1.0, 3.0, 5.0, 7.0], [9.0]]
    loader.sampler.set_epoch(3)
    assert loader.sampler.epoch == 3
    assert glassgrad.utils.data.DistributedSampler is DistributedSampler
    from glassgrad.utils.data.distributed import DistributedSampler as ByTorchPath

    assert ByTorchPath is DistributedSampler


# ---- What PyTorch says on a machine without CUDA ------------------------------------------------


@pytest.mark.parametrize("backend", ["nccl", "NCCL", "cpu:gloo,cuda:nccl", "xccl", "mpi"])
def test_init_process_group_refuses_backends_a_cpu_build_lacks(backend):
    import glassgrad.distributed as dist

    with pytest.raises(RuntimeError, match="Distributed package doesn't have .* built in"):
        dist.init_process_group(backend=backend, rank=0, world_size=1)
    assert not dist.is_initialized()


def test_nccl_is_missing_from_torch_cpu_too(torch):
    assert not torch.distributed.is_nccl_available()


def test_cuda_set_device_event_and_stream_answer_as_pytorch_without_cuda(torch):
    for lib in (glassgrad, torch):
        with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
            lib.cuda.set_device(lib.device("cpu"))
        assert lib.cuda.set_device(-1) is None  # a negative index: nothing to do
        with pytest.raises(RuntimeError, match="Tried to instantiate dummy base class Event"):
            lib.cuda.Event(enable_timing=True)
        with pytest.raises(RuntimeError, match="torch.cuda.Stream requires CUDA support"):
            lib.cuda.Stream()
    for index in (0, "cuda:0", glassgrad.device("cuda", 1)):
        with pytest.raises(RuntimeError, match="no CUDA device"):
            glassgrad.cuda.set_device(index)


def test_pin_memory_warns_as_pytorch_without_an_accelerator(torch):
    said = {}
    for lib in (glassgrad, torch):
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.arange(4)), pin_memory=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert len(list(loader)) == 4
        said[lib] = [str(w.message) for w in caught]
    assert said[glassgrad] == said[torch]
    assert any("'pin_memory' argument is set as true but no accelerator" in m for m in said[glassgrad])


def test_dynamo_config_as_the_attention_notebook_uses_it(torch):
    import torch._dynamo

    import glassgrad._dynamo

    for dyn in (glassgrad._dynamo, torch._dynamo):
        before = dyn.config.suppress_errors
        dyn.config.suppress_errors = True
        try:
            assert dyn.config.suppress_errors is True
        finally:
            dyn.config.suppress_errors = before
        assert dyn.config.cache_size_limit == 8 and dyn.is_compiling() is False
        with pytest.raises(AttributeError, match="does not exist"):
            dyn.config.no_such_setting = 1
    assert glassgrad.compile(len) is len


# ---- torch.multiprocessing.spawn ----------------------------------------------------------------


def _child_write(i, folder, text):  # module level: spawn imports it by name
    with open(os.path.join(folder, f"rank{i}.txt"), "w") as f:
        f.write(f"{text} {i}")


def _child_fail(i):
    if i == 1:
        raise ValueError("rank one failed on purpose")


def test_spawn_runs_fn_with_the_process_index(tmp_path):
    assert gmp.spawn(_child_write, args=(str(tmp_path), "hello"), nprocs=2) is None
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["hello 0", "hello 1"]
    assert gmp.spawn(_child_write, args=(str(tmp_path), "x"), nprocs=0) is None  # no GPUs: nothing


def test_spawn_raises_the_childs_exception_with_its_traceback():
    with pytest.raises(gmp.ProcessRaisedException, match="rank one failed on purpose") as info:
        gmp.spawn(_child_fail, nprocs=2)
    assert info.value.error_index == 1
    assert "Process 1 terminated with the following error" in str(info.value)


def test_start_processes_without_join_returns_a_context(tmp_path):
    context = gmp.start_processes(
        _child_write, args=(str(tmp_path), "ctx"), nprocs=1, join=False, start_method="fork"
    )
    while not context.join():
        pass
    assert len(context.pids()) == 1 and (tmp_path / "rank0.txt").read_text() == "ctx 0"


# ---- A GPT in the book's style, on both libraries ----------------------------------------------


def make_gpt(lib, vocab=61, ctx=12, emb=16, heads=4, layers=2):
    nn = lib.nn

    class MultiHeadAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads, self.head_dim = heads, emb // heads
            self.W_query = nn.Linear(emb, emb, bias=True)
            self.W_key = nn.Linear(emb, emb, bias=True)
            self.W_value = nn.Linear(emb, emb, bias=True)
            self.out_proj = nn.Linear(emb, emb)
            self.register_buffer("mask", lib.triu(lib.ones(ctx, ctx), diagonal=1))
            self.register_buffer("cache_k", None, persistent=False)
            self.register_buffer("cache_v", None, persistent=False)

        def forward(self, x, use_cache=False):
            b, n, _ = x.shape

            def split(t):  # (b, n, emb) -> (b, heads, n, head_dim)
                return t.view(b, n, self.heads, self.head_dim).transpose(1, 2)

            q, k, v = split(self.W_query(x)), split(self.W_key(x)), split(self.W_value(x))
            if use_cache:
                if self.cache_k is not None:
                    k, v = lib.cat([self.cache_k, k], dim=2), lib.cat([self.cache_v, v], dim=2)
                self.cache_k, self.cache_v = k, v
            scores = q @ k.transpose(2, 3)  # (b, heads, n, n_keys)
            keys = k.shape[2]
            mask = self.mask.bool()[keys - n : keys, :keys]
            scores.masked_fill_(mask, -lib.inf)
            weights = lib.softmax(scores / k.shape[-1] ** 0.5, dim=-1)
            out = (weights @ v).transpose(1, 2).contiguous().view(b, n, emb)
            return self.out_proj(out)

    class LayerNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale, self.shift = nn.Parameter(lib.ones(emb)), nn.Parameter(lib.zeros(emb))

        def forward(self, x):
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            return self.scale * (x - mean) / lib.sqrt(var + 1e-5) + self.shift

    class GELU(nn.Module):
        def forward(self, x):
            inner = lib.sqrt(lib.tensor(2.0 / lib.pi)) * (x + 0.044715 * lib.pow(x, 3))
            return 0.5 * x * (1 + lib.tanh(inner))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.att, self.norm1, self.norm2 = MultiHeadAttention(), LayerNorm(), LayerNorm()
            self.ff = nn.Sequential(nn.Linear(emb, 4 * emb), GELU(), nn.Linear(4 * emb, emb))

        def forward(self, x, use_cache=False):
            x = x + self.att(self.norm1(x), use_cache=use_cache)
            return x + self.ff(self.norm2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb, self.pos_emb = nn.Embedding(vocab, emb), nn.Embedding(ctx, emb)
            self.trf_blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.final_norm = LayerNorm()
            self.out_head = nn.Linear(emb, vocab, bias=False)
            self.pos = 0

        def forward(self, idx, use_cache=False):
            n = idx.shape[1]
            start = self.pos if use_cache else 0
            self.pos = start + n if use_cache else 0
            x = self.tok_emb(idx) + self.pos_emb(lib.arange(start, start + n, dtype=lib.long))
            for block in self.trf_blocks:
                x = block(x, use_cache=use_cache)
            return self.out_head(self.final_norm(x))

        def reset_kv_cache(self):
            for block in self.trf_blocks:
                block.att.cache_k, block.att.cache_v = None, None
            self.pos = 0

    return GPT()


def script_gpt(lib):
    model = make_gpt(lib)
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for _, p in model.named_parameters():
            p.copy_(lib.tensor(rng.normal(scale=0.3, size=tuple(p.shape)), dtype=lib.float32))
    keys = sorted(model.state_dict())
    idx = lib.tensor(rng.integers(0, 61, size=(2, 9)))
    target = lib.tensor(rng.integers(0, 61, size=(2, 9)))
    logits = model(idx)
    loss = lib.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten())
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    model.eval()
    with lib.no_grad():  # greedy generation with the cache, token by token after the prompt
        model.reset_kv_cache()
        out, step_logits = idx[:, :3], [model(idx[:, :3], use_cache=True)[:, -1]]
        for _ in range(6):
            nxt = lib.argmax(step_logits[-1], dim=-1, keepdim=True)  # (2, 1)
            out = lib.cat([out, nxt], dim=1)
            step_logits.append(model(nxt, use_cache=True)[:, -1])
        uncached = model(out)[:, -1]
    return [keys, logits, loss, grads, out, step_logits[-1], uncached]


def test_book_style_gpt_matches_torch(torch):
    ours, theirs = script_gpt(glassgrad), script_gpt(torch)
    assert ours[0] == theirs[0] and "trf_blocks.0.att.mask" in ours[0]  # cache buffers not saved
    assert_same(ours[1:], theirs[1:], rtol=1e-4, atol=1e-5)
    assert_same(ours[5], ours[6], rtol=1e-4, atol=1e-5)  # the cache gives the uncached logits
