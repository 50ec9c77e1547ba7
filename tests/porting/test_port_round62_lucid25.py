"""Round 62, lucidrains programs (native-sparse-attention, hyper-connections, mmdit, e2-tts, titans).

All five ran unchanged at float64 parity. Probing titans' per-head memory parameters (einops
``repeat`` of a parameter: an expand view, whose places share memory) turned up a class of in-place
writes PyTorch still lets through such views, after a deprecation warning, where glassgrad raised:
``masked_fill_``, ``index_fill_`` and ``x[mask] = v`` / ``x[idx] = v`` (PyTorch's index_put_) write
the shared element wherever a place is selected. Every other in-place op stays refused, as PyTorch
refuses it. Also pinned: the two patterns of these programs that rest on less common paths (titans'
per-sample gradients through ``torch.func``, x-transformers' float32 softmax of float64 scores).
Written fresh here after those programs' patterns.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 62

MASKS = {
    "per_row": [[True, False, False], [False, False, True]],
    "same_rows": [[True, False, True], [True, False, True]],
    "one_row": [[False, True, False], [False, False, False]],
}


def _expanded(lib, values, dtype="float64"):
    """(base, view): a (3,) tensor and its (2, 3) expand view, whose rows share the base's memory."""
    base = lib.tensor(values, dtype=getattr(lib, dtype))
    return base, base.expand(2, 3)


