"""Round 38, Hugging Face PEFT (LoRA, DoRA, IA3, LoHa, LoKr, prefix and prompt tuning) on tiny
transformers models, through a ``sys.modules`` shim that maps ``torch`` onto glassgrad.

Importing transformers, accelerate and peft stopped at names glassgrad lacked, each read at import
time: ``torch.float8_e4m3fn`` (and the other 8-bit floats) in transformers' class bodies,
``torch.distributed.fsdp.CPUOffloadPolicy``, ``torch.distributed.algorithms.join.Join``
(accelerate), ``torch._dynamo.allow_in_graph`` (a decorator in ``modeling_utils``),
``torch._dynamo._trace_wrapped_higher_order_op.TransformGetItemToIndex`` (the mask builder's
context) and ``torch.nn.attention.flex_attention._DEFAULT_SPARSE_BLOCK_SIZE``. With them, the
models train, merge, save and load as PyTorch's. The tests below check each name against
PyTorch's; ``test_masking_vmap_script`` replays what transformers' mask builder does with them.
"""

from __future__ import annotations

import dataclasses
import importlib
import pickle

import numpy as np
import pytest

import glassgrad
import glassgrad.distributed as dist
from glassgrad import nn
from glassgrad.distributed.algorithms.join import Join, Joinable, JoinHook
from glassgrad.distributed.fsdp import CPUOffloadPolicy, OffloadPolicy, fully_shard

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
NAME_ONLY = [*FLOAT8, "float4_e2m1fn_x2", "complex32", "chalf"]


@pytest.mark.parametrize("name", NAME_ONLY)
def test_name_only_dtypes_have_pytorchs_attributes(torch, name):
    ours, theirs = getattr(glassgrad, name), getattr(torch, name)
    assert repr(ours) == repr(theirs).replace("torch", "glassgrad")
    assert (ours.itemsize, ours.is_floating_point, ours.is_complex, ours.is_signed) == (
        theirs.itemsize,
        theirs.is_floating_point,
        theirs.is_complex,
        theirs.is_signed,
    )
    # equal to itself only (a dict keyed by dtypes, transformers' tables), one object through pickle
    assert (
        ours == ours and ours != glassgrad.float16 and ours != glassgrad.bfloat16 and ours != glassgrad.uint8
    )
    assert pickle.loads(pickle.dumps(ours)) is ours
    assert {ours: 1}[getattr(glassgrad, name)] == 1


