"""Round 36, skorch (skorch-dev/skorch): a fitted net is pickled and deep-copied with its optimizer
and LR scheduler, its history kept through a ``torch.distributed`` store, its inputs moved with
``PackedSequence.to``, its empty sparse inputs made by ``sparse_coo_tensor(size=...)``, and its
TensorBoard callback skips values ``add_scalar`` refuses with ``NotImplementedError``."""

import copy
import datetime
import pickle
import tempfile
import threading

import numpy as np
import pytest

import glassgrad
import glassgrad.distributed as gdist


def _net(lib, opt_name, sched=True):
    lib.manual_seed(0)
    rs = np.random.RandomState(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rs.randn(*p.shape)))
    kw = {"lr": 0.1, "momentum": 0.9} if opt_name == "SGD" else {"lr": 0.05}
    opt = getattr(lib.optim, opt_name)(model.parameters(), **kw)
    scheduler = lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5) if sched else None
    return model, opt, scheduler


def _train(lib, model, opt, scheduler, steps, seed):
    rs = np.random.RandomState(seed)
    losses = []
    for _ in range(steps):
        x, y = lib.tensor(rs.randn(6, 4)), lib.tensor(rs.randn(6, 2))
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_optimizer_with_scheduler_pickles_and_copies_as_torch(torch, opt_name, how):
    """skorch's ``__getstate__`` pickles the optimizer that a scheduler has wrapped (its instance
    ``step``): the wrapper stays behind, as in PyTorch; training the copy goes on as PyTorch's."""
    results = []
    for lib in (glassgrad, torch):
        model, opt, sched = _net(lib, opt_name)
        _train(lib, model, opt, sched, 2, seed=1)
        bundle = {"model": model, "opt": opt, "sched": sched}
        clone = pickle.loads(pickle.dumps(bundle)) if how == "pickle" else copy.deepcopy(bundle)
        before = _params(model)
        keys = sorted(clone["opt"].__dict__)
        losses = _train(lib, clone["model"], clone["opt"], clone["sched"], 3, seed=2)
        untouched = all(np.array_equal(a, b) for a, b in zip(before, _params(model)))
        results.append((keys, losses, _params(clone["model"]), untouched, clone["sched"].get_last_lr()))
    (gk, gl, gp, gu, glr), (tk, tl, tp, tu, tlr) = results
    assert [k for k in gk if not k.startswith("_")] == [k for k in tk if not k.startswith("_")]
    assert "step" not in gk and "step" not in tk
    assert gu and tu  # stepping the copy leaves the original's parameters alone
    np.testing.assert_allclose(gl, tl, rtol=1e-12, atol=1e-14)
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert glr == pytest.approx(tlr, rel=1e-15)


def test_deepcopied_optimizer_steps_its_own_parameters():
    """Before, the copy kept the scheduler's wrapper, which stepped the *original* optimizer."""
    model, opt, _ = _net(glassgrad, "SGD")
    clone = copy.deepcopy({"model": model, "opt": opt})
    w0 = model[0].weight.detach().clone()
    cw = clone["model"][0].weight
    cw.grad = glassgrad.ones_like(cw)
    clone["opt"].step()
    assert bool((model[0].weight == w0).all())
    np.testing.assert_allclose(cw.detach().numpy(), w0.numpy() - 0.1, rtol=1e-15)


def test_optimizer_getstate_keeps_pytorchs_three_entries(torch):
    for lib in (glassgrad, torch):
        _, opt, _ = _net(lib, "Adam")
        opt.register_step_pre_hook(lambda *a: None)
        assert sorted(opt.__getstate__()) == ["defaults", "param_groups", "state"]
        back = pickle.loads(pickle.dumps(opt))
        assert back.param_groups[0]["lr"] == 0.05 and len(back.state) == 0


