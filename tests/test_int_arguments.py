"""An int argument given a float is refused, as PyTorch's parser refuses it: ``int()`` truncated
it silently (``t.diagonal(1.5)`` was the first diagonal, ``t.select(0, 1.7)`` row 1,
``t.tril(0.5)`` the main triangle). Ints, NumPy integers and one-element integer tensors pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

CASES = [
    ("select", lambda m, f, t: t.select(0, 1.7)),
    ("narrow", lambda m, f, t: t.narrow(1, 0.0, 2)),
    ("narrow", lambda m, f, t: t.narrow(1, 0, 2.0)),
    ("diagonal", lambda m, f, t: t.diagonal(1.5)),
    ("tril", lambda m, f, t: t.tril(0.5)),
    ("triu", lambda m, f, t: m.triu(t, 1.0)),
    ("diag", lambda m, f, t: m.diag(t, 1.5)),
    ("one_hot", lambda m, f, t: f.one_hot(m.tensor([0, 1]), 3.0)),
    ("linspace", lambda m, f, t: m.linspace(0, 1, 3.0)),
    ("logspace", lambda m, f, t: m.logspace(0, 1, 3.0)),
    ("randint", lambda m, f, t: m.randint(0, 5.5, (2,))),
    ("randperm", lambda m, f, t: m.randperm(3.0)),
    ("pixel_shuffle", lambda m, f, t: f.pixel_shuffle(m.ones(1, 4, 2, 2), 2.0)),
    ("pixel_unshuffle", lambda m, f, t: f.pixel_unshuffle(m.ones(1, 1, 4, 4), 2.0)),
]


@pytest.mark.parametrize("name,call", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_a_float_int_argument_is_refused_naming_the_op(name, call):
    with pytest.raises(TypeError, match=rf"{name}\(\): argument '\w+' must be int, not float"):
        call(gg, F, gg.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize("name,call", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_pytorch_refuses_the_same_calls(torch, name, call):
    with pytest.raises(TypeError):
        call(torch, torch.nn.functional, torch.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, t, i: t.select(0, i),
        lambda m, t, i: t.narrow(1, i, 2),
        lambda m, t, i: t.diagonal(i),
        lambda m, t, i: t.tril(i),
        lambda m, t, i: m.triu(t, i),
        lambda m, t, i: m.diag(t, i),
    ],
)
@pytest.mark.parametrize("kind", ["int", "numpy", "tensor"])
def test_integers_of_every_kind_still_pass(torch, call, kind):
    def index(m):
        return {"int": 1, "numpy": np.int64(1), "tensor": m.tensor(1)}[kind]

    ours = call(gg, gg.arange(12.0).reshape(3, 4), index(gg))
    theirs = call(torch, torch.arange(12.0).reshape(3, 4), index(torch))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_ignore_index_given_a_float_is_refused(torch):
    scores, target = np.arange(12.0).reshape(3, 4), np.array([0, 1, 2])
    for lib, fn in ((gg, F), (torch, torch.nn.functional)):
        for loss in (fn.cross_entropy, fn.nll_loss):
            with pytest.raises(TypeError):
                loss(lib.tensor(scores), lib.tensor(target), ignore_index=1.5)
    ours = F.cross_entropy(gg.tensor(scores), gg.tensor(target), ignore_index=np.int64(1))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(scores), torch.tensor(target), ignore_index=1)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.bernoulli(m.tensor([0.2, 1.5])),
        lambda m: m.bernoulli(m.tensor([float("nan")])),
        lambda m: m.bernoulli(m.tensor([0.5]), 1.5),
        lambda m: m.tensor([0.2]).bernoulli(p=-0.1),
        lambda m: m.zeros(2).bernoulli_(1.5),
        lambda m: m.zeros(2).bernoulli_(m.tensor([0.5, 1.5])),
    ],
)
def test_a_probability_outside_zero_one_is_refused(torch, call):
    # rand < p read 1.5 as certain and -0.1 as never, silently
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=r"bernoulli_?: expected probabilities p in \[0, 1\]"):
        call(gg)


def test_dropout_takes_a_zero_dim_tensor_p(torch):
    for lib, fn in ((gg, F), (torch, torch.nn.functional)):
        x = lib.ones(1000, dtype=lib.float64)
        kept = fn.dropout(x, lib.tensor(0.25))
        assert set(np.unique(kept.numpy()).tolist()) <= {0.0, 1 / 0.75}
    assert F.dropout(gg.ones(3), gg.tensor(0.0)).tolist() == [1.0, 1.0, 1.0]
