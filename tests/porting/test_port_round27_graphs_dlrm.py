"""Round 27, recommender models: facebookresearch/dlrm, distilled.

``dlrm_s_pytorch.py`` imports ``torch._ops.ops`` and the ``torch.nn.parallel`` submodules at the
top; its row-wise sparse Adagrad (``optim/rwsadagrad.py``) builds updates with
``grad.new(indices, values, size)``, adds them into dense state with ``add_``, reads the state back
with ``sparse_mask`` and divides with ``addcdiv_``. Each test runs the same code on glassgrad and
on PyTorch and compares.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_dlrm_top_level_imports():
    from glassgrad._ops import ops
    from glassgrad.nn.parallel.parallel_apply import parallel_apply
    from glassgrad.nn.parallel.replicate import replicate
    from glassgrad.nn.parallel.scatter_gather import gather, scatter

    # the package's names stay PyTorch's functions after the submodules are imported
    assert gg.nn.parallel.parallel_apply is parallel_apply and gg.nn.parallel.replicate is replicate
    assert callable(gather) and callable(scatter) and callable(gg.nn.parallel.data_parallel)
    assert gg.nn.parallel.distributed.DistributedDataParallel is gg.nn.parallel.DistributedDataParallel
    assert not hasattr(ops.quantized, "embedding_bag_byte_prepack")
    with pytest.raises(AttributeError, match="ops.quantized.embedding_bag_4bit_prepack"):
        ops.quantized.embedding_bag_4bit_prepack(gg.ones(2, 2))


def _rws_adagrad_step(lib, p, grad, momentum, lr=0.1, eps=1e-10):
    """The sparse branch of DLRM's RWSAdagrad.step, as written there."""
    grad = grad.coalesce()
    grad_indices, grad_values, size = grad._indices(), grad._values(), grad.size()

    def make_sparse(values, row_wise):
        constructor = grad.new
        matrix_size = [size[0]] if row_wise else size
        return constructor(grad_indices, values, matrix_size)

    momentum_update = make_sparse(grad_values.pow(2).mean(dim=1), True)
    momentum.add_(momentum_update)
    std = momentum.sparse_mask(momentum_update.coalesce())
    std_values = std._values().sqrt_().add_(eps)
    p.data.add_(make_sparse(grad_values / std_values.view(std_values.size()[0], 1), False), alpha=-lr)
    return std


def test_dlrm_row_wise_sparse_adagrad(torch):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((10, 4))
    batches = [(rng.integers(0, 10, 7), np.array([0, 3, 5])) for _ in range(3)]
    res = {}
    for lib in (torch, gg):
        bag = lib.nn.EmbeddingBag(10, 4, mode="sum", sparse=True).double()
        bag.weight.data.copy_(lib.tensor(table))
        momentum = lib.zeros(10, dtype=lib.float64)
        for idx, offs in batches:
            bag.weight.grad = None
            bag(lib.tensor(idx), lib.tensor(offs)).pow(2).sum().backward()
            assert bag.weight.grad.is_sparse
            std = _rws_adagrad_step(lib, bag.weight, bag.weight.grad, momentum)
        res[lib] = (bag.weight.detach(), momentum, std)
    (tw, tm, ts), (gw, gm, gs) = res[torch], res[gg]
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gm.numpy(), tm.numpy(), rtol=1e-13, atol=1e-14)
    assert gs.layout == gg.sparse_coo and gs.is_coalesced() == ts.is_coalesced()
    np.testing.assert_array_equal(gs._indices().numpy(), ts._indices().numpy())
    np.testing.assert_allclose(gs._values().numpy(), ts._values().numpy(), rtol=1e-13)


def test_sparse_new_forms(torch):
    ix, v = [[1, 3]], np.array([5.0, 6.0])
    for lib in (torch, gg):
        s = lib.sparse_coo_tensor(lib.tensor([[2, 0, 2]]), lib.tensor([1.0, 2.0, 3.0]), (4,))
        made = s.new(lib.tensor(ix), lib.tensor(v), [4])  # the values' dtype, as PyTorch
        assert str(made.dtype).endswith("float64") and tuple(made.shape) == (4,)
        np.testing.assert_array_equal(made.to_dense().numpy(), [0, 5, 0, 6])
        assert tuple(s.new(lib.tensor(ix), lib.tensor(v)).shape) == (4,)
        empty = s.new(2, 3)
        assert tuple(empty.shape) == (2, 3) and empty._nnz() == 0 and str(empty.dtype).endswith("float32")
        assert tuple(s.new().shape) == (0,)