@pytest.mark.parametrize("name", [*FLOAT8, "complex32"])
def test_name_only_finfo_is_pytorchs(torch, name):
    ours, theirs = glassgrad.finfo(getattr(glassgrad, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_name_only_aliases_and_refusals_are_pytorchs(torch):
    assert glassgrad.chalf is glassgrad.complex32 and torch.chalf is torch.complex32
    with pytest.raises(glassgrad.errors.DTypeError, match="complex32"):
        glassgrad.zeros(2, dtype=glassgrad.complex32)


def test_float8_tensors_are_refused_saying_why():
    with pytest.raises(glassgrad.errors.DTypeError, match="float8_e4m3fn"):
        glassgrad.zeros(2, dtype=glassgrad.float8_e4m3fn)
    with pytest.raises(glassgrad.errors.DTypeError, match="float8_e5m2"):
        glassgrad.ones(2).to(glassgrad.float8_e5m2)


def test_cpu_offload_policy_is_pytorchs_dataclass(torch):
    from torch.distributed.fsdp import CPUOffloadPolicy as TheirPolicy

    assert issubclass(CPUOffloadPolicy, OffloadPolicy) and issubclass(
        TheirPolicy, torch.distributed.fsdp.OffloadPolicy
    )
    assert [f.name for f in dataclasses.fields(CPUOffloadPolicy)] == [
        f.name for f in dataclasses.fields(TheirPolicy)
    ]
    assert CPUOffloadPolicy().pin_memory is TheirPolicy().pin_memory is True
    assert CPUOffloadPolicy(pin_memory=False) == CPUOffloadPolicy(False)
    assert repr(CPUOffloadPolicy()) == repr(TheirPolicy())


def test_fully_shard_refuses_cpu_offloading():
    try:
        with pytest.raises(NotImplementedError, match="CPUOffloadPolicy"):
            fully_shard(nn.Linear(3, 2), offload_policy=CPUOffloadPolicy())
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_allow_in_graph_returns_the_function(torch):
    import glassgrad._dynamo

    def f(x):
        return x * 2

    assert glassgrad._dynamo.allow_in_graph(f) is f
    assert torch._dynamo.allow_in_graph(f) is f  # PyTorch's, outside compilation, gives f too

    class M:  # transformers decorates a method with it
        @glassgrad._dynamo.allow_in_graph
        def g(self, x):
            return x + 1

    assert M().g(1) == 2


def test_default_sparse_block_size_is_pytorchs(torch):
    from glassgrad.nn.attention.flex_attention import _DEFAULT_SPARSE_BLOCK_SIZE, create_block_mask

    theirs = importlib.import_module("torch.nn.attention.flex_attention")._DEFAULT_SPARSE_BLOCK_SIZE

    assert _DEFAULT_SPARSE_BLOCK_SIZE == theirs == 128
    mask = create_block_mask(lambda b, h, q, kv: q >= kv, None, None, 4, 4)
    assert mask.BLOCK_SIZE == (128, 128)


def test_transform_getitem_to_index_keeps_values(torch):
    from torch._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex as Theirs

    from glassgrad._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex

    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    i, j = 2, 1
    with TransformGetItemToIndex():
        ours = glassgrad.tensor(a)[glassgrad.tensor(i), glassgrad.tensor(j)]
        ours_int = glassgrad.tensor(a)[glassgrad.tensor(i), 3]
    with Theirs():
        theirs = torch.tensor(a)[torch.tensor(i), torch.tensor(j)]
        theirs_int = torch.tensor(a)[torch.tensor(i), 3]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(ours_int.numpy(), theirs_int.numpy())


def script_masking_vmap(lib, Transform):
    """transformers' ``sdpa_mask_recent_torch``: a causal-and-padding mask function vmapped over
    batch, head, query and key indices, which indexes a padding mask with the batched indices."""
    padding = lib.tensor([[True, True, True, True, True], [False, False, True, True, True]])

    def mask_fn(b, h, q, kv):
        return (kv <= q) & padding[b, kv]

    fn = mask_fn
    for dims in [(None, None, None, 0), (None, None, 0, None), (None, 0, None, None), (0, None, None, None)]:
        fn = lib.vmap(fn, in_dims=dims, out_dims=0)
    with Transform():
        return fn(lib.arange(2), lib.arange(1), lib.arange(5), lib.arange(5))


def test_masking_vmap_script(torch):
    from torch._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex as Theirs

    from glassgrad._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex

    ours = script_masking_vmap(glassgrad, TransformGetItemToIndex)
    theirs = script_masking_vmap(torch, Theirs)
    assert tuple(ours.shape) == tuple(theirs.shape) == (2, 1, 5, 5)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


class _Counter(Joinable):
    """A joinable that records its hooks' calls (PyTorch's documentation's pattern)."""

    def __init__(self, lib_hook):
        super().__init__()
        self.calls = []
        self._hook = lib_hook

    def join_hook(self, **kwargs):
        owner, Hook = self, self._hook

        class Recording(Hook):
            def main_hook(self):
                owner.calls.append("main")

            def post_hook(self, is_last_joiner):
                owner.calls.append(("post", is_last_joiner, kwargs.get("tag")))

        return Recording()

    @property
    def join_device(self):
        return "cpu"

    @property
    def join_process_group(self):
        return None


def test_join_in_a_world_of_one_runs_the_post_hooks_once():
    a, b = _Counter(JoinHook), _Counter(JoinHook)
    with Join([a, b], tag="x"):
        assert Join.notify_join_context(a) is None
        assert Join.notify_join_context(b) is None
    assert a.calls == b.calls == [("post", True, "x")]
    assert a._join_config.is_first_joinable and not b._join_config.is_first_joinable
    # disabled: no hook runs; an exception inside propagates without hooks
    c = _Counter(JoinHook)
    with Join([c], enable=False):
        pass
    assert c.calls == []
    with pytest.raises(KeyError), Join([c]):
        raise KeyError("k")
    assert c.calls == []


def test_join_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match="at least one joinable"):
        Join([])
    with pytest.raises(TypeError):
        Joinable()  # abstract, as PyTorch's

    class NoInit(Joinable):
        def __init__(self):  # forgets Joinable.__init__
            pass

        def join_hook(self, **kwargs):
            return JoinHook()

        join_device = None
        join_process_group = None

    with pytest.raises(RuntimeError, match="Joinable.__init__"):
        Join.notify_join_context(NoInit())


def test_join_matches_pytorchs_hook_calls(torch):
    from torch.distributed.algorithms.join import Join as TJoin
    from torch.distributed.algorithms.join import Joinable as TJoinable
    from torch.distributed.algorithms.join import JoinHook as TJoinHook

    class TCounter(_Counter, TJoinable):
        pass

    if not torch.distributed.is_initialized():
        import os
        import tempfile

        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        store = torch.distributed.FileStore(tempfile.mkstemp()[1], 1)
        torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        t = TCounter(TJoinHook)
        with TJoin([t], tag="y"):
            TJoin.notify_join_context(t)
    finally:
        torch.distributed.destroy_process_group()
    g = _Counter(JoinHook)
    with Join([g], tag="y"):
        Join.notify_join_context(g)
    assert g.calls == t.calls == [("post", True, "y")]


def test_fsdp1_class_answers_isinstance_and_refuses_to_wrap(torch):
    from glassgrad.distributed.fsdp import FullyShardedDataParallel

    # transformers' generate asks isinstance(model, FullyShardedDataParallel): False for a plain model
    assert not isinstance(nn.Linear(2, 2), FullyShardedDataParallel)
    assert not isinstance(torch.nn.Linear(2, 2), torch.distributed.fsdp.FullyShardedDataParallel)
    assert issubclass(FullyShardedDataParallel, nn.Module)
    with pytest.raises(NotImplementedError, match="fully_shard"):
        FullyShardedDataParallel(nn.Linear(2, 2))