def test_unpickled_lbfgs_still_steps(torch):
    """LBFGS keeps ``_params`` outside the pickled state; an unpickled one rebuilds it (PyTorch's
    fails at its first step), and continues as an uncopied PyTorch LBFGS."""
    results = []
    for lib in (glassgrad, torch):
        model, _, _ = _net(lib, "SGD", sched=False)
        opt = lib.optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)
        if lib is glassgrad:
            bundle = pickle.loads(pickle.dumps({"model": model, "opt": opt}))
            model, opt = bundle["model"], bundle["opt"]
        x, y = lib.tensor(np.linspace(-1, 1, 24).reshape(6, 4)), lib.tensor(np.ones((6, 2)))

        def closure(model=model, opt=opt, x=x, y=y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss

        results.append((opt.step(closure).item(), _params(model)))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_zero_redundancy_optimizer_pickles():
    from glassgrad.distributed.optim import ZeroRedundancyOptimizer

    gdist.init_process_group("gloo", rank=0, world_size=1)
    try:
        p = glassgrad.nn.Parameter(glassgrad.ones(3))
        opt = ZeroRedundancyOptimizer([p], glassgrad.optim.SGD, lr=0.5)
        back = pickle.loads(pickle.dumps({"p": p, "opt": opt}))
        q = back["p"]
        q.grad = glassgrad.ones(3)
        back["opt"].step()
        assert back["opt"].param_groups is back["opt"].optim.param_groups
        np.testing.assert_allclose(q.detach().numpy(), [0.5] * 3)
        np.testing.assert_allclose(p.detach().numpy(), [1.0] * 3)
    finally:
        gdist.destroy_process_group()


# ------------------------------------------------------------------ sparse_coo_tensor(size)
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {"size": (5, 3)}),
        (((2, 3),), {}),
        (([4],), {"dtype": "float64"}),
        ((), {"size": (2, 2), "requires_grad": True}),
    ],
)
def test_sparse_coo_tensor_of_a_size_alone_is_empty_as_torch(torch, args, kwargs):
    out = []
    for lib in (glassgrad, torch):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        s = lib.sparse_coo_tensor(*args, **kw)
        out.append(
            (
                tuple(s.shape),
                s._nnz(),
                str(s.dtype).split(".")[-1],
                s.sparse_dim(),
                s.dense_dim(),
                s.requires_grad,
                s.is_sparse,
                s.to_dense().detach().numpy(),
            )
        )
    g, t = out
    assert g[:-1] == t[:-1]
    np.testing.assert_array_equal(g[-1], t[-1])


def test_sparse_coo_tensor_without_indices_values_or_size_is_a_type_error(torch):
    with pytest.raises(TypeError):
        torch.sparse_coo_tensor()
    with pytest.raises(TypeError, match=r"sparse_coo_tensor: expected \(indices, values\).*got nothing"):
        glassgrad.sparse_coo_tensor()
    with pytest.raises(TypeError, match="a size .* alone, got indices="):
        glassgrad.sparse_coo_tensor(glassgrad.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"non-negative ints, got \(2, -1\)"):
        glassgrad.sparse_coo_tensor((2, -1))


# ------------------------------------------------------------------ PackedSequence methods
def _packed(lib):
    x = lib.arange(12.0).reshape(3, 2, 2)
    return lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor([1, 3]), enforce_sorted=False)


@pytest.mark.parametrize("method", ["double", "float", "half", "long", "int", "short", "char", "byte", "cpu"])
def test_packed_sequence_casts_and_moves_as_torch(torch, method):
    res = []
    for lib in (glassgrad, torch):
        ps = _packed(lib)
        out = getattr(ps, method)()
        res.append(
            (
                type(out).__name__,
                str(out.data.dtype).split(".")[-1],
                str(out.sorted_indices.dtype).split(".")[-1],
                out.unsorted_indices.tolist(),
                out.batch_sizes.tolist(),
                out.data.tolist(),
                out is ps,
            )
        )
    assert res[0] == res[1]


def test_packed_sequence_to_returns_itself_when_nothing_changes(torch):
    for lib in (glassgrad, torch):
        ps = _packed(lib)
        assert ps.to("cpu") is ps and ps.to(lib.float32) is ps and ps.cpu() is ps
        moved = ps.to(dtype=lib.float64, non_blocking=True)
        assert moved.data.dtype == lib.float64 and moved.sorted_indices.dtype == lib.int64
        assert not ps.is_cuda and not ps.is_pinned()
        out, lengths = lib.nn.utils.rnn.pad_packed_sequence(moved)
        assert out.dtype == lib.float64 and lengths.tolist() == [1, 3]