def test_sparse_mask_values_and_gradient(torch):
    rng = np.random.default_rng(1)
    d = rng.standard_normal((4, 3))
    out = {}
    for lib in (torch, gg):
        s = lib.sparse_coo_tensor(lib.tensor([[3, 1, 3]]), lib.ones(3, 3), (4, 3))  # uncoalesced
        x = lib.tensor(d, requires_grad=True)
        m = x.sparse_mask(s)
        (m.to_dense() * lib.arange(12.0, dtype=lib.float64).view(4, 3)).sum().backward()
        out[lib] = (m, x.grad)
    (tm, tg), (gm, gg_) = out[torch], out[gg]
    assert gm.is_coalesced() == tm.is_coalesced() is False
    np.testing.assert_array_equal(gm._indices().numpy(), tm._indices().numpy())
    np.testing.assert_array_equal(gm._values().detach().numpy(), tm._values().detach().numpy())
    np.testing.assert_array_equal(gg_.numpy(), tg.numpy())
    with pytest.raises(RuntimeError, match=r"self has size \[3\] but mask has size \[4\]"):
        gg.zeros(3).sparse_mask(gg.sparse_coo_tensor([[0]], [1.0], (4,)))
    with pytest.raises(NotImplementedError, match="sparse_mask"):
        gg.zeros(4).sparse_mask(gg.zeros(4))


def test_dense_add_and_sub_of_sparse(torch):
    res = {}
    for lib in (torch, gg):
        s = lib.sparse_coo_tensor(lib.tensor([[0, 2, 0]]), lib.tensor([1.0, 2.0, 3.0]), (4,))
        a = lib.zeros(4)
        r = a.add_(s, alpha=-0.5)
        b = lib.ones(4, dtype=lib.float64).sub_(s)
        res[lib] = (
            r is a,
            a,
            b,
            lib.zeros(4).add(s, alpha=2),
            lib.add(lib.zeros(4), s, alpha=2),
            lib.zeros(4).sub(s),
        )
    for t, m in zip(res[torch], res[gg]):
        if isinstance(t, bool):
            assert t == m
        else:
            assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            np.testing.assert_array_equal(m.numpy(), t.numpy())
    with pytest.raises(Exception, match="same size") as ours:
        gg.zeros(2, 4).add_(gg.sparse_coo_tensor([[0]], [1.0], (4,)))
    with pytest.raises(RuntimeError, match="same size"):
        torch.zeros(2, 4).add_(torch.sparse_coo_tensor([[0]], [1.0], (4,)))
    assert "[2, 4]" in str(ours.value) and "[4]" in str(ours.value)


def test_addcdiv_rounds_as_pytorch(torch):
    # PyTorch computes input + (value * tensor1) / tensor2; the other order differs in the last bit
    rng = np.random.default_rng(2)
    a = (rng.random(20000) + 0.1).astype(np.float32)
    g, h = rng.random(20000).astype(np.float32), rng.random(20000).astype(np.float32)
    for value in (-0.1, 0.37, 3):
        theirs = torch.tensor(g).addcdiv_(torch.tensor(h), torch.tensor(a), value=value).numpy()
        ours = gg.tensor(g).addcdiv_(gg.tensor(h), gg.tensor(a), value=value).numpy()
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(
            gg.addcdiv(gg.tensor(g), gg.tensor(h), gg.tensor(a), value=value).numpy(), theirs
        )


def test_addcdiv_float16_computes_in_float32_as_pytorch(torch):
    # value * t1 alone passes float16's range (1e6); PyTorch's CPU kernel works in float32
    out = []
    for lib in (gg, torch):
        h = lib.float16
        out.append(
            lib.addcdiv(
                lib.tensor([1.0], dtype=h), lib.tensor([1e4], dtype=h), lib.tensor([1e4], dtype=h), value=100
            )
        )
    assert out[0].dtype == gg.float16 and out[0].item() == out[1].item() == 101.0


def test_addcdiv_mixed_float16_computes_in_float32_as_pytorch(torch):
    out = []
    for lib in (gg, torch):
        h = lib.float16
        a = lib.addcdiv(
            lib.tensor([1.0]), lib.tensor([300.0], dtype=h), lib.tensor([0.01], dtype=h), value=300
        )
        b = lib.addcdiv(
            lib.tensor([1.0], dtype=h), lib.tensor([300.0], dtype=h), lib.tensor([0.01]), value=300
        )
        out.append((a.item(), str(a.dtype).split(".")[1], b.item(), str(b.dtype).split(".")[1]))
    assert out[0] == out[1]
