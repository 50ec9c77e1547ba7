"""Round 28, long convolutions and retention (docs/porting.md): safari's standalone Hyena, Jamie
Stirling's RetNet and lucidrains' x-transformers. Hyena and RetNet ran unchanged; x-transformers
stopped at ``from torch.utils._pytree import tree_flatten, tree_unflatten, tree_map`` and then at
``from torch import cartesian_prod``. Each is held to PyTorch here with a distilled float64 check of
what the program does: Hyena's FFT long convolution with its implicit, exponentially modulated
filter, RetNet's parallel and recurrent retention with xpos, and x-transformers' pytree walks."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque, namedtuple

import numpy as np
import pytest

import glassgrad
import glassgrad.utils._pytree as gpt

# ----------------------------------------------------------------------------- torch.utils._pytree


def test_pytree_importable_at_torch_path():
    from glassgrad.utils._pytree import tree_flatten, tree_map, tree_unflatten  # noqa: F401

    assert glassgrad.utils._pytree is gpt


def _trees():
    Pair = namedtuple("Pair", "a b")
    return [
        [1, None, (2, 3)],
        {"b": [1, 2], "a": (3, {"x": 4})},
        OrderedDict(z=1, y=[2, None]),
        Pair(1, [2, 3]),
        deque([1, (2, 3)], maxlen=4),
        None,
        5,
        (),
    ]


def test_pytree_flatten_matches_torch(torch):
    tpt = pytest.importorskip("torch.utils._pytree")
    for tree in _trees():
        want, tspec = tpt.tree_flatten(tree)
        got, gspec = gpt.tree_flatten(tree)
        assert got == want, tree
        assert gspec.num_leaves == tspec.num_leaves
        assert gspec.num_nodes == tspec.num_nodes
        back = gpt.tree_unflatten([10 * i for i in range(len(got))], gspec)
        ref = tpt.tree_unflatten([10 * i for i in range(len(want))], tspec)
        assert back == ref and type(back) is type(ref)


def test_pytree_defaultdict_keeps_factory():
    d = defaultdict(list, a=1, b=[2])
    out = gpt.tree_map(lambda x: x + 1, d)
    assert type(out) is defaultdict and out.default_factory is list
    assert dict(out) == {"a": 2, "b": [3]}


def test_pytree_map_several_trees_and_is_leaf(torch):
    tpt = pytest.importorskip("torch.utils._pytree")
    a, b = {"x": 1, "y": (2, 3)}, {"y": (20, 30), "x": 10}
    assert gpt.tree_map(lambda p, q: p + q, a, b) == tpt.tree_map(lambda p, q: p + q, a, b)
    pairs = [1, [2, 3]]
    is_pair = lambda x: isinstance(x, list) and len(x) == 2  # noqa: E731
    assert gpt.tree_map(lambda x: x * 2, pairs, is_leaf=is_pair) == tpt.tree_map(
        lambda x: x * 2, pairs, is_leaf=is_pair
    )
    assert gpt.tree_leaves([1, [2]]) == [1, 2]
    assert gpt.tree_structure([1, 2]) == gpt.tree_structure([3, 4])
    assert gpt.tree_structure([1, 2]) != gpt.tree_structure((3, 4))
    assert gpt.tree_all(lambda x: x > 0, [1, (2,)]) and not gpt.tree_any(lambda x: x > 5, [1, 2])
    assert gpt.tree_map_only(int, lambda x: -x, [1, "s", 2.5]) == [-1, "s", 2.5]


def test_pytree_errors_name_the_op():
    with pytest.raises(ValueError, match="tree_map: expected a list of 2 children.*got 3"):
        gpt.tree_map(lambda p, q: p, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="tree_map: expected a dict with keys"):
        gpt.tree_map(lambda p, q: p, {"a": 1}, {"b": 1})
    _, spec = gpt.tree_flatten([1, (2, 3)])
    with pytest.raises(ValueError, match=r"(?s)tree_unflatten: got 1 leaves.*holds 3"):
        gpt.tree_unflatten([1], spec)
    with pytest.raises(TypeError, match="tree_unflatten: expected treespec to be a TreeSpec"):
        gpt.tree_unflatten([1], "spec")


def test_pytree_register_node():
    class Box:
        def __init__(self, items, tag):
            self.items, self.tag = items, tag

    gpt.register_pytree_node(Box, lambda b: (list(b.items), b.tag), lambda c, tag: Box(c, tag))
    try:
        leaves, spec = gpt.tree_flatten([Box([1, 2], "t"), 3])
        assert leaves == [1, 2, 3]
        out = gpt.tree_unflatten([4, 5, 6], spec)
        assert out[0].items == [4, 5] and out[0].tag == "t" and out[1] == 6
        with pytest.raises(ValueError, match="register_pytree_node: Box is already registered"):
            gpt.register_pytree_node(Box, lambda b: ([], None), lambda c, t: Box(c, t))
    finally:
        del gpt.SUPPORTED_NODES[Box]


def test_pytree_detach_walk_as_x_transformers():
    """x_transformers.detach_all: tree_map over (tensor, [tensor, None], str)."""
    x = glassgrad.ones(2, requires_grad=True)
    obj = (x * 2, [x + 1, None], "tag")
    out = gpt.tree_map(lambda t: t.detach() if glassgrad.is_tensor(t) and t.requires_grad else t, obj)
    assert not out[0].requires_grad and not out[1][0].requires_grad
    assert out[1][1] is None and out[2] == "tag"
    (first, *rest), spec = gpt.tree_flatten(obj)
    again = gpt.tree_unflatten((first * 0, *rest), spec)
    assert again[0].tolist() == [0.0, 0.0] and again[2] == "tag"


# ----------------------------------------------------------------------------- cartesian_prod


def test_cartesian_prod_matches_torch(torch):
    a = np.array([1.5, -2.0])
    b = np.array([3.0, 4.0, 5.0])
    c = np.array([0.5, 7.0])
    ta, tb, tc = (torch.tensor(v, requires_grad=True) for v in (a, b, c))
    ga, gb, gc = (glassgrad.tensor(v, requires_grad=True) for v in (a, b, c))
    want = torch.cartesian_prod(ta, tb, tc)
    got = glassgrad.cartesian_prod(ga, gb, gc)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    w = np.arange(36.0).reshape(12, 3)
    (want * torch.tensor(w)).sum().backward()
    (got * glassgrad.tensor(w)).sum().backward()
    for g, t in ((ga, ta), (gb, tb), (gc, tc)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    ints = glassgrad.cartesian_prod(glassgrad.tensor([1, 2]), glassgrad.tensor([3]))
    assert ints.dtype == glassgrad.int64 and ints.tolist() == [[1, 3], [2, 3]]
    one = glassgrad.tensor([1.0, 2.0])
    assert glassgrad.cartesian_prod(one) is one
    assert glassgrad.functional.cartesian_prod is glassgrad.cartesian_prod


def test_cartesian_prod_gradcheck():
    a = glassgrad.tensor([0.3, -1.2], dtype=glassgrad.float64, requires_grad=True)
    b = glassgrad.tensor([2.0, 0.7, 1.1], dtype=glassgrad.float64, requires_grad=True)
    assert glassgrad.autograd.gradcheck(lambda x, y: glassgrad.cartesian_prod(x, y) ** 2, (a, b))


def test_cartesian_prod_errors():
    with pytest.raises(Exception, match=r"cartesian_prod: expected 1-D tensors, got shape \(2, 2\)"):
        glassgrad.cartesian_prod(glassgrad.tensor([1, 2]), glassgrad.ones(2, 2))
    with pytest.raises(Exception, match=r"cartesian_prod: expected 1-D tensors, got shape \(\)"):
        glassgrad.cartesian_prod(glassgrad.tensor(3))
    with pytest.raises(Exception, match="cartesian_prod: expected all tensors to have one dtype"):
        glassgrad.cartesian_prod(glassgrad.tensor([1, 2]), glassgrad.tensor([1.0]))
    with pytest.raises(Exception, match="cartesian_prod: expected at least one"):
        glassgrad.cartesian_prod()


# ----------------------------------------------------------------------------- asarray


def test_asarray_as_einx_calls_it(torch):
    """einx's generated code: torch.asarray(0.0, device=x.device), then a where against it."""
    for lib in (torch, glassgrad):
        x = lib.ones(2, 3)
        c = lib.asarray(0.0, device=x.device)
        assert c.shape == () and str(c.dtype).endswith("float32")
    g = glassgrad.where(glassgrad.tensor([[True], [False]]), glassgrad.ones(2, 3), glassgrad.asarray(0.0))
    assert g.tolist() == [[1.0] * 3, [0.0] * 3]