def _run(fn):
    """fn() with its warnings recorded: (result, [(category, message)])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [(w.category, str(w.message)) for w in caught]


def _assert_same_warning(got, want, op):
    assert [c for c, _ in got] == [c for c, _ in want] == [UserWarning]
    # PyTorch appends where it was triggered in its sources; the words before are the same
    assert want[0][1].startswith(got[0][1])
    assert got[0][1].startswith(f"Use of {op} on expanded tensors is deprecated.")


# ---- masked_fill_ / index_fill_ through expand's shared memory ----------------------------------


@pytest.mark.parametrize("mask", list(MASKS.values()), ids=list(MASKS))
@pytest.mark.parametrize("value", ["number", "tensor"])
def test_masked_fill_on_expanded_writes_shared_memory_as_torch(torch, mask, value):
    results = []
    for lib in (torch, gg):
        base, view = _expanded(lib, [0.5, float("nan"), 2.0])
        v = -3.0 if value == "number" else lib.tensor(-3.0, dtype=lib.float64)
        out, caught = _run(lambda: view.masked_fill_(lib.tensor(mask), v))
        assert out is view
        results.append((view.numpy().copy(), base.numpy().copy(), caught))
    (tv, tb, tw), (gv, gb, gw) = results
    np.testing.assert_array_equal(gv, tv)  # (NaN where a NaN place was left alone)
    np.testing.assert_array_equal(gb, tb)
    _assert_same_warning(gw, tw, "masked_fill_")


def test_masked_fill_on_expanded_int_tensor_bumps_version_as_torch(torch):
    results = []
    for lib in (torch, gg):
        base, view = _expanded(lib, [0, 0, 0], "int64")
        _run(lambda: view.masked_fill_(lib.tensor([[False, True, False], [False, False, True]]), 7))
        results.append((base.tolist(), view.tolist(), base._version, view.dtype == lib.int64))
    assert results[1] == results[0]


def test_index_fill_on_expanded_writes_shared_memory_as_torch(torch):
    results = []
    for lib in (torch, gg):
        base, view = _expanded(lib, [1.0, 2.0, 3.0])
        _, caught = _run(lambda: view.index_fill_(1, lib.tensor([0, 2]), 9.0))
        results.append((view.tolist(), base.tolist(), caught))
    assert results[1][:2] == results[0][:2]
    _assert_same_warning(results[1][2], results[0][2], "index_fill_")


# ---- x[mask] = v and x[idx] = v: PyTorch's index_put_ ------------------------------------------


@pytest.mark.parametrize("key", ["bool_mask", "index_tensors", "row_mask"])
def test_advanced_setitem_on_expanded_writes_shared_memory_as_torch(torch, key):
    results = []
    for lib in (torch, gg):
        base, view = _expanded(lib, [1.0, 2.0, 3.0])
        k = {
            "bool_mask": lib.tensor([[True, False, False], [False, False, True]]),
            "index_tensors": (lib.tensor([0, 1]), lib.tensor([1, 1])),
            "row_mask": lib.tensor([False, True]),
        }[key]

        def write(view=view, k=k):
            view[k] = 4.0

        _, caught = _run(write)
        results.append((view.tolist(), base.tolist(), [c for c, m in caught if "index_put_" in m]))
    assert results[1][:2] == results[0][:2]
    assert results[1][2] == results[0][2] == [UserWarning]


def test_basic_setitem_on_expanded_unchanged(torch):
    # a basic key that reaches one element per place is written without a warning, as before
    results = []
    for lib in (torch, gg):
        base, view = _expanded(lib, [1.0, 2.0, 3.0])
        _, caught = _run(lambda: view.__setitem__((0, 1), 8.0))
        results.append((view.tolist(), base.tolist(), caught))
    assert results[1] == results[0]


# ---- what stays refused: PyTorch refuses it too -------------------------------------------------

REFUSED = {
    "add_": lambda lib, t: t.add_(1.0),
    "copy_": lambda lib, t: t.copy_(lib.ones(2, 3, dtype=lib.float64)),
    "scatter_": lambda lib, t: t.scatter_(1, lib.tensor([[0], [2]]), 5.0),
    "masked_scatter_": lambda lib, t: t.masked_scatter_(
        lib.tensor([[True, False, False], [False, False, True]]), lib.tensor([7.0, 8.0], dtype=lib.float64)
    ),
    "slice_setitem": lambda lib, t: t.__setitem__(
        (slice(None), 1), lib.tensor([8.0, 9.0], dtype=lib.float64)
    ),
}


@pytest.mark.parametrize("op", list(REFUSED))
def test_other_writes_into_expanded_still_refused(torch, op):
    for lib in (torch, gg):
        base, view = _expanded(lib, [1.0, 2.0, 3.0])
        with pytest.raises(RuntimeError):
            REFUSED[op](lib, view)
        assert base.tolist() == [1.0, 2.0, 3.0]


def test_index_put_accumulate_on_expanded_still_refused():
    # PyTorch adds both places' values into the shared element (0 + 1 + 2); glassgrad's write of the
    # out-of-place result would keep one of them, so it refuses rather than differ silently
    base, view = _expanded(gg, [0.0, 1.0, 2.0])
    with pytest.raises(RuntimeError, match="index_put_"):
        view.index_put_(
            (gg.tensor([0, 1]), gg.tensor([0, 0])), gg.tensor([1.0, 2.0], dtype=gg.float64), accumulate=True
        )
    assert base.tolist() == [0.0, 1.0, 2.0]


def test_masked_fill_on_read_only_numpy_memory_still_refused():
    a = np.zeros(3)
    a.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gg.from_numpy(a)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        t.masked_fill_(gg.tensor([True, False, False]), 1.0)
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_expanded_parameter_refuses_optimizer_step_as_torch(torch):
    # titans' per_head_learned_parameters: nn.Parameter(repeat(p, '... -> h ...')) is an expand view;
    # its gradient is full, and PyTorch's optimizers refuse to step it in place, as glassgrad does
    weights = np.arange(6.0).reshape(2, 3)
    grads = []
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.arange(3.0, dtype=lib.float64).expand(2, 3))
        (p * lib.tensor(weights)).sum().backward()
        grads.append(p.grad.numpy().copy())
        opt = lib.optim.SGD([p], lr=0.1)
        with pytest.raises(RuntimeError):
            opt.step()
    np.testing.assert_array_equal(grads[1], grads[0])


# ---- patterns of these programs on less common paths -------------------------------------------


def _mem_loss(lib, params, x, weights, target):
    """titans' store loss: a 2-layer memory MLP's weighted squared error, summed (and per place)."""
    h = x @ params["w0"]
    h = lib.nn.functional.gelu(h) @ params["w1"]
    loss = ((h - target) ** 2).mean(-1)
    return (loss * weights).sum(), loss


def test_titans_per_sample_grads_through_vmap_of_grad_as_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    w0, w1 = rng.standard_normal((4, 5)), rng.standard_normal((5, 4))
    x, target = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    weights = rng.random((3, 2))
    out = []
    for lib in (torch, gg):
        leaf = lib.tensor(w1, requires_grad=True)
        # the memory weights repeated per sample (expand views), the second one in the graph
        params = {"w0": lib.tensor(w0).expand(3, 4, 5), "w1": leaf.unsqueeze(0).expand(3, 5, 4)}
        fn = lib.func.vmap(lib.func.grad(lambda p, a, b, c: _mem_loss(lib, p, a, b, c), has_aux=True))
        g, aux = fn(params, lib.tensor(x), lib.tensor(weights), lib.tensor(target))
        (g["w0"].sum() + (g["w1"] ** 2).sum()).backward()  # through the inner gradient, as titans
        out.append(
            (g["w0"].detach().numpy(), g["w1"].detach().numpy(), aux.detach().numpy(), leaf.grad.numpy())
        )
    for a, b in zip(out[0], out[1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lib_dtype", ["float64", "float32"])
def test_xtransformers_float32_softmax_of_scores(torch, lib_dtype):
    # Attend's softmax_fn(sim, dtype=torch.float32): the scores are cast first, then softmaxed
    rng = np.random.default_rng(RNG_SEED)
    sim, g = rng.standard_normal((2, 3, 5)) * 4, rng.standard_normal((2, 3, 5))
    res = []
    for lib in (torch, gg):
        s = lib.tensor(sim, dtype=getattr(lib, lib_dtype), requires_grad=True)
        attn = lib.nn.functional.softmax(s, dim=-1, dtype=lib.float32)
        attn.to(s.dtype).backward(lib.tensor(g, dtype=s.dtype))
        res.append((attn.detach().numpy(), s.grad.numpy(), str(attn.dtype).split(".")[-1], str(s.grad.dtype)))
    assert res[1][2] == res[0][2] == "float32"
    assert res[1][3].split(".")[-1] == res[0][3].split(".")[-1] == lib_dtype
    # float32 rounding (PyTorch's kernel multiplies by the sum's reciprocal, its exp is its own)
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=4e-7, atol=1e-8)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=2e-6, atol=1e-7)
