"""Round 48 (optimizers, meta-learning, knowledge-graph embeddings): SAM/ASAM, Ranger, SophiaG,
facebookresearch/schedule_free, torchmeta, torchkge and tab-transformer-pytorch against PyTorch 2.13.

Three defects were found: ``torch.nn.parallel.replicate._broadcast_coalesced_reshape`` (imported by
torchmeta's ``DataParallel``) and the helpers beside it were missing; a ``Subset`` subclass that
overrides ``__getitem__`` but not ``__getitems__`` was accepted, where PyTorch 2.13 refuses it (its
DataLoader would bypass the override); ``load_state_dict`` refused a momentum-free SGD's state
holding ScheduleFreeWrapper's ``z``, which PyTorch keeps. The rest keep the programs' paths covered.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import glassgrad as gg


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


# ------------------------------------------------------------------ nn.parallel private helpers


def test_broadcast_coalesced_reshape_imports_and_refuses_as_in_torch(torch):
    from torch.nn.parallel.replicate import _broadcast_coalesced_reshape as tb

    from glassgrad.nn.parallel.replicate import _broadcast_coalesced_reshape as gb

    assert gb([], [0]) == tb([], [0]) == []
    for lib, fn in ((gg, gb), (torch, tb)):
        with pytest.raises(AssertionError):  # Broadcast of CPU tensors
            fn([lib.ones(2)], [0])
        with pytest.raises(ValueError, match="non cpu device"):
            fn([lib.ones(2)], ["cpu"], True)
    with pytest.raises(RuntimeError, match="_broadcast_coalesced_reshape"):
        gb([gg.ones(2)], [0], True)  # PyTorch's CPU build fails in its C extension here


def test_parallel_helpers_get_a_var_and_is_namedtuple_as_in_torch(torch):
    from torch.nn.parallel.parallel_apply import get_a_var as t_get
    from torch.nn.parallel.scatter_gather import _is_namedtuple as t_isnt
    from torch.nn.parallel.scatter_gather import is_namedtuple as t_isn

    from glassgrad.nn.parallel.parallel_apply import get_a_var as g_get
    from glassgrad.nn.parallel.scatter_gather import _is_namedtuple as g_isnt
    from glassgrad.nn.parallel.scatter_gather import is_namedtuple as g_isn

    def cases(lib):
        a, b = lib.tensor([1.0]), lib.tensor([2.0])
        return [(a, a), ([1, (2, b)], b), ({"k": 3, "v": [a]}, a), ((1, "x"), None), ({}, None), (5, None)]

    for fn, lib in ((g_get, gg), (t_get, torch)):
        for obj, want in cases(lib):
            assert fn(obj) is want
    Pair = namedtuple("Pair", "a b")
    for obj in (Pair(1, 2), (1, 2), [1], {"a": 1}):
        assert g_isnt(obj) == t_isnt(obj)
        with pytest.warns(FutureWarning, match="is_namedtuple` is deprecated"):
            assert g_isn(obj) == t_isn(obj)


# ------------------------------------------------------------------ Subset subclasses


@pytest.mark.parametrize("lib_name", ["gg", "torch"])
def test_subset_subclass_overriding_only_getitem_is_refused_as_in_torch(torch, lib_name):
    data = (gg if lib_name == "gg" else torch).utils.data

    class OnlyGetitem(data.Subset):  # torchmeta's SubsetTask, before its fix for PyTorch 2.13
        def __getitem__(self, i):
            return self.dataset[self.indices[i]] * 10

    class Both(OnlyGetitem):
        def __getitems__(self, idx):
            return [self[i] for i in idx]

    class Neither(data.Subset):
        pass

    base = list(range(6))
    with pytest.raises(NotImplementedError, match=r"OnlyGetitem overrides __getitem__ but not __getitems__"):
        OnlyGetitem(base, [1, 3])
    assert Both(base, [1, 3]).__getitems__([0, 1]) == [10, 30]
    loader = data.DataLoader(Both(base, [1, 3, 5]), batch_size=3)
    assert next(iter(loader)).tolist() == [10, 30, 50]
    assert Neither(base, [4, 2]).__getitems__([0, 1]) == [4, 2]


# ------------------------------------------------------------------ optimizer state of a wrapper


def test_wrapper_state_in_a_momentum_free_sgd_loads_as_in_torch(torch):
    """ScheduleFreeWrapper keeps its ``z`` in the state of the SGD it wraps; an SGD without momentum
    has no state of its own, and PyTorch's load_state_dict keeps any entry."""
    out = []
    for lib in (gg, torch):
        p = lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64, requires_grad=True)
        sgd = lib.optim.SGD([p], lr=0.1)
        sgd.state[p]["z"] = lib.full_like(p, 0.25).detach()
        p.grad = lib.ones_like(p)
        sgd.step()
        q = lib.zeros(2, 2, dtype=lib.float64, requires_grad=True)
        again = lib.optim.SGD([q], lr=0.1)
        again.load_state_dict(sgd.state_dict())
        state = again.state[q]
        assert sorted(state) == ["z"]
        q.grad = lib.full_like(q, 2.0)
        again.step()
        out.append((_np(state["z"]), _np(q)))
    for a, b in zip(out[0], out[1]):
        np.testing.assert_array_equal(a, b)


