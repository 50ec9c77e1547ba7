"""Round 39, transformers 5.x: the names its import reaches (placements, DTensor helpers, the
all-to-all collectives, pytree key helpers, CUDA graph names, dynamo decorators, ``torch.library``
custom operators and ``torch.ops`` namespaces, flex_attention's ``return_aux``), against PyTorch."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from glassgrad.nn.attention.flex_attention import AuxOutput, AuxRequest, flex_attention

import glassgrad as gg
import glassgrad.distributed as gdist
import glassgrad.distributed._functional_collectives as gfc
from glassgrad.distributed.tensor._utils import compute_local_shape_and_global_offset
from glassgrad.distributed.tensor.placement_types import Shard, _StridedShard
from glassgrad.library import custom_op, register_autograd, register_fake
from glassgrad.utils import _pytree as gpytree
from tests.distributed.worlds import gg_world, torch_world


def test_strided_shard_matches_torch(torch):
    from torch.distributed.tensor.placement_types import _StridedShard as TS

    for dim, sf in [(0, 2), (1, 3), (-1, 1)]:
        t, g = TS(dim, split_factor=sf), _StridedShard(dim, split_factor=sf)
        assert (repr(g), str(g)) == (repr(t), str(t))
        assert (g.is_shard(), g.is_shard(dim), g.is_replicate(), g.is_partial()) == (
            t.is_shard(), t.is_shard(dim), t.is_replicate(), t.is_partial()
        )  # fmt: skip
    assert _StridedShard(0, split_factor=2) == _StridedShard(0, sf=2)
    assert _StridedShard(0, split_factor=2) != Shard(0) and not isinstance(_StridedShard(0), Shard)
    assert hash(_StridedShard(1, split_factor=2)) == hash(_StridedShard(1, split_factor=2))
    assert pickle.loads(pickle.dumps(_StridedShard(1, split_factor=4))) == _StridedShard(1, split_factor=4)
    with pytest.raises(TypeError, match="_StridedShard"):
        _StridedShard("0")
    with pytest.raises(ValueError, match="split_factor"):
        _StridedShard(0, split_factor=0)


def test_compute_local_shape_and_global_offset_matches_torch(torch, tmp_path):
    from torch.distributed.tensor import Shard as TShard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset as tfn

    with torch_world(torch, tmp_path):
        mesh = torch.distributed.device_mesh.init_device_mesh("cpu", (1,))
        for shape, skip in [((4, 6), False), ((3,), True), ((2, 3, 5), False)]:
            expected = tfn(shape, mesh, [TShard(0)], skip_offset=skip)
            assert (
                compute_local_shape_and_global_offset(gg.Size(shape), None, [Shard(0)], skip_offset=skip)
                == expected
            )
    with pytest.raises(TypeError, match="compute_local_shape_and_global_offset"):
        compute_local_shape_and_global_offset(3, None, [])


def test_all_to_all_single_matches_torch(torch, tmp_path):
    x = np.arange(6.0).reshape(3, 2)
    with torch_world(torch, tmp_path):
        out_t = torch.zeros(3, 2, dtype=torch.float64)
        torch.distributed.all_to_all_single(out_t, torch.tensor(x), [3], [3])
        ranks_t = torch.distributed.get_process_group_ranks(torch.distributed.group.WORLD)
        fc = torch.distributed._functional_collectives
        f_t = fc.all_to_all_single(torch.tensor(x), None, None, torch.distributed.group.WORLD)
        f_t = fc.wait_tensor(f_t)
    with gg_world():
        out_g = gg.zeros(3, 2, dtype=gg.float64)
        assert gdist.all_to_all_single(out_g, gg.tensor(x), [3], [3]) is None
        np.testing.assert_array_equal(out_g.numpy(), out_t.numpy())
        assert gdist.get_process_group_ranks(gdist.group.WORLD) == ranks_t == [0]
        np.testing.assert_array_equal(
            gfc.all_to_all_single(gg.tensor(x), None, None, None).numpy(), f_t.numpy()
        )
        w = gg.tensor(x, requires_grad=True)
        gfc.all_to_all_single_autograd(w, [3], [3], None).mul(gg.tensor(x)).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), x)  # the identity's gradient over one process
        with pytest.raises(ValueError, match="all_to_all_single.*split"):
            gdist.all_to_all_single(out_g, gg.tensor(x), [1, 2], None)
        with pytest.raises(ValueError, match="all_to_all_single_autograd.*split"):
            gfc.all_to_all_single_autograd(w, [2], [3], None)
    with pytest.raises(ValueError, match="init_process_group"):
        gdist.get_process_group_ranks(None)


def test_pytree_dict_flatten_with_keys_matches_torch(torch):
    import torch.utils._pytree as tp

    d = {"b": 1, "a": [2, 3]}
    t_pairs, t_ctx = tp._dict_flatten_with_keys(d)
    g_pairs, g_ctx = gpytree._dict_flatten_with_keys(d)
    assert g_ctx == t_ctx
    assert [(str(k), repr(k), v) for k, v in g_pairs] == [(str(k), repr(k), v) for k, v in t_pairs]
    assert gpytree.MappingKey("a") == gpytree.MappingKey("a") and gpytree.MappingKey("a").key == "a"

    class Out(dict):
        pass

    # transformers 5 registers every ModelOutput so, with flatten_with_keys_fn
    gpytree.register_pytree_node(
        Out, lambda o: (list(o.values()), list(o)), lambda v, k: Out(zip(k, v)),
        serialized_type_name="Out", flatten_with_keys_fn=gpytree._dict_flatten_with_keys,
    )  # fmt: skip
    leaves, spec = gpytree.tree_flatten(Out(x=1, y=2))
    assert leaves == [1, 2] and gpytree.tree_unflatten([3, 4], spec) == Out(x=3, y=4)


def test_cuda_graph_names_match_torch(torch):
    with pytest.raises(RuntimeError, match="CUDAGraph") as got:
        gg.cuda.CUDAGraph()
    with pytest.raises(RuntimeError) as want:
        torch.cuda.CUDAGraph()
    assert str(want.value) in str(got.value)
    with gg.cuda.StreamContext(None) as ctx, torch.cuda.StreamContext(None) as tctx:
        assert ctx is tctx is None
    with pytest.raises(RuntimeError, match="StreamContext"):
        gg.cuda.StreamContext(object())
    with pytest.raises(RuntimeError, match="cuda.graph"):
        gg.cuda.graph(None)
    assert isinstance(gg.cuda.graph, type) and isinstance(torch.cuda.graph, type)


def test_dynamo_decorators_return_the_function(torch):
    def f(x):
        return x + 1

    assert gg._dynamo.assume_constant_result(f) is f
    assert torch._dynamo.assume_constant_result(f)(1) == gg._dynamo.assume_constant_result(f)(1) == 2
    assert gg._dynamo.mark_static_address(gg.ones(2)) is None


def _fresh(name):
    return f"round39tf5::{name}_{np.random.default_rng().integers(1 << 30)}"


def test_custom_op_with_autograd_matches_torch(torch):
    def body(lib):
        def f(x, w, scale: float = 2.0):
            return (x * w).sum(-1) * scale

        return f

    def setup(ctx, inputs, output):
        x, w, scale = inputs
        ctx.save_for_backward(x, w)
        ctx.scale = scale

    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g = grad.unsqueeze(-1) * ctx.scale
        return g * w, (g * x).sum_to_size(w.shape), None

    def tbackward(ctx, grad):
        x, w = ctx.saved_tensors
        g = grad.unsqueeze(-1) * ctx.scale
        return g * w, (g * x).sum_to_size(w.shape), None

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal(4)

    name = _fresh("scaled_dot")
    schema = "(Tensor x, Tensor w, float scale=2.0) -> Tensor"
    top = torch.library.custom_op(name, body(torch), mutates_args=(), schema=schema)
    torch.library.register_autograd(name, tbackward, setup_context=setup)
    gop = custom_op(name, body(gg), mutates_args=(), schema=schema)
    register_autograd(name, backward, setup_context=setup)
    assert register_fake(name, lambda x, w, scale=2.0: x.new_empty(x.shape[:-1])) is not None

    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    xg, wg = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
    ns, short = name.split("::")
    out_t, out_g = top(xt, wt, scale=3.0), getattr(getattr(gg.ops, ns), short)(xg, wg, scale=3.0)
    assert getattr(getattr(gg.ops, ns), short) is gop
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-15, atol=0)
    out_t.pow(2).sum().backward()
    out_g.pow(2).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(wg.grad.numpy(), wt.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_custom_op_gradcheck_broadcasting():
    rng = np.random.default_rng(1)

    @custom_op(_fresh("mulsq"), mutates_args=())
    def mulsq(a: gg.Tensor, b: gg.Tensor) -> gg.Tensor:
        return a * b * b

    def setup(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b * b).sum_to_size(a.shape), (g * 2 * a * b).sum_to_size(b.shape)

    mulsq.register_autograd(backward, setup_context=setup)
    for sa, sb in [((3, 1, 4), (2, 4)), ((5,), (2, 5)), ((2, 3), (2, 3))]:
        a = gg.tensor(rng.standard_normal(sa), requires_grad=True)
        b = gg.tensor(rng.standard_normal(sb), requires_grad=True)
        assert gg.autograd.gradcheck(mulsq, (a, b))


def test_custom_op_without_autograd_and_errors():
    def twice(x: gg.Tensor) -> gg.Tensor:
        return x * 2

    op = custom_op(_fresh("plain"), twice, mutates_args=())
    y = op(gg.ones(2, requires_grad=True))
    assert y.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError):  # no backward registered: PyTorch's raises when backward reaches it
        y.sum().backward()
    with pytest.raises(ValueError):  # a name without its namespace
        custom_op("noname", twice, mutates_args=())
    with pytest.raises(ValueError, match="Parameter x must have a type annotation"):  # as PyTorch's
        custom_op(_fresh("bare"), lambda x: x, mutates_args=())
    with pytest.raises((AttributeError, RuntimeError)):  # PyTorch's AttributeError, glassgrad's RuntimeError
        register_autograd("nowhere::op", lambda ctx, g: g)
    with pytest.raises(TypeError):
        op(1, 2)
    assert not hasattr(gg.ops, "round39_missing") and not hasattr(gg.ops, "pytest_plugins")
    assert not hasattr(gg._ops.ops.round39_missing, "op")
    assert gg.ops.aten.__name__ == "glassgrad.ops.aten"  # the package's own modules stay its modules


@pytest.mark.parametrize("lse", [False, True])
def test_flex_attention_return_aux_matches_torch(torch, lse):
    from torch.nn.attention.flex_attention import AuxRequest as TAux
    from torch.nn.attention.flex_attention import flex_attention as tflex

    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 2, 4, 8)) for _ in range(3))
    out_t, aux_t = tflex(*(torch.tensor(a) for a in (q, k, v)), return_aux=TAux(lse=lse))
    out_g, aux_g = flex_attention(*(gg.tensor(a) for a in (q, k, v)), return_aux=AuxRequest(lse=lse))
    assert type(aux_g) is AuxOutput and aux_g.max_scores is None is aux_t.max_scores
    np.testing.assert_allclose(out_g.numpy(), out_t.numpy(), rtol=1e-12, atol=1e-14)
    if lse:
        np.testing.assert_allclose(aux_g.lse.numpy(), aux_t.lse.numpy(), rtol=1e-12, atol=1e-14)
    else:
        assert aux_g.lse is None is aux_t.lse
    with pytest.raises(ValueError, match="return_lse and return_aux"):
        flex_attention(
            gg.tensor(q), gg.tensor(k), gg.tensor(v), return_lse=True, return_aux=AuxRequest(lse=True)
        )
    with pytest.raises(NotImplementedError, match="max scores"):
        flex_attention(gg.tensor(q), gg.tensor(k), gg.tensor(v), return_aux=AuxRequest(max_scores=True))