def test_packed_sequence_from_a_data_batch_sizes_pair(torch):
    for lib in (glassgrad, torch):
        ps = _packed(lib)
        q = lib.nn.utils.rnn.PackedSequence((ps.data, ps.batch_sizes))
        assert q.batch_sizes.tolist() == [2, 1, 1] and q.sorted_indices is None
    with pytest.raises(TypeError, match=r"PackedSequence: expected data and batch_sizes.*got Tensor alone"):
        glassgrad.nn.utils.rnn.PackedSequence(glassgrad.ones(3))


# ------------------------------------------------------------------ TensorBoard refusals
def test_summary_writer_refuses_lists_with_not_implemented_error_as_torch(torch):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from glassgrad.utils.tensorboard import SummaryWriter

    def outcome(writer, call, value):
        try:
            getattr(writer, call)("tag", value, 0)
        except Exception as e:  # the exception class is what is compared
            return (
                type(e).__name__
                if isinstance(e, NotImplementedError)
                else "ValueError" * isinstance(e, ValueError)
            )
        return "ok"

    values = [
        ["invalid", "type"],
        [1.0],
        (2.0,),
        None,
        {"a": 1},
        "abc",
        "1.5",
        3,
        np.float32(2.0),
        np.array([1.0]),
    ]
    for call in ("add_scalar", "add_histogram"):
        with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
            g, t = SummaryWriter(d1), TorchWriter(d2)
            got = [outcome(g, call, v) for v in values]
            want = [outcome(t, call, v) for v in values]
            g.close()
            t.close()
        assert got == want, call
    with (
        tempfile.TemporaryDirectory() as d,
        pytest.raises(
            NotImplementedError,
            match="add_scalar: expected a Tensor, a NumPy array or a Python number, got list",
        ),
    ):
        SummaryWriter(d).add_scalar("x", [1.0], 0)


# ------------------------------------------------------------------ stores
def _store_script(d, store):
    """The operations skorch's DistributedHistory and a launcher use, with what each returns."""
    out = [store.num_keys()]
    store.set("a", "x")
    store.set("b", b"\x00\xff")
    out += [store.get("a"), store.get("b"), store.add("c", 3), store.add("c", 2), store.get("c")]
    out += [store.compare_set("a", "x", "y"), store.compare_set("a", "zz", "w"), store.get("a")]
    out += [store.compare_set("new", "", "v"), store.compare_set("new2", "q", "v"), store.check(["new2"])]
    out += [store.check(["a", "b"]), store.check(["a", "nope"])]
    store.wait(["a", "b"])
    try:
        store.wait(["nope"], datetime.timedelta(milliseconds=20))
    except d.DistStoreError as e:
        out.append((type(e).__name__, isinstance(e, RuntimeError), "timeout" in str(e).lower()))
    store.append("ap", "1")
    store.append("ap", b"2")
    store.multi_set(["m1", "m2"], ["1", b"2"])
    out += [store.get("ap"), store.multi_get(["ap", "m2"]), store.delete_key("a"), store.delete_key("a")]
    out += [store.num_keys(), store.has_extended_api()]
    for bad in (lambda: store.set("k", 5), lambda: store.add("k", 1.5), lambda: pickle.dumps(store)):
        with pytest.raises(TypeError):
            bad()
    return out


def test_hash_and_prefix_stores_behave_as_torch(torch):
    import torch.distributed as tdist

    assert _store_script(gdist, gdist.HashStore()) == _store_script(tdist, tdist.HashStore())
    g_under, t_under = gdist.HashStore(), tdist.HashStore()
    g, t = gdist.PrefixStore("pre", g_under), tdist.PrefixStore("pre", t_under)
    assert _store_script(gdist, g) == _store_script(tdist, t)
    assert g.underlying_store is g_under and g_under.get("pre/b") == t_under.get("pre/b") == b"\x00\xff"