def test_another_familys_state_is_still_refused_beside_an_unknown_entry():
    p = gg.ones(2, requires_grad=True)
    adam = gg.optim.Adam([p], lr=0.1)
    p.grad = gg.ones_like(p)
    adam.step()
    sd = adam.state_dict()
    sd["state"][0]["z"] = gg.zeros(2)
    sd["param_groups"][0].update(momentum=0, dampening=0, nesterov=False)
    with pytest.raises(
        ValueError, match="SGD.load_state_dict: expected state arrays .* another optimizer type"
    ):
        gg.optim.SGD([gg.ones(2, requires_grad=True)], lr=0.1).load_state_dict(sd)


# ------------------------------------------------------------------ the programs' patterns


def test_ranger_float_alias_and_deprecated_signatures_as_in_torch(torch):
    """Ranger's ``grad = p.grad.data.float()`` is the gradient itself for float32 (centralized in
    place); RangerVA/RangerQH use ``add_(number, tensor)`` and ``addcmul_(number, a, b)``."""
    rng = np.random.default_rng(48)
    g0, x0 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    res = []
    for lib in (gg, torch):
        g, x = lib.tensor(g0), lib.tensor(x0)
        f = g.float()
        assert f is g
        f.add_(-f.mean(dim=tuple(range(1, f.dim())), keepdim=True))
        with warnings.catch_warnings():  # both warn once per process, so not asserted here
            warnings.simplefilter("ignore")
            x.add_(0.5, g)
        x.addcmul_(0.1, g, g)  # (PyTorch warns for add_'s overload only)
        res.append((_np(g), _np(x)))
    for a, b in zip(res[0], res[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _maml_outer(lib, weights, x, y, first_order):
    """torchmeta's MAML step, written out: an inner SGD step through conv, batch norm without
    running statistics, max pooling and a linear head, ``create_graph`` unless first-order."""
    F = lib.nn.functional
    params = OrderedDict((k, lib.tensor(v, requires_grad=True)) for k, v in weights.items())

    def net(p, inp):
        h = F.conv2d(inp, p["c.w"], p["c.b"], padding=1)
        h = F.batch_norm(h, None, None, p["bn.w"], p["bn.b"], training=True, momentum=1.0)
        h = F.max_pool2d(F.relu(h), 2)
        return F.linear(h.reshape(h.shape[0], -1), p["l.w"], p["l.b"])

    inner = F.cross_entropy(net(params, x[:3]), y[:3])
    grads = lib.autograd.grad(inner, list(params.values()), create_graph=not first_order)
    fast = OrderedDict((k, v - 0.4 * g) for (k, v), g in zip(params.items(), grads))
    outer = F.cross_entropy(net(fast, x[3:]), y[3:])
    outer.backward()
    return outer, [params[k].grad for k in params]


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_second_order_step_as_in_torch(torch, first_order):
    rng = np.random.default_rng(7)
    w = {
        "c.w": rng.standard_normal((3, 1, 3, 3)) * 0.5, "c.b": rng.standard_normal(3) * 0.1,
        "bn.w": 1 + 0.1 * rng.standard_normal(3), "bn.b": 0.1 * rng.standard_normal(3),
        "l.w": rng.standard_normal((4, 12)) * 0.3, "l.b": np.zeros(4),
    }  # fmt: skip
    x_np, y_np = rng.standard_normal((6, 1, 4, 4)), rng.integers(0, 4, 6)
    go, gg_grads = _maml_outer(gg, w, gg.tensor(x_np), gg.tensor(y_np), first_order)
    to, t_grads = _maml_outer(torch, w, torch.tensor(x_np), torch.tensor(y_np), first_order)
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-12, atol=1e-13)
    for a, b in zip(gg_grads, t_grads):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ an out-of-range write of a tensor


@pytest.mark.parametrize(
    "key, value_shape",
    [((0, 4), (2, 3)), ((0, 4), (3,)), ((slice(None), 5), (7,)), ((9,), (3,)), ((0, 4), ())],
)
def test_out_of_range_tensor_write_is_an_index_error_naming_setitem(torch, key, value_shape):
    """torchkge's ``self.scores[i * b, (i + 1) * b] = scores[:, :k]`` (a comma for a colon): an
    IndexError in PyTorch; glassgrad's named ``__setitem__`` and the shape (NumPy's bare message
    leaked from the overlap check when the value was a tensor)."""
    with pytest.raises(IndexError, match="out of bounds"):
        torch.zeros(7, 3)[key] = torch.ones(value_shape)
    x = gg.zeros(7, 3)
    with pytest.raises(IndexError, match=r"__setitem__: expected a key that fits shape \(7, 3\)"):
        x[key] = gg.ones(value_shape)
    assert not x.any()