def test_asarray_dtypes_match_torch(torch):
    cases = [3.0, 2, True, [1.5, 2], [1, 2], [True, False], np.array([1.0, 2.0]),
             np.array([1, 2], dtype=np.int32), np.float32(1.5)]  # fmt: skip
    for obj in cases:
        want = torch.asarray(obj)
        got = glassgrad.asarray(obj)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], obj
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = glassgrad.asarray([glassgrad.tensor(1.0), glassgrad.tensor(2.0)])
    assert got.tolist() == torch.asarray([torch.tensor(1.0), torch.tensor(2.0)]).tolist()


def test_asarray_shares_memory_unless_copied():
    a = np.array([1.0, 2.0])
    shared, copied = glassgrad.asarray(a), glassgrad.asarray(a, copy=True)
    cast = glassgrad.asarray(a, dtype=glassgrad.float32)
    a[0] = 9.0
    assert shared.tolist() == [9.0, 2.0] and copied.tolist() == [1.0, 2.0]
    assert cast.tolist() == [1.0, 2.0] and cast.dtype == glassgrad.float32
    t = glassgrad.ones(2)
    assert glassgrad.asarray(t) is t and glassgrad.asarray(t, dtype=glassgrad.float32) is t
    assert glassgrad.asarray(t, copy=True) is not t
    buf = glassgrad.asarray(bytearray(np.array([1.0], dtype=np.float32).tobytes()))
    assert buf.dtype == glassgrad.float32 and buf.tolist() == [1.0]


