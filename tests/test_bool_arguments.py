"""A flag given something other than a bool, and a dim given a bool, are refused as PyTorch's parser
refuses them. Read by their truth value they changed results silently: ``t.sort(descending="no")``
sorted descending, ``F.dropout(t, training="no")`` dropped units at evaluation, and
``t.transpose(True, 0)`` swapped dims 1 and 0. ``True``/``False`` pass; ``var``/``std`` keep
PyTorch's ``var(input, unbiased)`` overload, where a bool in dim's place is ``unbiased``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

X = [[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0], [1.5, 2.5, -0.5, 3.0]]
IDX = [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]]

# (op named in the message, flag, call(lib, F, t, value))
FLAGS = [
    ("sort", "descending", lambda m, f, t, v: t.sort(descending=v)),
    ("sort", "stable", lambda m, f, t, v: m.sort(t, stable=v)),
    ("argsort", "descending", lambda m, f, t, v: t.argsort(1, descending=v)),
    ("topk", "largest", lambda m, f, t, v: t.topk(2, largest=v)),
    ("topk", "sorted", lambda m, f, t, v: m.topk(t, 2, sorted=v)),
    ("sum", "keepdim", lambda m, f, t, v: t.sum(1, keepdim=v)),
    ("mean", "keepdim", lambda m, f, t, v: t.mean(0, keepdim=v)),
    ("max", "keepdim", lambda m, f, t, v: t.max(1, keepdim=v)),
    ("argmax", "keepdim", lambda m, f, t, v: t.argmax(1, keepdim=v)),
    ("all", "keepdim", lambda m, f, t, v: m.all(t, dim=0, keepdim=v)),
    ("logsumexp", "keepdim", lambda m, f, t, v: t.logsumexp(1, keepdim=v)),
    ("var", "unbiased", lambda m, f, t, v: t.var(1, unbiased=v)),
    ("std", "unbiased", lambda m, f, t, v: t.std(unbiased=v)),
    ("unique", "return_inverse", lambda m, f, t, v: m.unique(t, return_inverse=v)),
    ("unique_consecutive", "return_counts", lambda m, f, t, v: m.unique_consecutive(t, return_counts=v)),
    ("isclose", "equal_nan", lambda m, f, t, v: m.isclose(t, t, equal_nan=v)),
    ("isclose", "equal_nan", lambda m, f, t, v: t.isclose(t, equal_nan=v)),
    ("multinomial", "replacement", lambda m, f, t, v: t.abs().multinomial(2, replacement=v)),
    ("searchsorted", "right", lambda m, f, t, v: m.searchsorted(m.tensor([0.0, 1.0]), t, right=v)),
    ("bucketize", "out_int32", lambda m, f, t, v: m.bucketize(t, m.tensor([0.0]), out_int32=v)),
    ("scatter_reduce", "include_self", lambda m, f, t, v: t.scatter_reduce(0, m.tensor(IDX), t, "sum", include_self=v)),
    ("index_put", "accumulate", lambda m, f, t, v: t.index_put((m.tensor([0]),), m.tensor(1.0), accumulate=v)),
    ("cholesky", "upper", lambda m, f, t, v: m.linalg.cholesky(m.eye(2), upper=v)),
    ("solve", "left", lambda m, f, t, v: m.linalg.solve(m.eye(2), m.ones(2, 2), left=v)),
    ("svd", "some", lambda m, f, t, v: m.svd(t, some=v)),
    ("dropout", "training", lambda m, f, t, v: f.dropout(t, 0.5, training=v)),
    ("rrelu", "training", lambda m, f, t, v: f.rrelu(t, training=v)),
    ("batch_norm", "training", lambda m, f, t, v: f.batch_norm(t, m.zeros(4), m.ones(4), training=v)),
    ("instance_norm", "use_input_stats", lambda m, f, t, v: f.instance_norm(t[None], m.zeros(3), m.ones(3), use_input_stats=v)),
    ("avg_pool1d", "count_include_pad", lambda m, f, t, v: f.avg_pool1d(t[None], 2, count_include_pad=v)),
    ("max_pool1d", "ceil_mode", lambda m, f, t, v: f.max_pool1d(t[None], 2, ceil_mode=v)),
    ("embedding", "sparse", lambda m, f, t, v: f.embedding(m.tensor([0, 2]), t, sparse=v)),
    ("scaled_dot_product_attention", "is_causal", lambda m, f, t, v: f.scaled_dot_product_attention(t[None], t[None], t[None], is_causal=v)),
    ("grid_sample", "align_corners", lambda m, f, t, v: f.grid_sample(t[None, None], m.zeros(1, 1, 1, 2), align_corners=v)),
    ("interpolate", "align_corners", lambda m, f, t, v: f.interpolate(t[None, None], scale_factor=2, mode="bilinear", align_corners=v)),
    ("pairwise_distance", "keepdim", lambda m, f, t, v: f.pairwise_distance(t, t, keepdim=v)),
    ("poisson_nll_loss", "log_input", lambda m, f, t, v: f.poisson_nll_loss(t, t.abs(), log_input=v)),
    ("triplet_margin_loss", "swap", lambda m, f, t, v: f.triplet_margin_loss(t, t, t, swap=v)),
    ("requires_grad_", "requires_grad", lambda m, f, t, v: t.requires_grad_(v)),
    ("zeros_like", "requires_grad", lambda m, f, t, v: m.zeros_like(t, requires_grad=v)),
    ("tensor", "requires_grad", lambda m, f, t, v: m.tensor([1.0], requires_grad=v)),
    ("zeros", "requires_grad", lambda m, f, t, v: m.zeros(2, requires_grad=v)),
    ("asarray", "requires_grad", lambda m, f, t, v: m.asarray([1.0], requires_grad=v)),
    ("hann_window", "periodic", lambda m, f, t, v: m.hann_window(4, periodic=v)),
    ("kaiser_window", "periodic", lambda m, f, t, v: m.kaiser_window(4, periodic=v)),
    ("bartlett_window", "periodic", lambda m, f, t, v: m.bartlett_window(4, periodic=v)),
]  # fmt: skip

NOT_BOOLS = ["no", 1, 0, np.bool_(True)]


def _ids(cases):
    return [f"{c[0]}-{c[1]}{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
@pytest.mark.parametrize("op,arg,call", FLAGS, ids=_ids(FLAGS))
def test_a_flag_that_is_not_a_bool_is_refused_naming_the_op(op, arg, call, value):
    with pytest.raises(TypeError, match=rf"{op}\(\): argument '{arg}' must be bool, not"):
        call(gg, F, gg.tensor(X), value)


@pytest.mark.parametrize("op,arg,call", FLAGS, ids=_ids(FLAGS))
def test_pytorch_refuses_the_same_calls(torch, op, arg, call):
    for value in ("no", 1):
        with pytest.raises(TypeError):
            call(torch, torch.nn.functional, torch.tensor(X), value)


@pytest.mark.parametrize("op,arg,call", FLAGS, ids=_ids(FLAGS))
def test_a_bool_flag_still_works_both_ways(op, arg, call):
    for value in (True, False):
        call(gg, F, gg.tensor(X), value)


def test_descending_no_used_to_sort_descending():
    t = gg.tensor([[3.0, 1.0, 2.0]])
    assert t.sort(descending=False).values.tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(TypeError, match="descending"):
        t.sort(descending="False")


def test_requires_grad_none_is_the_default_for_factories_as_pytorch(torch):
    for lib in (torch, gg):
        assert not lib.zeros(2, requires_grad=None).requires_grad
        assert not lib.zeros(2, pin_memory=None).requires_grad
        assert not lib.ones_like(lib.zeros(2), requires_grad=None).requires_grad


BOOL_DIMS = [
    ("transpose", lambda m, t: t.transpose(True, 0)),
    ("flip", lambda m, t: t.flip(True)),
    ("flip", lambda m, t: t.flip((True,))),
    ("permute", lambda m, t: t.permute(True, 0)),
    ("movedim", lambda m, t: t.movedim(True, 0)),
    ("roll", lambda m, t: t.roll(1, True)),
    ("split", lambda m, t: t.split(2, True)),
    ("cat", lambda m, t: m.cat([t, t], True)),
    ("stack", lambda m, t: m.stack([t, t], True)),
    ("unsqueeze", lambda m, t: t.unsqueeze(True)),
    ("softmax", lambda m, t: t.softmax(True)),
    ("cumsum", lambda m, t: t.cumsum(True)),
    ("argmax", lambda m, t: t.argmax(True)),
    ("sort", lambda m, t: t.sort(True)),
    ("gather", lambda m, t: t.gather(True, m.tensor(IDX))),
    ("index_select", lambda m, t: t.index_select(True, m.tensor([0]))),
    ("chunk", lambda m, t: t.chunk(2, True)),
    ("select", lambda m, t: t.select(True, 0)),
    ("view", lambda m, t: t.view(True, 12)),
]


@pytest.mark.parametrize("op,call", BOOL_DIMS, ids=[f"{c[0]}{i}" for i, c in enumerate(BOOL_DIMS)])
def test_a_bool_dim_is_refused(op, call):
    with pytest.raises(TypeError, match="bool"):
        call(gg, gg.tensor(X))


@pytest.mark.parametrize("op,call", BOOL_DIMS, ids=[f"{c[0]}{i}" for i, c in enumerate(BOOL_DIMS)])
def test_pytorch_refuses_a_bool_dim_too(torch, op, call):
    with pytest.raises(TypeError):
        call(torch, torch.tensor(X))


def test_var_and_std_keep_the_unbiased_overload(torch):
    for name in ("var", "std", "var_mean", "std_mean"):
        got = getattr(gg, name)(gg.tensor(X, dtype=gg.float64), False)
        want = getattr(torch, name)(torch.tensor(X, dtype=torch.float64), False)
        for g, w in zip(
            got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
        ):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    assert gg.tensor(X).var(False).item() != gg.tensor(X).var(True).item()


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_an_rnn_refuses_a_batch_first_that_is_not_a_bool(torch, name):
    for lib in (torch, gg):
        with pytest.raises(TypeError, match="batch_first should be of type bool"):
            getattr(lib.nn, name)(3, 4, batch_first="no")
        getattr(lib.nn, name)(3, 4, batch_first=True)
