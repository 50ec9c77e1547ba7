"""``.grad`` accumulated and zeroed in place, as PyTorch's AccumulateGrad (round 58's trust fix).

A first-order backward adds into an existing ``.grad`` in place (same Tensor, same memory, its
version bumped) and ``zero_grad(set_to_none=False)`` zeroes it in place, so a ``.grad`` that is a
view into one flat buffer (apex/Megatron/DeepSpeed-style ``p.grad = flat[a:b].view_as(p)``) keeps
the buffer the gradient, and a ``g = p.grad`` held across a second backward sees the sum. glassgrad
replaced the array: the buffer stayed zeros while ``.grad`` moved on. Under ``create_graph=True``
the sum is a new Tensor, as PyTorch's.

Each ``script_*`` runs on glassgrad and on PyTorch, written the way PyTorch code writes it, from
the same NumPy draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

RNG = np.random.default_rng(58)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal(5)
X = RNG.standard_normal((6, 3))
W1, B1, W2, B2 = (RNG.standard_normal(s) for s in [(4, 3), (4,), (1, 4), (1,)])


def _close(ours, theirs, dtype):
    rtol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(
        np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=rtol, atol=rtol
    )


def _compare(script, torch, dtype="float64"):
    ours, theirs = script(glassgrad, dtype), script(torch, dtype)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        if isinstance(t, bool | int | tuple | str):
            assert o == t
        else:
            _close(o, t, dtype)


def script_flat_buffer_training(lib, dtype):
    """A two-parameter model whose grads view one flat buffer: two backwards accumulate into it,
    the optimizer zeroes it, clip_grad_norm_ scales it; the buffer is the gradient throughout."""
    w = lib.tensor(A.astype(dtype), requires_grad=True)
    b = lib.tensor(B.astype(dtype), requires_grad=True)
    flat = lib.zeros(17, dtype=getattr(lib, dtype))
    w.grad, b.grad = flat[:12].view_as(w), flat[12:].view_as(b)
    out = []
    for _ in range(2):
        ((w**2).sum() + (b * b.tanh()).sum()).backward()
        out.append(flat.numpy().copy())
    opt = lib.optim.SGD([w, b], lr=0.1)
    opt.zero_grad(set_to_none=False)
    out.append(flat.numpy().copy())
    (w.sin().sum() * 3 + b.sum()).backward()
    lib.nn.utils.clip_grad_norm_([w, b], 0.5)
    out.append(flat.numpy().copy())
    opt.step()
    out += [w.detach().numpy().copy(), b.detach().numpy().copy()]
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grads_viewing_a_flat_buffer_keep_it_the_gradient(torch, dtype):
    _compare(script_flat_buffer_training, torch, dtype)


def script_transposed_view(lib, dtype):
    """A .grad that is a transposed (non-contiguous) view of a buffer is added into where it lies,
    keeping its strides (PyTorch warns about the layout contract, and does it)."""
    w = lib.tensor(A, requires_grad=True)
    buf = lib.zeros(4, 3, dtype=lib.float64)
    w.grad = buf.t()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "do not obey the gradient layout contract"
        w.sin().sum().backward()
        (w.cos() * w).sum().backward()
    return [buf.numpy().copy(), tuple(w.grad.stride()), w.grad.is_contiguous()]


def test_a_transposed_grad_view_is_written_where_it_lies(torch):
    _compare(script_transposed_view, torch)


def script_held_grad(lib, dtype):
    """``g = p.grad`` held across a second backward: the same object and memory, its version up
    by one, and the sum in it (a post-accumulate hook sees the same memory each time)."""
    w = lib.tensor(A, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append((p.grad.numpy().copy(), p.grad.data_ptr())))
    (w * 2).sum().backward()
    g = w.grad
    ptr, version = g.data_ptr(), g._version
    (w.exp() * 3).sum().backward()
    return [
        g is w.grad,
        g.data_ptr() == ptr,
        g._version - version,
        g.numpy().copy(),
        seen[0][0],
        seen[1][0],
        seen[0][1] == seen[1][1],
    ]


def test_a_held_grad_sees_the_second_backward_in_place(torch):
    _compare(script_held_grad, torch)


def script_zero_grad_keeps_the_tensor(lib, dtype, how="optimizer"):
    m = lib.nn.Linear(3, 4).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W1))
        m.bias.copy_(lib.tensor(B1))
    x = lib.tensor(X)
    m(x).pow(2).sum().backward()
    g = m.weight.grad
    version = g._version
    if how == "optimizer":
        lib.optim.Adam(m.parameters(), lr=0.1).zero_grad(set_to_none=False)
    else:
        m.zero_grad(set_to_none=False)
    out = [g is m.weight.grad, g._version - version, g.numpy().copy()]
    m(x).tanh().sum().backward()
    return [*out, g is m.weight.grad, g.numpy().copy()]


@pytest.mark.parametrize("how", ["optimizer", "module"])
def test_zero_grad_without_none_zeroes_the_same_tensor(torch, how):
    ours = script_zero_grad_keeps_the_tensor(glassgrad, "float64", how)
    theirs = script_zero_grad_keeps_the_tensor(torch, "float64", how)
    assert ours[:2] == theirs[:2] and ours[3] == theirs[3]
    _close(ours[2], theirs[2], "float64")
    _close(ours[4], theirs[4], "float64")


def script_expanded_grad_zeroed(lib, dtype):
    """zero_grad(set_to_none=False) of an expanded .grad zeroes its one shared number, as zero_()."""
    w = lib.tensor(A, requires_grad=True)
    base = lib.ones(1, 1, dtype=lib.float64)
    w.grad = base.expand(3, 4)
    lib.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    return [base.numpy().copy(), w.grad.numpy().copy()]


def test_an_expanded_grad_is_zeroed_through_its_memory(torch):
    _compare(script_expanded_grad_zeroed, torch)


def script_create_graph_sums_out_of_place(lib, dtype):
    """create_graph=True: the sum is a new Tensor (the old one keeps its value); a first-order
    backward after it adds in place again."""
    w = lib.tensor(B, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's reference-cycle warning
        (w**2).sum().backward(create_graph=True)
        g = w.grad
        (w**3).sum().backward(create_graph=True)
    h = w.grad
    (w.sin()).sum().backward()
    return [g is w.grad, h is w.grad, g.detach().numpy().copy(), h.detach().numpy().copy()]


def test_create_graph_accumulates_into_a_new_tensor(torch):
    _compare(script_create_graph_sums_out_of_place, torch)


TABLE = RNG.standard_normal((6, 3))


def _sparse_run(lib):
    """Embedding(sparse=True): a dense gradient into a sparse .grad makes a new dense one; a
    sparse gradient into that dense .grad is added in place."""
    e = lib.nn.Embedding(6, 3, sparse=True).double()
    with lib.no_grad():
        e.weight.copy_(lib.tensor(TABLE))
    idx = lib.tensor([1, 3, 1])
    e(idx).sum().backward()
    sparse = e.weight.grad
    (e.weight**2).sum().backward()
    dense = e.weight.grad
    ptr = dense.data_ptr()
    e(idx).pow(2).sum().backward()
    return [
        sparse is dense,
        dense.is_sparse,
        dense is e.weight.grad,
        dense.data_ptr() == ptr,
        dense.numpy().copy(),
    ]


def test_a_sparse_gradient_adds_into_a_dense_grad_in_place(torch):
    ours, theirs = _sparse_run(glassgrad), _sparse_run(torch)
    assert ours[:4] == theirs[:4]
    _close(ours[4], theirs[4], "float64")


def script_nothing_else_changes(lib, dtype):
    """The first backward's gradient must not be an array someone else holds, now that the next
    one adds into it: the caller's seed, a gradient a tensor hook kept, a custom Function's saved
    tensor it returned as the gradient all keep their values."""

    class GivesSaved(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, c):
            ctx.save_for_backward(c)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return ctx.saved_tensors[0], None

    seed = lib.tensor(np.arange(5.0))
    const = lib.tensor(np.arange(5.0) - 2)
    a, b, c = (lib.tensor(B, requires_grad=True) for _ in range(3))
    kept = []
    for _ in range(2):
        (a + 0).backward(seed)
        y = b + 0
        y.register_hook(kept.append)
        (y * 2).sum().backward()
        GivesSaved.apply(c, const).sum().backward()
    return [seed.numpy().copy(), kept[0].numpy().copy(), const.numpy().copy(), a.grad.numpy().copy(),
            b.grad.numpy().copy(), c.grad.numpy().copy()]  # fmt: skip


def test_arrays_others_hold_are_not_accumulated_into(torch):
    _compare(script_nothing_else_changes, torch)


def script_flat_optimizer(lib, dtype):
    """A parameters_to_vector-style flat-gradient program: every .grad a slice of one buffer, the
    buffer scaled (a hand-made all-reduce average) between backward and step; three steps."""
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)).to(getattr(lib, dtype))
    m.load_state_dict({k: lib.tensor(v.astype(dtype)) for k, v in zip(m.state_dict(), (W1, B1, W2, B2))})
    n = sum(p.numel() for p in m.parameters())
    flat = lib.zeros(n, dtype=getattr(lib, dtype))
    i = 0
    for p in m.parameters():
        p.grad = flat[i : i + p.numel()].view_as(p)
        i += p.numel()
    opt = lib.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    x = lib.tensor(X.astype(dtype))
    out = []
    for _ in range(3):
        opt.zero_grad(set_to_none=False)
        for half in (x[:3], x[3:]):  # two micro-batches accumulate
            m(half).pow(2).mean().backward()
        with lib.no_grad():
            flat.div_(2)
        out.append(flat.numpy().copy())
        opt.step()
    out.append(lib.nn.utils.parameters_to_vector(m.parameters()).detach().numpy().copy())
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_flat_gradient_buffer_trains_as_in_pytorch(torch, dtype):
    _compare(script_flat_optimizer, torch, dtype)


def test_float16_accumulation_past_its_range_is_quiet_and_in_place(torch):
    for lib in (glassgrad, torch):
        w = lib.ones(3, dtype=lib.float16, requires_grad=True)
        (w * 60000).sum().backward()
        g = w.grad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (w * 60000).sum().backward()
        assert g is w.grad and bool(lib.isinf(g).all())


def test_a_read_only_grad_gets_a_new_array():
    """glassgrad only: a .grad over a read-only NumPy array cannot take the sum in place (PyTorch
    writes into such memory after from_numpy's warning); it gets a new array, still the right sum,
    and zero_grad(set_to_none=False) gives it new zeros."""
    frozen = np.zeros((3, 4))
    frozen.flags.writeable = False
    w = glassgrad.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # from_numpy's read-only warning
        w.grad = glassgrad.from_numpy(frozen)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 2.0))
    assert not frozen.any()
    w.grad = glassgrad.from_numpy(frozen)
    glassgrad.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((3, 4)))