def test_asarray_copy_false_refuses_a_copy(torch):
    for lib in (torch, glassgrad):
        with pytest.raises(ValueError):
            lib.asarray(lib.ones(2), dtype=lib.float64, copy=False)
        with pytest.raises(ValueError):
            lib.asarray(np.ones(2), dtype=lib.float32, copy=False)
        with pytest.raises(ValueError):
            lib.asarray([1, 2], copy=False)
    with pytest.raises(ValueError, match="asarray: copy=False cannot alias a glassgrad.float32 tensor"):
        glassgrad.asarray(glassgrad.ones(2), dtype=glassgrad.float64, copy=False)


def test_asarray_autograd_matches_torch(torch):
    import warnings

    for lib in (torch, glassgrad):
        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            same = lib.asarray(x)
            lib.asarray(x)
        assert [str(w.message).startswith("torch.asarray: unspecified requires_grad") for w in caught] == [
            True
        ]
        assert same is x
        cast = lib.asarray(x, dtype=lib.float64)  # stays on the graph
        assert cast.grad_fn is not None and cast.requires_grad
        (cast * 3).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]
        cloned = lib.asarray(x, copy=True)
        assert cloned.grad_fn is not None
        kept = lib.asarray(x * 2, dtype=lib.float64, requires_grad=True)
        assert not kept.is_leaf and kept.requires_grad
        off = lib.asarray(x * 2, dtype=lib.float64, requires_grad=False)
        assert off.is_leaf and not off.requires_grad
        nonleaf = x * 2
        detached = lib.asarray(nonleaf, requires_grad=False)
        assert detached is not nonleaf and not detached.requires_grad and nonleaf.requires_grad
        assert lib.asarray(x, requires_grad=False) is x and not x.requires_grad
        plain = lib.ones(2)
        assert lib.asarray(plain, requires_grad=True) is plain and plain.requires_grad
        fresh = lib.asarray([1.0, 2.0], requires_grad=True)
        assert fresh.is_leaf and fresh.requires_grad
