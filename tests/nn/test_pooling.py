"""Pooling layers and functions: PyTorch parity (outputs, input gradients, indices, reprs),
first-maximum routing on ties, accumulation where windows overlap, the course's 2x2 example, errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def parity(torch, ours, theirs, x: np.ndarray, **call):
    """Same output (and indices, if returned) and the same input gradient; no state to copy."""
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    assert repr(ours) == repr(theirs)
    g, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(g, **call), theirs(t, **call)
    if isinstance(tout, tuple):
        (out, idx), (tout, tidx) = out, tout
        np.testing.assert_array_equal(idx._data, tidx.numpy())
        assert idx.dtype == gg.int64
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    up = randn(*out.shape)
    out.backward(gg.tensor(up))
    tout.backward(torch.from_numpy(up))
    np.testing.assert_allclose(g.grad._data, t.grad.numpy(), rtol=1e-5, atol=1e-6)


MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),  # overlapping windows
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1)),
    dict(kernel_size=2, stride=2, ceil_mode=True, return_indices=True),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, return_indices=True),
]


@pytest.mark.parametrize("kw", MAX2D, ids=str)
def test_max_pool2d_matches_pytorch(torch, kw):
    parity(torch, nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), randn(2, 3, 9, 8))


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3),
        dict(kernel_size=3, stride=1, padding=1, dilation=2),
        dict(kernel_size=2, ceil_mode=True, return_indices=True),
    ],
    ids=str,
)
def test_max_pool1d_matches_pytorch(torch, kw):
    parity(torch, nn.MaxPool1d(**kw), torch.nn.MaxPool1d(**kw), randn(2, 3, 11))


AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=2, padding=(1, 0), ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
]


@pytest.mark.parametrize("kw", AVG2D, ids=str)
def test_avg_pool2d_matches_pytorch(torch, kw):
    parity(torch, nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), randn(2, 3, 9, 8))


@pytest.mark.parametrize(
    "kw",
    [dict(kernel_size=3), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)],
    ids=str,
)
def test_avg_pool1d_matches_pytorch(torch, kw):
    parity(torch, nn.AvgPool1d(**kw), torch.nn.AvgPool1d(**kw), randn(2, 3, 11))


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (4, None), 7])
def test_adaptive_pools_2d_match_pytorch(torch, size):
    x = randn(2, 3, 7, 9)
    parity(torch, nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x)
    parity(torch, nn.AdaptiveMaxPool2d(size), torch.nn.AdaptiveMaxPool2d(size), x)
    parity(torch, nn.AdaptiveMaxPool2d(size, True), torch.nn.AdaptiveMaxPool2d(size, True), x)


def test_adaptive_pools_1d_match_pytorch(torch):
    x = randn(2, 3, 10)
    for size in (1, 3, 4, 12):
        parity(torch, nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size), x)
        parity(torch, nn.AdaptiveMaxPool1d(size, True), torch.nn.AdaptiveMaxPool1d(size, True), x)


def test_lp_pool_matches_pytorch(torch):
    x = np.abs(randn(2, 3, 8, 7)) + 0.1
    parity(torch, nn.LPPool2d(2, 2), torch.nn.LPPool2d(2, 2), x)
    parity(
        torch,
        nn.LPPool2d(3, (3, 2), stride=2, ceil_mode=True),
        torch.nn.LPPool2d(3, (3, 2), stride=2, ceil_mode=True),
        x,
    )
    parity(torch, nn.LPPool1d(2, 3), torch.nn.LPPool1d(2, 3), x[:, :, 0])


@pytest.mark.parametrize("nd", [1, 2])
def test_max_unpool_matches_pytorch(torch, nd):
    x = randn(2, 3, 8, 8)[:, :, 0] if nd == 1 else randn(2, 3, 8, 8)
    pool = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    tout, tidx = pool(torch.from_numpy(x))
    ours, theirs = getattr(nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    assert repr(ours) == repr(theirs)
    g = gg.tensor(tout.numpy(), requires_grad=True)
    t = tout.detach().requires_grad_()
    out, ref = ours(g, gg.tensor(tidx.numpy())), theirs(t, tidx)
    np.testing.assert_array_equal(out._data, ref.detach().numpy())
    up = randn(*out.shape)
    out.backward(gg.tensor(up))
    ref.backward(torch.from_numpy(up))
    np.testing.assert_array_equal(g.grad._data, t.grad.numpy())


@pytest.mark.parametrize("nd", [1, 2])
def test_max_unpool_after_overlapping_windows_matches_pytorch(torch, nd):
    """Stride below the kernel: one input element can be the maximum of several windows, so its
    index repeats; it is written once (PyTorch), not summed."""
    x = randn(2, 3, 7, 7)[:, :, 0] if nd == 1 else randn(2, 3, 7, 7)
    tout, tidx = getattr(torch.nn.functional, f"max_pool{nd}d")(
        torch.from_numpy(x), 3, 1, return_indices=True
    )
    g = gg.tensor(tout.numpy(), requires_grad=True)
    t = tout.detach().requires_grad_()
    unpool = f"max_unpool{nd}d"
    out = getattr(F, unpool)(g, gg.tensor(tidx.numpy()), 3, 1)
    ref = getattr(torch.nn.functional, unpool)(t, tidx, 3, 1)
    np.testing.assert_array_equal(out._data, ref.detach().numpy())
    up = randn(*out.shape)
    out.backward(gg.tensor(up))
    ref.backward(torch.from_numpy(up))
    np.testing.assert_array_equal(g.grad._data, t.grad.numpy())


# ------------------------------------------------------------------ routing
def test_two_by_two_max_pool_backward_routes_to_the_maximum_only():
    """The course's example: each window's gradient lands on its maximum, every other pixel gets 0."""
    x = gg.tensor(
        [[[[1.0, 3.0, 2.0, 1.0], [4.0, 2.0, 0.0, 5.0], [1.0, 1.0, 3.0, 2.0], [0.0, 2.0, 1.0, 4.0]]]],
        requires_grad=True,
    )
    out = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(out._data[0, 0], [[4.0, 5.0], [2.0, 4.0]])
    out.backward(gg.tensor([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = [[0, 0, 0, 0], [10, 0, 0, 20], [0, 0, 0, 0], [0, 30, 0, 40]]
    np.testing.assert_array_equal(x.grad._data[0, 0], np.array(expected, dtype=np.float32))


def test_ties_route_to_the_first_maximum():
    """A window of equal values sends its whole gradient to its first element (row-major), as PyTorch."""
    x = gg.ones(1, 1, 4, 4, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.backward(gg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(x.grad._data[0, 0], np.array(expected, dtype=np.float32))
    np.testing.assert_array_equal(idx._data[0, 0], [[0, 2], [8, 10]])
    # a later tie after a smaller value: [5, 1, 5] -> the first 5
    y = gg.tensor([[[5.0, 1.0, 5.0]]], requires_grad=True)
    F.max_pool1d(y, 3).sum().backward()
    np.testing.assert_array_equal(y.grad._data[0, 0], [1.0, 0.0, 0.0])
    z = gg.tensor([[[1.0, 7.0, 7.0, 2.0]]], requires_grad=True)
    F.adaptive_max_pool1d(z, 1).sum().backward()
    np.testing.assert_array_equal(z.grad._data[0, 0], [0.0, 1.0, 0.0, 0.0])


def test_ties_match_pytorch(torch):
    x = np.round(randn(2, 2, 7, 7)).astype(np.float32)  # many ties
    parity(
        torch, nn.MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True), x
    )
    parity(torch, nn.MaxPool2d(2, 1), torch.nn.MaxPool2d(2, 1), x)


def test_overlapping_windows_accumulate():
    """A pixel that is the maximum of several overlapping windows collects all their gradients."""
    x = gg.tensor([[[0.0, 1.0, 9.0, 1.0, 0.0]]], requires_grad=True)
    out = F.max_pool1d(x, 3, stride=1)  # windows [0,1,9], [1,9,1], [9,1,0]: all pick the 9
    np.testing.assert_array_equal(out._data[0, 0], [9.0, 9.0, 9.0])
    out.backward(gg.tensor([[[1.0, 10.0, 100.0]]]))
    np.testing.assert_array_equal(x.grad._data[0, 0], [0.0, 0.0, 111.0, 0.0, 0.0])


def test_nan_propagates_like_pytorch(torch):
    x = randn(1, 1, 4, 4)
    x[0, 0, 1, 2] = np.nan
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan  # two NaNs in one window: PyTorch keeps the last
    (ours, idx) = F.max_pool2d(gg.tensor(x), 2, return_indices=True)
    theirs, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(ours._data, theirs.numpy())
    np.testing.assert_array_equal(idx._data, tidx.numpy())


# ------------------------------------------------------------------ errors
def test_pool_errors():
    x = gg.zeros(1, 2, 4, 4)
    with pytest.raises(
        ShapeError, match=r"max_pool2d: expected padding at most half the kernel size \(2, 2\), got \(2, 2\)"
    ):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(
        ShapeError, match=r"max_pool2d: expected a padded input at least as large as the \(dilated\) kernel"
    ):
        F.max_pool2d(x, 5)
    with pytest.raises(
        ShapeError,
        match=r"avg_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(4, 4\)",
    ):
        F.avg_pool2d(gg.zeros(4, 4), 2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        F.max_pool2d(gg.zeros(1, 2, 4, 4, dtype=gg.bool), 2)  # integers are taken (test_pool_integer.py)
    with pytest.raises(ShapeError, match="output_size"):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(ShapeError, match="max_unpool2d: expected indices"):
        F.max_unpool2d(gg.zeros(1, 2, 2, 2), gg.zeros(1, 2, 3, 3, dtype=gg.int64), 2)


@pytest.mark.parametrize(
    ("name", "shape", "kw"),
    [
        ("avg_pool1d", (1, 1, 2), {"kernel_size": 3}),
        ("avg_pool2d", (1, 1, 2, 2), {"kernel_size": 3}),
        ("avg_pool2d", (1, 1, 2, 5), {"kernel_size": (3, 2), "stride": 1, "ceil_mode": True}),
        ("avg_pool3d", (1, 1, 2, 2, 2), {"kernel_size": 3}),
    ],
)
def test_avg_pool_input_smaller_than_kernel_refused_as_torch(torch, name, shape, kw):
    """No output window fits: PyTorch refuses, so do we, by name."""
    with pytest.raises(RuntimeError, match="too small|smaller than kernel"):
        getattr(torch.nn.functional, name)(torch.zeros(shape), **kw)
    with pytest.raises(ShapeError, match=rf"{name}: expected (a padded|an) input at least as large as the"):
        getattr(F, name)(gg.zeros(*shape), **kw)


@pytest.mark.parametrize("size", [(9, 9), (2, 2), (6, 6), (3, 7)])
def test_max_unpool_output_size_outside_one_stride_is_refused_as_torch(torch, size):
    # (9, 9) was accepted: the 4x4 plane's flat indices were reused on a 9-wide plane
    x = gg.arange(16.0).reshape(1, 1, 4, 4)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        torch.nn.functional.max_unpool2d(ty, tidx, 2, output_size=size)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size .* must be between 2 and 6"):
        F.max_unpool2d(y, idx, 2, output_size=size)


def test_max_unpool_output_size_within_one_stride_matches_torch(torch):
    x = gg.arange(16.0).reshape(1, 1, 4, 4)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    for size in [(5, 5), (1, 1, 4, 5)]:
        ours = F.max_unpool2d(y, idx, 2, output_size=size)
        np.testing.assert_array_equal(
            ours.numpy(), torch.nn.functional.max_unpool2d(ty, tidx, 2, output_size=size).numpy()
        )


@pytest.mark.parametrize(
    "nd, shape, kw",
    [
        (2, (2, 3, 7, 6), dict(kernel_size=2)),
        (2, (2, 3, 7, 6), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
        (2, (2, 3, 7, 6), dict(kernel_size=2, divisor_override=3)),
        (2, (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
        (3, (1, 2, 4, 5, 6), dict(kernel_size=2)),
    ],
)
def test_int64_average_pooling_truncates_as_pytorch(torch, nd, shape, kw):
    # PyTorch's CPU kernel sums int64 windows exactly and divides with truncation toward zero
    x = np.random.default_rng(nd).integers(-50, 50, shape)
    ours = getattr(gg.nn.functional, f"avg_pool{nd}d")(gg.tensor(x), **kw)
    theirs = getattr(torch.nn.functional, f"avg_pool{nd}d")(torch.tensor(x), **kw)
    assert ours.dtype == gg.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_other_integer_average_pooling_is_refused_as_pytorch(torch):
    x = np.ones((1, 1, 2, 2), np.int32)
    with pytest.raises(NotImplementedError):
        torch.nn.functional.avg_pool2d(torch.tensor(x), 2)
    with pytest.raises(NotImplementedError, match="avg_pool2d: \"avg_pool2d\" not implemented for 'Int'"):
        gg.nn.functional.avg_pool2d(gg.tensor(x), 2)


def test_int64_average_pooling_of_a_sum_of_exactly_int64_min(torch):
    # was: sign(sum) * (abs(sum) // n), and abs(-2**63) wraps to -2**63: 2**62 where PyTorch gives -2**62
    x = np.array([[[-(2**63), 0, -(2**63) + 1, -1, -7, 2]]], np.int64)
    for kw in (dict(kernel_size=2), dict(kernel_size=1), dict(kernel_size=3, stride=1, padding=1)):
        ours = F.avg_pool1d(gg.tensor(x), **kw)
        theirs = torch.nn.functional.avg_pool1d(torch.tensor(x), **kw)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
