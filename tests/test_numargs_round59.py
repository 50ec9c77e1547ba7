"""Round 59's number arguments: a float/Number argument of an ``F`` function given None, a str, a
list or a tensor PyTorch's parser refuses is PyTorch's error class (a TypeError naming the op and the argument), while the 0-d tensors and
NumPy numbers it takes give PyTorch's values."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

A = np.random.default_rng(59).normal(size=(3, 4))


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # (the class is what is compared)
        return "err", e


# ------------------------------------------------------------------ number arguments of F
def _x(lib):
    return lib.tensor(A)


def _x3(lib):
    return lib.tensor(A.reshape(2, 2, 3))


SITES = {  # (call(lib, v), PyTorch's values are deterministic)
    "dropout.p": (lambda lib, v: lib.nn.functional.dropout(_x(lib), p=v, training=False), True),
    "dropout.p.train": (lambda lib, v: lib.nn.functional.dropout(_x(lib), p=v).shape, True),
    "dropout1d.p": (lambda lib, v: lib.nn.functional.dropout1d(_x3(lib), p=v).shape, True),
    "alpha_dropout.p": (lambda lib, v: lib.nn.functional.alpha_dropout(_x(lib), p=v), True),
    "feature_alpha_dropout.p": (
        lambda lib, v: lib.nn.functional.feature_alpha_dropout(_x3(lib), p=v, training=True).shape,
        True,
    ),
    "hardtanh.min_val": (lambda lib, v: lib.nn.functional.hardtanh(_x(lib), min_val=v), True),
    "hardtanh.max_val": (lambda lib, v: lib.nn.functional.hardtanh(_x(lib), max_val=v), True),
    "hardtanh_.max_val": (lambda lib, v: lib.nn.functional.hardtanh(_x(lib), 0.0, v, True), True),
    "rrelu.lower": (lambda lib, v: lib.nn.functional.rrelu(_x(lib), lower=v), True),
    "rrelu.upper": (lambda lib, v: lib.nn.functional.rrelu(_x(lib), upper=v), True),
    "threshold.threshold": (lambda lib, v: lib.nn.functional.threshold(_x(lib), v, 0.0), True),
    "threshold.value": (lambda lib, v: lib.nn.functional.threshold(_x(lib), 0.1, v), True),
    "hardshrink.lambd": (lambda lib, v: lib.nn.functional.hardshrink(_x(lib), v), True),
    "softshrink.lambd": (lambda lib, v: lib.nn.functional.softshrink(_x(lib), v), True),
    "elu.alpha": (lambda lib, v: lib.nn.functional.elu(_x(lib), alpha=v), True),
    "celu.alpha": (lambda lib, v: lib.nn.functional.celu(_x(lib), alpha=v), True),
    "leaky_relu.negative_slope": (lambda lib, v: lib.nn.functional.leaky_relu(_x(lib), v), True),
    "softplus.beta": (lambda lib, v: lib.nn.functional.softplus(_x(lib), beta=v), True),
    "softplus.threshold": (lambda lib, v: lib.nn.functional.softplus(_x(lib), threshold=v), True),
    "huber_loss.delta": (lambda lib, v: lib.nn.functional.huber_loss(_x(lib), _x(lib) * 2, delta=v), True),
    "smooth_l1_loss.beta": (
        lambda lib, v: lib.nn.functional.smooth_l1_loss(_x(lib), _x(lib) * 2, beta=v),
        True,
    ),
    "margin_ranking_loss.margin": (
        lambda lib, v: lib.nn.functional.margin_ranking_loss(
            _x(lib)[0], _x(lib)[1], lib.tensor([1.0, -1.0, 1.0, -1.0], dtype=lib.float64), margin=v
        ),
        True,
    ),
    "hinge_embedding_loss.margin": (
        lambda lib, v: lib.nn.functional.hinge_embedding_loss(_x(lib), _x(lib).sign(), margin=v),
        True,
    ),
    "triplet_margin_loss.margin": (
        lambda lib, v: lib.nn.functional.triplet_margin_loss(_x(lib), _x(lib) * 2, -_x(lib), margin=v),
        True,
    ),
    "pairwise_distance.eps": (
        lambda lib, v: lib.nn.functional.pairwise_distance(_x(lib), _x(lib) * 2, eps=v),
        True,
    ),
    "group_norm.eps": (lambda lib, v: lib.nn.functional.group_norm(_x3(lib), 1, eps=v), True),
    "sdpa.dropout_p": (
        lambda lib, v: lib.nn.functional.scaled_dot_product_attention(
            _x3(lib), _x3(lib), _x3(lib), dropout_p=v
        ),
        True,
    ),
}
VALUES = {  # the value each site is given (0.25: a valid p, bound, slope, margin and eps)
    "None": lambda lib: None,
    "str": lambda lib: "a",
    "list": lambda lib: [0.25],
    "tensor2d": lambda lib: lib.full((2, 2), 0.25, dtype=lib.float64),
    "tensor1": lambda lib: lib.tensor([0.25], dtype=lib.float64),
    "tensor0_grad": lambda lib: lib.tensor(0.25, dtype=lib.float64, requires_grad=True),
    "tensor0": lambda lib: lib.tensor(0.25, dtype=lib.float64),
    "numpy_float": lambda lib: np.float64(0.25),
}


def _same(torch, site, value):
    call, deterministic = SITES[site]
    tv = 0.0 if site == "sdpa.dropout_p" and value in ("tensor0", "numpy_float") else None
    make = (lambda lib: tv) if tv is not None else VALUES[value]
    st, rt = _outcome(lambda: call(torch, make(torch)))
    sg, rg = _outcome(lambda: call(gg, make(gg)))
    assert st == sg, (rt, rg)
    if st == "err":
        assert isinstance(rg, type(rt)), (rt, rg)
        op, arg = site.split(".")[:2]
        if isinstance(rt, TypeError):  # PyTorch's parser's words: the op and the argument
            assert op.rstrip("_").replace("sdpa", "scaled_dot_product_attention") in str(rg), rg
            assert repr(arg) in str(rg), rg
        return
    if deterministic:
        if isinstance(rt, tuple):  # a shape
            assert tuple(rg) == tuple(rt)
        else:
            np.testing.assert_allclose(rg.detach().numpy(), rt.detach().numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("site", sorted(SITES))
def test_number_argument_as_pytorch(torch, site, value):
    """PyTorch's raise-or-not and error class for each value; its values where both run."""
    _same(torch, site, value)


@pytest.mark.parametrize("value", [None, "a", [2]])
def test_group_norm_num_groups_refused_as_pytorch(torch, value):
    with pytest.raises(TypeError):
        torch.nn.functional.group_norm(torch.tensor(A.reshape(2, 2, 3)), value)
    with pytest.raises(TypeError, match="group_norm.*num_groups"):
        gg.nn.functional.group_norm(gg.tensor(A.reshape(2, 2, 3)), value)


def test_group_norm_num_groups_zero_dim_tensor_as_pytorch(torch):
    t = torch.nn.functional.group_norm(torch.tensor(A.reshape(2, 2, 3)), torch.tensor(2))
    g = gg.nn.functional.group_norm(gg.tensor(A.reshape(2, 2, 3)), gg.tensor(2))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12, atol=1e-15)


def test_dropout_of_several_element_p_is_pytorchs_runtime_error():
    """F.dropout compares p in Python first in PyTorch: a tensor of several elements is the
    RuntimeError of its ambiguous truth value there, not the parser's TypeError."""
    with pytest.raises(RuntimeError, match="dropout.*'p'"):
        gg.nn.functional.dropout(gg.tensor(A), p=gg.full((2,), 0.5))