def test_tcp_store_behaves_as_torchs_for_one_process(torch):
    import torch.distributed as tdist

    timeout = datetime.timedelta(seconds=5)
    t = tdist.TCPStore("127.0.0.1", 0, world_size=1, is_master=True, timeout=timeout)
    g = gdist.TCPStore("127.0.0.1", 0, world_size=1, is_master=True, timeout=timeout)
    assert _store_script(gdist, g) == _store_script(tdist, t)
    assert (g.host, g.timeout) == (t.host, t.timeout) == ("127.0.0.1", timeout)
    client = gdist.TCPStore("127.0.0.1", 0, world_size=1, is_master=False)
    assert client.get("b") == b"\x00\xff" and client.num_keys() == g.num_keys()


def test_tcp_store_waits_for_a_key_another_thread_sets():
    store = gdist.TCPStore("localhost", 29731, world_size=1, is_master=True)
    timer = threading.Timer(0.05, store.set, ("late", "1"))
    timer.start()
    assert store.get("late") == b"1"
    timer.join()


def test_stores_refuse_what_one_process_cannot_be():
    with pytest.raises(
        NotImplementedError, match="TCPStore: glassgrad runs in one process; expected world_size 1"
    ):
        gdist.TCPStore("127.0.0.1", 29732, world_size=2, is_master=True)
    with pytest.raises(gdist.DistNetworkError, match="no master store at 127.0.0.1:29733"):
        gdist.TCPStore("127.0.0.1", 29733, world_size=1, is_master=False)
    with pytest.raises(TypeError, match="PrefixStore: expected a Store, got dict"):
        gdist.PrefixStore("p", {})
    with pytest.raises(gdist.DistStoreError, match="the value at 'x' is not an integer"):
        store = gdist.HashStore()
        store.set("x", "abc")
        store.add("x", 1)
    with tempfile.TemporaryDirectory() as d:
        f1, f2 = gdist.FileStore(f"{d}/store", 1), gdist.FileStore(f"{d}/store", 1)
        f1.set("k", "v")
        assert f2.get("k") == b"v" and f1.num_keys() == 2  # PyTorch's count: one bookkeeping key


# ------------------------------------------------------------------ names pytorch-ignite imports
def test_backend_names_and_availability_as_torchs_cpu_build(torch):
    import torch.distributed as tdist

    for name in ("GLOO", "gloo", "Nccl", "MPI", "cpu:gloo,cuda:nccl", "custom"):
        assert gdist.Backend(name) == tdist.Backend(name)
        assert type(gdist.Backend(name)) is type(tdist.Backend(name)) is str
    assert (gdist.Backend.NCCL, gdist.Backend.GLOO, gdist.Backend.MPI) == ("nccl", "gloo", "mpi")
    assert gdist.Backend.backend_list == tdist.Backend.backend_list
    # PyTorch's own map gains entries as backends register (another test's "fake" for hpu)
    assert (
        gdist.Backend.default_device_backend_map.items() <= tdist.Backend.default_device_backend_map.items()
    )
    for name in ("gloo", "nccl", "mpi", "ucc", "xccl"):
        fn = f"is_{name}_available"
        assert getattr(gdist, fn)() == getattr(tdist, fn)(), fn
    assert gdist.is_backend_available("gloo") and not gdist.is_backend_available("nccl")
    with pytest.raises(ValueError, match="Backend: expected a backend name as a str, got int"):
        gdist.Backend(3)


def test_torch_types_aliases(torch):
    import torch.types as ttypes

    assert glassgrad.types is __import__("glassgrad.types").types  # there after `import glassgrad`
    assert glassgrad.types.__all__ == ttypes.__all__
    for value in (3, 2.5, True, "a", None, glassgrad.ones(1)):
        assert isinstance(value, glassgrad.types.Number) == isinstance(value, ttypes.Number)
    assert isinstance("cpu", glassgrad.types.Device) and isinstance(
        glassgrad.device("cpu"), glassgrad.types.Device
    )
