"""``glassgrad.masked`` (round 66): the ``mask=`` reductions and normalizations of
``torch.masked`` on strided tensors, as PyTorch parity of values, dtypes and gradients, with fully
masked-out rows, broadcast masks, integer inputs and PyTorch's errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

# (name, positional args after the input, keywords) for a (3, 4) input
REDUCTIONS = [
    ("sum", (1,), {}), ("sum", (), {}), ("sum", ((0, 1),), {"keepdim": True}),
    ("prod", (1,), {}), ("prod", ((0, 1),), {}),
    ("amax", (1,), {}), ("amin", (0,), {"keepdim": True}),
    ("mean", (1,), {}), ("mean", (None,), {}),
    ("norm", (2.0, 1), {}), ("norm", (1.0, 0), {}), ("norm", (math.inf, 1), {}), ("norm", (-math.inf, 1), {}),
    ("var", (1,), {}), ("var", (1,), {"correction": 0}), ("std", (0,), {"keepdim": True}), ("std", (1, False), {}),
    ("logsumexp", (1,), {}), ("median", (1,), {}),
    ("cumsum", (1,), {}), ("cumprod", (0,), {}),
    ("softmax", (1,), {}), ("log_softmax", (0,), {}), ("softmin", (1,), {}),
    ("normalize", (2.0, 1), {}),
]  # fmt: skip
ARGS = [("argmax", (1,), {}), ("argmin", (0,), {"keepdim": True}), ("argmax", (None,), {})]


def _mask(rng, shape):
    m = rng.random(shape) > 0.4
    m[0] = False  # a row with every element masked out: each op's identity or NaN
    return m


def _call(lib, name, x, args, kw, mask):
    return getattr(lib.masked, name)(x, *args, mask=mask, **kw)


@pytest.mark.parametrize("name,args,kw", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_masked_ops_match_pytorch(torch, name, args, kw, dtype):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, (3, 4)).astype(dtype)
    m = _mask(rng, (3, 4))
    xt = torch.tensor(a, requires_grad=True)
    xg = gg.tensor(a, requires_grad=True)
    yt = _call(torch, name, xt, args, kw, torch.tensor(m))
    yg = _call(gg, name, xg, args, kw, gg.tensor(m))
    assert str(yg.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    assert tuple(yg.shape) == tuple(yt.shape)
    tol = {"rtol": 1e-12, "atol": 0} if dtype == "float64" else {"rtol": 2e-6, "atol": 1e-7}
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), **tol)
    if dtype == "float64" and name != "median":
        c = rng.standard_normal(tuple(yt.shape))
        keep = np.isfinite(yt.detach().numpy())  # a cotangent on a -inf/NaN row is not informative
        c = np.where(keep, c, 0.0)
        (gt,) = torch.autograd.grad(yt, xt, torch.tensor(c))
        (gl,) = gg.autograd.grad(yg, xg, gg.tensor(c))
        np.testing.assert_allclose(gl.numpy(), gt.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,args,kw", ARGS)
def test_masked_argmax_argmin_in_the_input_dtype(torch, name, args, kw):
    """PyTorch converts the index to ``dtype``, the input's by default: a float index."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4))
    m = rng.random((3, 4)) > 0.3
    m[:, 0] = True
    yt = _call(torch, name, torch.tensor(a), args, kw, torch.tensor(m))
    yg = _call(gg, name, gg.tensor(a), args, kw, gg.tensor(m))
    assert str(yg.dtype).endswith("float64") and str(yt.dtype).endswith("float64")
    np.testing.assert_array_equal(yg.numpy(), yt.numpy())


# cumsum of bool: PyTorch's kernel refuses dtype=bool, and glassgrad's cumsum too (round 67)
INT_CASES = [
    (n, d) for n in ("sum", "prod", "amax", "amin", "cumsum") for d in ("int64", "int32", "uint8", "bool")
]


@pytest.mark.parametrize("name,dtype", INT_CASES)
def test_masked_integer_inputs(torch, dtype, name):
    """Integers: sum/prod widen to int64 (no dtype given), amax/amin fill with the int's bounds."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 3, (3, 4)).astype(dtype)
    m = _mask(rng, (3, 4))
    run = lambda lib, x, mk: getattr(lib.masked, name)(x, 1, mask=mk)  # noqa: E731
    try:
        yt = run(torch, torch.tensor(a), torch.tensor(m))
    except Exception as e:  # bool amax: no identity in PyTorch either
        with pytest.raises(type(e)):
            run(gg, gg.tensor(a), gg.tensor(m))
        return
    yg = run(gg, gg.tensor(a), gg.tensor(m))
    assert str(yg.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_array_equal(yg.numpy(), yt.numpy())


def test_masked_mask_broadcasts_and_none_keeps_all(torch):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 4))
    m = np.array([True, False, True, True])  # broadcasts over the leading dims
    for mt, mg in ((torch.tensor(m), gg.tensor(m)), (None, None)):
        yt = torch.masked.sum(torch.tensor(a), 2, mask=mt)
        yg = gg.masked.sum(gg.tensor(a), 2, mask=mg)
        np.testing.assert_allclose(yg.numpy(), yt.numpy(), rtol=1e-12)
    yt = torch.masked.logaddexp(torch.tensor(a), torch.tensor(a[::-1].copy()), input_mask=torch.tensor(m))
    yg = gg.masked.logaddexp(gg.tensor(a), gg.tensor(a[::-1].copy()), input_mask=gg.tensor(m))
    np.testing.assert_allclose(yg.numpy(), yt.numpy(), rtol=1e-12)


def test_masked_errors_match_pytorch(torch):
    x, m = np.ones((3, 4)), np.ones((2, 3, 4), dtype=bool)
    cases = [
        (lambda L, t: L.masked.sum(t(x), 1, mask=t(m)), IndexError),  # mask of higher rank
        (lambda L, t: L.masked.sum(t(x), (1, 1)), RuntimeError),  # a dim twice
        (lambda L, t: L.masked.sum(t(x), 2), IndexError),  # out of range
        (lambda L, t: L.masked.mean(t(x.astype("int64")), 1), ValueError),  # no float dtype
    ]
    for call, kind in cases:
        with pytest.raises(kind):
            call(torch, torch.tensor)
        with pytest.raises(kind):
            call(gg, gg.tensor)
