"""Sparse gradients: ``Embedding``/``EmbeddingBag`` with ``sparse=True`` and the optimizers that
take them (``SGD``, ``Adagrad``, ``SparseAdam``), against PyTorch and by hand."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

TABLE = np.arange(24.0).reshape(8, 3) / 10 - 1  # (8, 3): rows differ, signs mixed
IDS = [[1, 2, 1], [7, 3, 0]]


def _emb(lib, **kw):
    e = lib.nn.Embedding(8, 3, sparse=True, **kw)
    with lib.no_grad():
        e.weight.copy_(lib.tensor(TABLE.astype(np.float32)))
    return e


def _grad(e):
    g = e.weight.grad
    return g._indices().numpy().tolist(), g._values().detach().numpy()


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 7}])
def test_embedding_sparse_grad_matches_torch(torch, kw):
    got, want = _emb(gg, **kw), _emb(torch, **kw)
    for lib, e in ((gg, got), (torch, want)):
        (e(lib.tensor(IDS)) ** 2).sum().backward()
        e(lib.tensor([5])).sum().backward()  # a second backward: the lookups concatenate
    assert got.weight.grad.is_sparse and got.weight.grad.layout == gg.sparse_coo
    assert not got.weight.grad.is_coalesced()
    (gi, gv), (ti, tv) = _grad(got), _grad(want)
    assert gi == ti
    np.testing.assert_allclose(gv, tv, rtol=1e-6)
    assert repr(got) == repr(want).replace("torch", "glassgrad")


def test_sparse_refuses_scale_grad_by_freq_at_backward_as_torch(torch):
    for lib in (gg, torch):
        for e in (
            _emb(lib, scale_grad_by_freq=True),
            lib.nn.EmbeddingBag(8, 3, sparse=True, scale_grad_by_freq=True),
        ):
            out = e(lib.tensor(IDS)).sum()  # the forward runs
            with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
                out.backward()


def test_embedding_sparse_grad_is_the_dense_one():
    dense, sparse = gg.nn.Embedding(8, 3), _emb(gg)
    dense.weight.data.copy_(sparse.weight.data)
    for e in (dense, sparse):
        (e(gg.tensor(IDS)) * gg.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(sparse.weight.grad.to_dense().numpy(), dense.weight.grad.numpy())
    (g,) = gg.autograd.grad(sparse(gg.tensor(IDS)).sum(), sparse.weight)  # autograd.grad: dense
    assert np.array_equal(g.numpy(), np.bincount(np.ravel(IDS), minlength=8)[:, None].repeat(3, 1))


def test_sparse_plus_dense_gradient_is_dense(torch):
    for lib in (gg, torch):
        e = _emb(lib)
        (e(lib.tensor([1])).sum() + e.weight.sum()).backward()  # one pass, both kinds
        assert not e.weight.grad.is_sparse
        first = e.weight.grad.numpy().copy()
        e.weight.grad = None
        e(lib.tensor([1])).sum().backward()
        e.weight.sum().backward()  # a dense gradient into a sparse .grad
        assert not e.weight.grad.is_sparse
        np.testing.assert_array_equal(e.weight.grad.numpy(), first)


def test_hooks_and_computed_tables_see_dense_gradients():
    e = _emb(gg)
    seen = []
    e.weight.register_hook(lambda g: seen.append(g.shape))
    e(gg.tensor([2, 2])).sum().backward()
    assert seen == [(8, 3)]  # (PyTorch's hook gets the sparse one)
    assert e.weight.grad.is_sparse  # a hook that only looks leaves it sparse, as PyTorch's
    e.weight.register_hook(lambda g: g * 2)  # one that changes it: the dense result
    e(gg.tensor([2])).sum().backward()
    assert not e.weight.grad.is_sparse and e.weight.grad.numpy()[2].tolist() == [4.0, 4.0, 4.0]
    w = gg.tensor(TABLE, requires_grad=True)
    gg.nn.functional.embedding(gg.tensor([1, 1]), w * 2, sparse=True).sum().backward()
    assert w.grad.numpy()[1].tolist() == [4.0, 4.0, 4.0] and w.grad.numpy().sum() == 12.0


def test_embedding_bag_sparse_matches_torch(torch):
    for mode, psw in (("mean", None), ("sum", [0.5, 2.0, 1.0, -1.0, 3.0, 0.25])):
        grads = []
        for lib in (gg, torch):
            e = lib.nn.EmbeddingBag(8, 3, mode=mode, sparse=True, padding_idx=0)
            with lib.no_grad():
                e.weight.copy_(lib.tensor(TABLE.astype(np.float32)))
            w = None if psw is None else lib.tensor(psw).reshape(2, 3)
            (e(lib.tensor(IDS), per_sample_weights=w) ** 2).sum().backward()
            grads.append(_grad(e))
        assert grads[0][0] == grads[1][0]
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        gg.nn.functional.embedding_bag(gg.tensor([[1, 2]]), gg.ones(4, 2), mode="max", sparse=True)


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("SparseAdam", {"lr": 0.1}),
    ("SparseAdam", {"lr": 0.05, "betas": (0.5, 0.7), "eps": 1e-3, "maximize": True}),
]


def _train(lib, name, kw, steps=4):
    e = _emb(lib, padding_idx=0)
    opt = getattr(lib.optim, name)(e.parameters(), **kw)
    for i in range(steps):
        opt.zero_grad(set_to_none=i % 2 == 0)  # both ways: a sparse .grad zeroed in place too
        (e(lib.tensor([[1, 2, 1], [0, 3, i + 1]])) ** 2).sum().backward()
        opt.step()
    return e.weight.detach().numpy()


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")  # (PyTorch's Adagrad)
@pytest.mark.parametrize(("name", "kw"), OPTIMIZERS)
def test_optimizers_step_on_sparse_gradients_as_torch(torch, name, kw):
    np.testing.assert_allclose(_train(gg, name, kw), _train(torch, name, kw), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize(
    ("name", "kw", "message"),
    [
        ("Adam", {}, "Adam does not support sparse gradients, please consider SparseAdam instead"),
        ("AdamW", {}, "Adam does not support sparse gradients, please consider SparseAdam instead"),
        ("RMSprop", {}, "RMSprop does not support sparse gradients"),
        ("SGD", {"lr": 0.1, "weight_decay": 0.1}, r"add\(sparse, dense\) is not supported"),
        ("Adagrad", {"weight_decay": 0.1}, "weight_decay option is not compatible with sparse gradients"),
    ],
)
def test_optimizers_refuse_sparse_gradients_as_torch(torch, name, kw, message):
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match=message):
            _train(lib, name, kw, steps=1)


def test_sparse_adam_updates_only_rows_looked_up():
    """One step by hand: m = (1 - b1) g, v = (1 - b2) g^2, so the step is lr * g / (|g| + eps')."""
    e = _emb(gg)
    opt = gg.optim.SparseAdam(e.parameters(), lr=0.1, betas=(0.8, 0.9), eps=1e-8)
    e(gg.tensor([2, 5, 2])).sum().backward()  # row 2 twice: gradient 2, row 5: 1
    opt.step()
    w = e.weight.detach().numpy()
    changed = np.flatnonzero((w != TABLE.astype(np.float32)).any(axis=1))
    assert changed.tolist() == [2, 5]
    np.testing.assert_allclose(w[[2, 5]], TABLE[[2, 5]] - 0.1, rtol=1e-6)
    state = opt.state[e.weight]
    assert state["step"] == 1 and isinstance(state["step"], int)
    m = state["exp_avg"].numpy()
    assert m[[2, 5], 0].tolist() == pytest.approx([0.4, 0.2]) and not m[[0, 1, 3, 4, 6, 7]].any()
    again = gg.optim.SparseAdam(e.parameters())
    again.load_state_dict(opt.state_dict())
    again.step()  # the same gradient: its step count goes on as a Python int
    assert again.state[e.weight]["step"] == 2 and isinstance(again.state[e.weight]["step"], int)


def test_sparse_adam_refuses_dense_gradients_and_sparse_params():
    w = gg.nn.Parameter(gg.ones(3))
    w.grad = gg.ones(3)
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        gg.optim.SparseAdam([w]).step()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        gg.optim.SparseAdam([w], lr=0)
    s = gg.sparse_coo_tensor([[0]], [1.0], (2,))
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 0\]\]"):
        gg.optim.SparseAdam([s])


