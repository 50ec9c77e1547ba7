"""ops/movement.py, ops/joining.py and ops/padding.py: PyTorch parity (outputs and gradients),
edge cases and error messages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError
from glassgrad.ops import joining as J
from glassgrad.ops import movement as V
from glassgrad.ops import padding as P

G = SimpleNamespace(cat=J.cat, stack=J.stack, pad=P.pad, tril=V.tril, triu=V.triu)


def parity(fn, *arrays, atol=1e-12, rtol=1e-10):
    """Run ``fn(lib, *tensors)`` with glassgrad and with torch on the same data; compare the
    outputs and the gradients of sum(out * u) for random u, input by input."""
    torch = pytest.importorskip("torch")
    T = SimpleNamespace(
        cat=torch.cat, stack=torch.stack, pad=torch.nn.functional.pad, tril=torch.tril, triu=torch.triu
    )
    gx = [gg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    tx = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    go, to = fn(G, *gx), fn(T, *tx)
    go = list(go) if isinstance(go, tuple | list) else [go]
    to = list(to) if isinstance(to, tuple | list) else [to]
    assert len(go) == len(to)
    rng = np.random.default_rng(1)
    for g, t in zip(go, to):
        assert g.shape == tuple(t.shape)
        assert g._data.dtype == t.detach().numpy().dtype
        np.testing.assert_allclose(g._data, t.detach().numpy(), atol=atol, rtol=rtol)
        if g.requires_grad:
            u = rng.standard_normal(g.shape).astype(g._data.dtype)
            g.backward(u, retain_graph=True)
            torch.autograd.backward(t, torch.tensor(u), retain_graph=True)
    for g, t in zip(gx, tx):
        if g.requires_grad:
            want = np.zeros(g.shape) if t.grad is None else t.grad.numpy()
            got = np.zeros(g.shape) if g.grad is None else g.grad._data
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol)
    return go


def rand(*shape, dtype=np.float64):
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(dtype)


CASES = {
    "reshape_varargs": (lambda L, x: x.reshape(3, -1), [(2, 3, 2)]),
    "reshape_tuple": (lambda L, x: x.reshape((4, 3)), [(2, 3, 2)]),
    "view": (lambda L, x: x.view(-1), [(2, 3)]),
    "view_as": (lambda L, x, y: x.view_as(y) * y, [(2, 3), (3, 2)]),
    "reshape_empty": (lambda L, x: x.reshape(-1, 3, 1), [(0, 3)]),
    "squeeze_all": (lambda L, x: x.squeeze(), [(1, 3, 1, 2)]),
    "squeeze_dim": (lambda L, x: x.squeeze(-2), [(1, 3, 1, 2)]),
    "squeeze_tuple": (lambda L, x: x.squeeze((0, 2)), [(1, 3, 1, 2)]),
    "squeeze_non1_noop": (lambda L, x: x.squeeze(1), [(1, 3, 1, 2)]),
    "unsqueeze": (lambda L, x: x.unsqueeze(-1).unsqueeze(0), [(2, 3)]),
    "flatten": (lambda L, x: x.flatten(1), [(2, 3, 4)]),
    "flatten_mid": (lambda L, x: x.flatten(-3, -2), [(2, 3, 4, 1)]),
    "flatten_0d": (lambda L, x: x.flatten(), [()]),
    "unflatten": (lambda L, x: x.unflatten(1, (2, -1)), [(2, 6)]),
    "transpose": (lambda L, x: x.transpose(0, -1), [(2, 3, 4)]),
    "t": (lambda L, x: x.t(), [(2, 3)]),
    "t_1d": (lambda L, x: x.t(), [(3,)]),
    "T": (lambda L, x: x.T, [(2, 3)]),
    "mT": (lambda L, x: x.mT, [(2, 3, 4)]),
    "permute": (lambda L, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    "permute_tuple_neg": (lambda L, x: x.permute((-1, 0, 1)), [(2, 3, 4)]),
    "expand": (lambda L, x: x.expand(4, 2, 3), [(2, 1)]),
    "expand_keep": (lambda L, x: x.expand(-1, 5), [(3, 1)]),
    "expand_as": (lambda L, x, y: x.expand_as(y) * y, [(1, 3), (2, 3)]),
    "expand_to_zero": (lambda L, x: x.expand(0, 3), [(1, 3)]),
    "repeat": (lambda L, x: x.repeat(2, 1, 3), [(2, 3)]),
    "repeat_same_ndim": (lambda L, x: x.repeat(3, 2), [(2, 1)]),
    "flip": (lambda L, x: x.flip((0, -1)), [(2, 3, 4)]),
    "flip_int": (lambda L, x: x.flip(1), [(2, 3)]),
    "roll_flat": (lambda L, x: x.roll(2), [(2, 3)]),
    "roll_dims": (lambda L, x: x.roll((1, -2), (0, 1)), [(2, 3)]),
    "roll_neg_dim": (lambda L, x: x.roll(4, -1), [(2, 3)]),
    "split_int": (lambda L, x: x.split(2, 1), [(2, 5)]),
    "split_list": (lambda L, x: x.split([1, 0, 3], -1), [(2, 4)]),
    "split_empty_dim": (lambda L, x: x.split(2, 0), [(0, 3)]),
    "chunk": (lambda L, x: x.chunk(3, 1), [(2, 7)]),
    "chunk_fewer": (lambda L, x: x.chunk(4, 0), [(6, 2)]),
    "chunk_empty_dim": (lambda L, x: x.chunk(3, 0), [(0, 2)]),
    "unbind": (lambda L, x: x.unbind(1), [(2, 3)]),
    "unbind_neg": (lambda L, x: x.unbind(-1), [(2, 3, 2)]),
    "tril": (lambda L, x: x.tril(), [(3, 4)]),
    "tril_k": (lambda L, x: L.tril(x, -1), [(2, 3, 4)]),
    "triu_k": (lambda L, x: x.triu(1), [(4, 3)]),
    "triu_batched": (lambda L, x: L.triu(x, -2), [(2, 3, 4)]),
    "cat": (lambda L, x, y: L.cat([x, y, x], 1), [(2, 3), (2, 1)]),
    "cat_neg_dim": (lambda L, x, y: L.cat((x, y), -1), [(2, 2, 3), (2, 2, 1)]),
    "cat_empty": (lambda L, x, y: L.cat([x, y]), [(0, 3), (2, 3)]),
    "cat_one": (lambda L, x: L.cat([x]), [(2, 3)]),
    "stack": (lambda L, x, y: L.stack([x, y, x]), [(2, 3), (2, 3)]),
    "stack_neg_dim": (lambda L, x, y: L.stack((x, y), -1), [(2, 3), (2, 3)]),
    "stack_0d": (lambda L, x, y: L.stack([x, y]), [(), ()]),
    "pad_1d": (lambda L, x: L.pad(x, (1, 2)), [(2, 3)]),
    "pad_2d_value": (lambda L, x: L.pad(x, (1, 0, 2, 1), value=0.5), [(2, 3, 4)]),
    "pad_all_dims": (lambda L, x: L.pad(x, (1, 1, 0, 2)), [(2, 3)]),
    "pad_negative_crops": (lambda L, x: L.pad(x, (-1, 2, 0, -1)), [(3, 4)]),
    "pad_reflect": (lambda L, x: L.pad(x, (2, 1), mode="reflect"), [(2, 3, 4)]),
    "pad_reflect_2d": (lambda L, x: L.pad(x, (1, 2, 2, 1), mode="reflect"), [(1, 2, 4, 5)]),
    "pad_replicate": (lambda L, x: L.pad(x, (3, 1, 0, 2), mode="replicate"), [(1, 2, 3, 4)]),
    "pad_circular": (lambda L, x: L.pad(x, (2, 3), mode="circular"), [(1, 2, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parity(name, dtype):
    fn, shapes = CASES[name]
    tol = {"atol": 1e-12, "rtol": 1e-10} if dtype == np.float64 else {"atol": 1e-5, "rtol": 1e-5}
    parity(fn, *[rand(*s, dtype=dtype) for s in shapes], **tol)


def test_cat_promotes_ints_to_the_float_dtype_like_torch():
    out = parity(lambda L, x, i: L.cat([x, i]), rand(2, 3, dtype=np.float32), np.ones((1, 3), dtype=np.int64))
    assert out[0].dtype == gg.float32


def test_cat_of_ints_stays_int_and_records_nothing():
    a = gg.tensor([[1, 2]])
    out = J.cat([a, a], 0)
    assert out.dtype == gg.int64 and not out.requires_grad
    assert out.tolist() == [[1, 2], [1, 2]]


def test_cat_skips_legacy_empty_1d_like_torch(torch):
    x = gg.tensor(rand(2, 3), requires_grad=True)
    out = J.cat([x, gg.zeros(0, dtype=gg.float64)])
    assert out.shape == tuple(torch.cat([torch.ones(2, 3), torch.ones(0)]).shape)


def test_split_pieces_are_separate_nodes_and_views():
    x = gg.tensor(rand(4, 3), requires_grad=True)
    a, b = x.split(2)
    assert a._node is not b._node  # a node each inside the graph ...
    assert a.grad_fn is b.grad_fn  # ... shown as PyTorch's one SplitBackward0 node
    assert np.shares_memory(a._data, x._data)  # basic slices are views, no copy in forward


def test_expand_is_a_view_and_backward_sums():
    x = gg.tensor(rand(3, 1), requires_grad=True)
    y = x.expand(2, 3, 4)
    assert np.shares_memory(y._data, x._data)
    y.backward(np.ones((2, 3, 4)))
    np.testing.assert_array_equal(x.grad._data, np.full((3, 1), 8.0))


def test_float32_stays_float32():
    x = gg.tensor(rand(2, 3, dtype=np.float32), requires_grad=True)
    outs = [
        x.reshape(-1),
        x.T,
        x.expand(2, 2, 3),
        x.repeat(2, 1),
        x.flip(0),
        x.roll(1),
        x.tril(),
        J.cat([x, x]),
    ]
    outs += [J.stack([x, x]), P.pad(x, (1, 1)), P.pad(x, (1, 1), mode="reflect"), *x.split(1)]
    assert all(o.dtype == gg.float32 for o in outs)


def test_size_one_and_empty_dims():
    x = gg.tensor(rand(1, 0, 1), requires_grad=True)
    assert x.squeeze().shape == (0,)
    assert x.flatten().shape == (0,)
    assert x.permute(2, 1, 0).shape == (1, 0, 1)
    assert x.repeat(2, 1, 3).shape == (2, 0, 3)
    assert x.unbind(1) == ()
    y = P.pad(x, (1, 1))
    assert y.shape == (1, 0, 3)
    y.backward(np.ones(y.shape))
    assert x.grad.shape == (1, 0, 1)


# ------------------------------------------------------------------ errors
def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


def test_error_messages_name_op_and_shapes():
    x = gg.tensor(rand(2, 3))
    with raises(
        ShapeError, "reshape: expected a shape with 6 elements, got (4, 2) for input of shape (2, 3)"
    ):
        x.reshape(4, 2)
    with raises(
        ShapeError, "reshape: expected a shape with 6 elements, got (4, -1) for input of shape (2, 3)"
    ):
        x.reshape(4, -1)
    with raises(ShapeError, "cat: expected tensors with equal sizes except in dim 0, got (2, 3) and (2, 4)"):
        J.cat([x, gg.tensor(rand(2, 4))])
    with raises(ShapeError, "stack: expected tensors of equal shape, got (2, 3) and (3, 2)"):
        J.stack([x, x.T])
    with raises(ShapeError, "expand: expected sizes that match (2, 3) or grow its size-1 dims, got (2, 4)"):
        x.expand(2, 4)
    with raises(ShapeError, "expand: expected at least 2 sizes for shape (2, 3), got (3,)"):
        x.expand(3)
    with raises(ShapeError, "permute: expected a permutation of 2 dims, got (0,) for shape (2, 3)"):
        x.permute(0)
    with raises(ShapeError, "permute: expected distinct dims, got (0, -2) for shape (2, 3)"):
        x.permute(0, -2)
    with raises(ShapeError, "t: expected a tensor with at most 2 dims, got shape (2, 3, 1)"):
        x.unsqueeze(-1).t()
    with raises(
        ShapeError, "split: expected non-negative sections summing to 2 (dim 0 of (2, 3)), got [1, 2]"
    ):
        x.split([1, 2])
    with raises(ShapeError, "chunk: expected chunks > 0 and a tensor with dims, got 0 and shape (2, 3)"):
        x.chunk(0)
    with raises(ShapeError, "repeat: expected at least 2 non-negative sizes for shape (2, 3), got (2,)"):
        x.repeat(2)
    with raises(ShapeError, "tril: expected a tensor with at least 2 dims, got shape (3,)"):
        x[0].tril()
    with raises(ShapeError, "unflatten: expected sizes with product 3 (dim 1 of (2, 3)), got (2, -1)"):
        x.unflatten(1, (2, -1))
    with raises(ShapeError, "unflatten: expected a tensor with at least 1 dim, got shape ()"):
        gg.tensor(2.0).unflatten(0, (1,))  # was a bare IndexError from shape[0]
    with raises(ShapeError, "flatten: expected start_dim <= end_dim, got 1 and 0 for (2, 3)"):
        x.flatten(1, 0)
    with raises(ShapeError, "roll: expected as many shifts as dims, got shifts (1, 2) and dims (0,)"):
        x.roll((1, 2), 0)


def test_dim_out_of_range_is_an_index_error_like_torch():
    x = gg.tensor(rand(2, 3))
    for f in (lambda: x.transpose(0, 2), lambda: x.unsqueeze(3), lambda: J.cat([x], 2), lambda: x.flip(-3)):
        with pytest.raises(IndexError, match=r"expected dim in \[-\d, \d\] for shape"):
            f()
    with pytest.raises(ShapeError):
        x.squeeze(5)


def test_pad_errors():
    x = gg.tensor(rand(2, 3))
    with raises(
        ShapeError, "pad: expected an even number of pad sizes, at most 4 for shape (2, 3), got (1, 2, 3)"
    ):
        P.pad(x, (1, 2, 3))
    with raises(ShapeError, "pad: reflect padding (3, 0) must be >= 0 and fit dim 1 of shape (2, 3)"):
        P.pad(x, (3, 0), mode="reflect")
    with raises(ShapeError, "pad: padding (-2, -2) crops dim 1 of (2, 3) below size 0"):
        P.pad(x, (-2, -2))
    with raises(
        NotImplementedError, "pad: expected mode constant, reflect, replicate or circular, got 'edge'"
    ):
        P.pad(x, (1, 1), mode="edge")


def test_pad_takes_pytorch_keyword_names():
    import glassgrad.nn.functional as F

    out = F.pad(input=gg.ones(2, 2), pad=(1, 1), mode="constant", value=0.0)
    assert out.shape == (2, 4) and out.tolist()[0] == [0.0, 1.0, 1.0, 0.0]


def test_unbind_backward_allocates_one_input_sized_gradient():
    """Each piece used to return a zeros array of the whole input: O(T^2) work for T steps.
    Now exactly one piece per pass hands back an input-sized array (the shared buffer)."""
    from glassgrad.autograd import observers

    full = []

    def watch(node, grad, grads):
        if node.fn.name == "piece":
            full.extend(g for g in grads if g is not None)

    x = gg.randn(400, 3, requires_grad=True)
    loss = gg.stack([p.sum() * (i + 1.0) for i, p in enumerate(x.unbind(0))]).sum()
    observers.backward.append(watch)
    try:
        loss.backward()
    finally:
        observers.backward.remove(watch)
    assert len(full) == 1 and full[0].shape == (400, 3)
    np.testing.assert_allclose(x.grad.numpy(), np.repeat(np.arange(1.0, 401.0)[:, None], 3, 1))


def test_split_pieces_are_views_sharing_the_version_counter():
    w = gg.randn(4, 3, requires_grad=True)
    a, b = w.split(2)
    y = (a * a).sum() + b.sum()
    with gg.no_grad():
        w.mul_(2.0)
    with pytest.raises(gg.errors.GraphError, match="modified in place"):
        y.backward()


def test_split_gradient_twice_with_retain_graph():
    x = gg.randn(5, 2, requires_grad=True)
    y = sum((p * (i + 1.0)).sum() for i, p in enumerate(x.unbind(0)))
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * np.repeat(np.arange(1.0, 6.0)[:, None], 2, 1)
    np.testing.assert_allclose(x.grad.numpy(), expected)
