"""Round 54, Deep Learning with PyTorch Step-by-Step (dvgodoy/PyTorchStepByStep) and
jcjohnson/pytorch-examples.

Chapter 8's RNN figures (``plots/chapter8.py``) build an ``nn.Linear(2, 2)`` and set its bias to
``nn.Parameter(tdata)`` with ``tdata`` of shape (1, 2); ``F.linear`` refused it (``linear: expected
bias of shape (2,), got (1, 2)``). PyTorch's ``addmm`` broadcasts a bias to the output, so any bias
that broadcasts to ``(*, out_features)`` without growing it is taken.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck

# (input shape, bias shape) pairs PyTorch 2.13 takes with a (2, 3) weight; the output is (*, 2)
_TAKEN = [
    ((4, 3), (1, 2)),
    ((4, 3), (4, 2)),
    ((4, 3), ()),
    ((4, 3), (1,)),
    ((2, 3), (2, 1)),
    ((4, 3), (4, 1)),
    ((5, 4, 3), (1, 2)),
    ((5, 4, 3), (4, 2)),
    ((5, 4, 3), (5, 1, 2)),
    ((5, 4, 3), (5, 4, 2)),
    ((3,), (1,)),
]


@pytest.mark.parametrize(("x_shape", "b_shape"), _TAKEN)
def test_linear_takes_a_bias_that_broadcasts_to_the_output(torch, x_shape, b_shape):
    rng = np.random.default_rng(54)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((2, 3)), rng.standard_normal(b_shape)
    g = rng.standard_normal((*x_shape[:-1], 2))
    results = []
    for lib, fn in ((glassgrad, F.linear), (torch, torch.nn.functional.linear)):
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = fn(*ts)
        out.backward(lib.tensor(g))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("x_shape", "b_shape"), [((4, 3), (2, 1)), ((4, 3), (1, 1, 2)), ((5, 4, 3), (3, 1, 1, 2))]
)
def test_linear_refuses_a_bias_that_would_grow_the_output(torch, x_shape, b_shape):
    w = np.ones((2, 3))
    with pytest.raises(RuntimeError):  # PyTorch's expand error
        torch.nn.functional.linear(
            torch.ones(x_shape), torch.tensor(w, dtype=torch.float32), torch.ones(b_shape)
        )
    with pytest.raises(ValueError, match=r"linear: expected bias of shape \(2,\).*output.*got"):
        F.linear(glassgrad.ones(x_shape), glassgrad.ones(2, 3), glassgrad.ones(b_shape))


def test_linear_with_a_one_dim_weight_keeps_a_zero_dim_bias_only():
    with pytest.raises(ValueError, match=r"linear: expected bias of shape \(\)"):
        F.linear(glassgrad.ones(4, 3), glassgrad.ones(3), glassgrad.ones(1))
    assert F.linear(glassgrad.ones(4, 3), glassgrad.ones(3), glassgrad.tensor(1.0)).shape == (4,)


@pytest.mark.parametrize("seed", range(4))
def test_linear_broadcast_bias_gradcheck(seed):
    rng = np.random.default_rng(seed)
    lead = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 3))))
    out_f, in_f = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    b_shape = tuple(1 if rng.random() < 0.5 else n for n in (*lead[-1:], out_f))
    args = [
        glassgrad.tensor(rng.standard_normal(s), dtype=glassgrad.float64, requires_grad=True)
        for s in ((*lead, in_f), (out_f, in_f), b_shape)
    ]
    assert gradcheck(F.linear, args)


def test_step_by_step_chapter8_add_tx(torch):
    # plots/chapter8.py: a Linear whose bias is replaced by an nn.Parameter of shape (1, 2)
    x = np.array([[1.0, -1.0], [0.5, 2.0], [-0.3, 0.1]])
    tdata = np.array([[0.25, -0.75]])
    outs = []
    for lib in (glassgrad, torch):
        layer = lib.nn.Linear(2, 2)
        with lib.no_grad():
            layer.weight = lib.nn.Parameter(lib.eye(2))
            layer.bias = lib.nn.Parameter(lib.tensor(tdata, dtype=lib.float32))
        y = lib.nn.Tanh()(layer(lib.tensor(x, dtype=lib.float32)))
        y.sum().backward()
        outs.append((y.detach().numpy(), layer.bias.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6, atol=1e-7)
    assert outs[0][1].shape == (1, 2)


# Chapter 4 (helpers.index_splitter): ``train_idx, val_idx = random_split(torch.arange(n), ...)``
# then ``x_tensor[train_idx]``: a Subset as the key. glassgrad refused it ("getitem: expected ints,
# slices, None, Ellipsis or integer/bool arrays, got Subset"); PyTorch reads any sequence (an
# object with __len__ and __getitem__) as the list of its items.
class _Seq:
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def _subsets(lib, n, lengths):
    split = glassgrad.data.random_split if lib is glassgrad else lib.utils.data.random_split
    lib.manual_seed(0)
    return split(lib.arange(n), lengths)


def test_indexing_with_a_subset_reads_its_items(torch):
    x = np.arange(160.0).reshape(80, 2)
    for lib in (glassgrad, torch):
        a, b = _subsets(lib, 80, [40, 40])  # each 32 or longer: one index
        t = lib.tensor(x, requires_grad=True)
        rows = [int(i) for i in a]
        np.testing.assert_array_equal(t[a].detach().numpy(), x[rows])
        t[b].sum().backward()
        expect = np.zeros_like(x)
        expect[[int(i) for i in b]] = 1.0
        np.testing.assert_array_equal(t.grad.numpy(), expect)


def test_indexing_with_a_user_sequence(torch):
    x = np.arange(24.0).reshape(6, 4)
    keys = [_Seq([4, 0, 4]), _Seq([True, False, True, False, False, True])]
    for key in keys:
        ours, theirs = glassgrad.tensor(x)[key], torch.tensor(x)[key]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        a, b = glassgrad.tensor(x), torch.tensor(x)
        a[key], b[key] = -1.0, -1.0
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_short_sequence_of_tensors_is_a_tuple_of_indices(torch):
    # fewer than 32 items holding tensors: PyTorch's treatSequenceAsTuple, as for a list
    x = np.arange(24.0).reshape(6, 4)
    with pytest.warns(UserWarning):
        ours = glassgrad.tensor(x)[_Seq([glassgrad.tensor(1), glassgrad.tensor(2)])]
    theirs = torch.tensor(x)[_Seq([torch.tensor(1), torch.tensor(2)])]
    assert float(ours) == float(theirs) == x[1, 2]
    with pytest.raises(IndexError):  # two indices into a 1-d tensor, in both
        glassgrad.arange(5)[_Seq([glassgrad.tensor(1), glassgrad.tensor(2)])]


@pytest.mark.parametrize("key", ["ab", {0: 1}])
def test_strings_and_mappings_stay_refused(key):
    with pytest.raises(IndexError, match="getitem: expected ints"):
        glassgrad.arange(5)[key]


# Chapter 4 (helpers.index_splitter) under a float64 default: ``total = splits.sum().float()`` then
# ``total.isclose(torch.ones(1)[0])``: PyTorch raises ``Float did not match Double``; glassgrad
# promoted and went on. isclose/allclose now refuse two tensors of different dtypes, as PyTorch.
@pytest.mark.parametrize("name", ["isclose", "allclose"])
@pytest.mark.parametrize(("a", "b"), [("float32", "float64"), ("float64", "float32"), ("float32", "int64")])
def test_isclose_refuses_mixed_dtypes(torch, name, a, b):
    with pytest.raises(RuntimeError, match="did not match"):
        getattr(torch, name)(torch.ones(2, dtype=getattr(torch, a)), torch.ones((), dtype=getattr(torch, b)))
    ours = glassgrad.ones(2, dtype=getattr(glassgrad, a)), glassgrad.ones((), dtype=getattr(glassgrad, b))
    for fn in (getattr(glassgrad, name), getattr(glassgrad.Tensor, name)):
        with pytest.raises(
            RuntimeError, match=rf"{name}: expected other of the input's dtype .*{a}, got .*{b}"
        ):
            fn(*ours)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_isclose_of_one_dtype_matches_torch(torch, dtype):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    y[1] = x[0, 1] + 1e-7
    x, y = x.astype(dtype), y.astype(dtype)
    ours = glassgrad.isclose(glassgrad.tensor(x), glassgrad.tensor(y))
    theirs = torch.isclose(torch.tensor(x), torch.tensor(y))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert glassgrad.allclose(glassgrad.tensor(x), glassgrad.tensor(x)) is True


# The same class in the constructors: ``torch.tensor(train_idx)``/``torch.as_tensor(subset)`` read a
# sequence that has only __len__ and __getitem__ (no __iter__) as the list of its items; glassgrad
# refused it ("tensor: expected a number, sequence, ndarray or Tensor, got Subset").
def test_tensor_constructors_read_a_subset_and_a_user_sequence(torch):
    for lib in (glassgrad, torch):  # each library's own split: the items, int64, in order
        subset = _subsets(lib, 10, [6, 4])[1]
        for t in (lib.tensor(subset), lib.as_tensor(subset)):
            assert t.dtype == lib.int64 and t.tolist() == [int(i) for i in subset]
    for items in ([0.5, 1.5, -2.0], [_Seq([1, 2]), _Seq([3, 4])]):
        for ours, theirs in (
            (glassgrad.tensor(_Seq(items)), torch.tensor(_Seq(items))),
            (
                glassgrad.as_tensor(_Seq(items), dtype=glassgrad.float64),
                torch.as_tensor(_Seq(items), dtype=torch.float64),
            ),
            (
                glassgrad.zeros(1, dtype=glassgrad.int32).new_tensor(_Seq(items)),
                torch.zeros(1, dtype=torch.int32).new_tensor(_Seq(items)),
            ),
        ):
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("data", [object(), {0: 1}, "ab"])
def test_tensor_of_a_non_sequence_stays_refused(data):
    with pytest.raises(TypeError, match="tensor: expected a number, sequence"):
        glassgrad.tensor(data)