def test_sparse_grad_accumulates_in_place_and_observing_hooks_keep_it_sparse(torch):
    for lib in (gg, torch):
        e = _emb(lib)
        e.weight.register_hook(lambda g: None)  # only looks: SparseAdam still gets a sparse .grad
        opt = lib.optim.SparseAdam(e.parameters(), lr=0.1)
        e(lib.tensor([3])).sum().backward()
        held = e.weight.grad
        assert held.is_coalesced()  # one entry: coalesced, as PyTorch's
        e(lib.tensor([1])).sum().backward()
        assert e.weight.grad is held and held._indices().tolist() == [[3, 1]]  # summed in place
        assert not held.is_coalesced() and held.data._indices().tolist() == [[3, 1]]  # .data works
        opt.step()
        opt.zero_grad(set_to_none=False)  # emptied in place
        assert e.weight.grad is held and held._nnz() == 0


def test_sparse_adam_steps_on_a_gradient_with_two_sparse_dims(torch):
    got = []
    for lib in (gg, torch):
        w = lib.nn.Parameter(lib.zeros(3, 3))
        w.grad = lib.sparse_coo_tensor(lib.tensor([[1, 2], [0, 2]]), lib.tensor([1.0, -2.0]), (3, 3))
        lib.optim.SparseAdam([w], lr=0.1).step()
        got.append(w.detach().numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)


def test_grad_scaler_unscales_a_sparse_gradient_as_torch(torch):
    got = []
    for lib in (gg, torch):
        e = _emb(lib)
        opt, scaler = lib.optim.SGD(e.parameters(), lr=0.1), lib.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale(e(lib.tensor(IDS)).sum()).backward()
        scaler.unscale_(opt)  # the sparse .grad's values, in place
        assert e.weight.grad.is_sparse
        scaler.step(opt)
        scaler.update()
        got.append(e.weight.detach().numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)


def test_accumulate_grad_pre_hooks_get_a_usable_gradient(torch):
    for lib in (gg, torch):
        e, seen = _emb(lib), []
        acc = e.weight.view_as(e.weight).grad_fn.next_functions[0][0]  # the weight's AccumulateGrad
        acc.register_prehook(lambda gs: (gs[0] * 2,))
        acc.register_hook(lambda gi, go: seen.append(go[0].to_dense().sum().item()))
        e(lib.tensor([1, 2])).sum().backward()
        assert e.weight.grad.to_dense()[[1, 2]].tolist() == [[2.0] * 3] * 2 and seen == [12.0]


def test_gradient_monitor_records_a_sparse_gradient():
    from glassgrad.explain import GradientMonitor

    e = _emb(gg)
    monitor = GradientMonitor(e)
    e(gg.tensor([1, 1])).sum().backward()  # row 1 twice: its dense gradient is 2, norm 2 sqrt(3)
    monitor.record()
    assert monitor.param_norms[0]["weight"] == pytest.approx(2 * 3**0.5)
