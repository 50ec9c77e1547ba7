"""Max pooling of integer tensors: PyTorch parity (values, dtype, int64 indices) for every integer
dtype PyTorch's CPU forward takes, over 1-D/2-D/3-D with padding, dilation, ceil_mode and
return_indices, values at the dtype's extremes (the padding is the dtype's minimum, so a window
that holds only the minimum must still index a real element), unbatched inputs and the modules; and
the same refusals as PyTorch for the rest (bool, uint16 to uint64, complex; integer max_pool1d
without return_indices; integer adaptive max pooling).

PyTorch refuses a dtype with ``NotImplementedError`` ("... not implemented for 'Bool'"); so does
glassgrad since round 60, in PyTorch's words (a ``KernelDTypeError``: also glassgrad's
``DTypeError`` and a ``RuntimeError``).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError

RNG = np.random.default_rng(0)

INTS = [np.uint8, np.int8, np.int16, np.int32, np.int64]  # PyTorch's CPU max pooling takes these
REFUSED = [np.bool_, np.uint16, np.uint32, np.uint64, np.complex64]

SHAPES = {1: (2, 3, 11), 2: (2, 3, 9, 8), 3: (2, 2, 5, 6, 7)}
CASES = [
    (1, dict(kernel_size=2, return_indices=True)),
    (1, dict(kernel_size=3, stride=1, padding=1, return_indices=True)),
    (1, dict(kernel_size=3, stride=2, padding=1, dilation=2, return_indices=True)),
    (1, dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, return_indices=True)),
    (2, dict(kernel_size=2)),
    (2, dict(kernel_size=3, stride=1, padding=1)),
    (2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    (2, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1), return_indices=True)),
    (2, dict(kernel_size=2, ceil_mode=True, return_indices=True)),
    (3, dict(kernel_size=2)),
    (3, dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    (
        3,
        dict(
            kernel_size=(2, 3, 3),
            stride=(1, 2, 2),
            padding=(1, 1, 0),
            dilation=(1, 1, 2),
            ceil_mode=True,
            return_indices=True,
        ),
    ),
]


def values(dtype: type, kind: str, shape: tuple) -> np.ndarray:
    """``kind``: "extremes" (only the three lowest and three highest values of the dtype, so ties
    abound), "min" (every element the minimum: ties with the padding), "max", or "random" (whole range)."""
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    if kind == "extremes":
        return RNG.choice(np.array([lo, lo + 1, lo + 2, hi - 2, hi - 1, hi], dtype=dtype), size=shape)
    if kind == "min":
        return np.full(shape, lo, dtype=dtype)
    if kind == "max":
        return np.full(shape, hi, dtype=dtype)
    return RNG.integers(lo, hi, size=shape, dtype=dtype, endpoint=True)


def same(torch, ours, theirs) -> None:
    """Same result (and indices), same dtype; indices int64."""
    if isinstance(theirs, tuple):
        (ours, idx), (theirs, tidx) = ours, theirs
        assert idx.dtype == gg.int64 and tidx.dtype == torch.int64
        np.testing.assert_array_equal(idx._data, tidx.numpy())
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours._data.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours._data, theirs.numpy())


def refused(torch, ours, theirs, x: np.ndarray) -> None:
    """Both refuse ``x`` with NotImplementedError, glassgrad's message holding PyTorch's (the kernel
    and the dtype); glassgrad's is a DTypeError too (see the docstring)."""
    with pytest.raises(NotImplementedError, match="not implemented for") as theirs_error:
        theirs(torch.from_numpy(x))
    with pytest.raises(DTypeError) as ours_error:
        ours(gg.tensor(x))
    assert isinstance(ours_error.value, NotImplementedError)
    assert str(theirs_error.value) in str(ours_error.value)


@pytest.mark.parametrize("kind", ["extremes", "min", "max", "random"])
@pytest.mark.parametrize(("nd", "kw"), CASES, ids=str)
@pytest.mark.parametrize("dtype", INTS, ids=lambda d: d.__name__)
def test_max_pool_integer_matches_pytorch(torch, dtype, nd, kw, kind):
    x = values(dtype, kind, SHAPES[nd])
    name = f"max_pool{nd}d"
    same(
        torch,
        getattr(F, name)(gg.tensor(x), **kw),
        getattr(torch.nn.functional, name)(torch.from_numpy(x), **kw),
    )


def test_padding_never_wins_at_the_minimum(torch):
    """A window of minima beside the padding: value the minimum, index its first real element (the
    padding holds the same minimum, so a first-maximum loop over the padded taps would pick a pad)."""
    x = np.full((1, 1, 3, 3), np.iinfo(np.int8).min, dtype=np.int8)
    out, idx = F.max_pool2d(gg.tensor(x), 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(out._data, x)
    np.testing.assert_array_equal(idx._data[0, 0], [[0, 0, 1], [0, 0, 1], [3, 3, 4]])  # PyTorch's
    same(torch, (out, idx), torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 1, 1, return_indices=True))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", INTS, ids=lambda d: d.__name__)
def test_unbatched_integer_matches_pytorch(torch, dtype, nd):
    x = values(dtype, "extremes", SHAPES[nd][1:])
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    name = f"max_pool{nd}d"
    out = getattr(F, name)(gg.tensor(x), **kw)
    assert out[0].shape == tuple(getattr(torch.nn.functional, name)(torch.from_numpy(x), **kw)[0].shape)
    same(torch, out, getattr(torch.nn.functional, name)(torch.from_numpy(x), **kw))
    if nd > 1:  # PyTorch's max_pool1d takes integers only with return_indices
        kw["return_indices"] = False
        same(
            torch,
            getattr(F, name)(gg.tensor(x), **kw),
            getattr(torch.nn.functional, name)(torch.from_numpy(x), **kw),
        )


@pytest.mark.parametrize("dtype", INTS, ids=lambda d: d.__name__)
def test_modules_integer_match_pytorch(torch, dtype):
    for nd, kw in [
        (1, dict(return_indices=True)),
        (2, {}),
        (2, dict(padding=1)),
        (3, dict(return_indices=True)),
    ]:
        x = values(dtype, "extremes", SHAPES[nd])
        ours, theirs = (
            getattr(nn, f"MaxPool{nd}d")(3, 2, **kw),
            getattr(torch.nn, f"MaxPool{nd}d")(3, 2, **kw),
        )
        same(torch, ours(gg.tensor(x)), theirs(torch.from_numpy(x)))


def test_channels_last_integer_matches_pytorch(torch):
    x = values(np.int16, "random", (2, 3, 6, 6))
    t = torch.from_numpy(x).to(memory_format=torch.channels_last)
    g = gg.tensor(x).to(memory_format=gg.channels_last)
    out, tout = (
        F.max_pool2d(g, 2, return_indices=True),
        torch.nn.functional.max_pool2d(t, 2, return_indices=True),
    )
    same(torch, out, tout)
    for o, r in zip(out, tout):
        assert o.is_contiguous(memory_format=gg.channels_last) == r.is_contiguous(
            memory_format=torch.channels_last
        )


@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", REFUSED, ids=lambda d: d.__name__)
def test_refused_dtypes_as_pytorch(torch, dtype, nd, return_indices):
    x = np.zeros(SHAPES[nd], dtype=dtype)
    name = f"max_pool{nd}d"
    refused(
        torch,
        lambda a: getattr(F, name)(a, 2, return_indices=return_indices),
        lambda a: getattr(torch.nn.functional, name)(a, 2, return_indices=return_indices),
        x,
    )


@pytest.mark.parametrize("dtype", INTS, ids=lambda d: d.__name__)
def test_integer_max_pool1d_without_indices_refused_as_pytorch(torch, dtype):
    """PyTorch's CPU max_pool1d runs a float-only kernel unless indices are asked for."""
    x = values(dtype, "random", SHAPES[1])
    refused(torch, lambda a: F.max_pool1d(a, 2), lambda a: torch.nn.functional.max_pool1d(a, 2), x)
    refused(torch, lambda a: nn.MaxPool1d(3, 1, 1)(a), lambda a: torch.nn.MaxPool1d(3, 1, 1)(a), x)
    refused(torch, lambda a: F.max_pool1d(a[0], 2), lambda a: torch.nn.functional.max_pool1d(a[0], 2), x)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", INTS, ids=lambda d: d.__name__)
def test_integer_adaptive_max_pool_refused_as_pytorch(torch, dtype, nd):
    x = values(dtype, "random", SHAPES[nd])
    name = f"adaptive_max_pool{nd}d"
    refused(torch, lambda a: getattr(F, name)(a, 2), lambda a: getattr(torch.nn.functional, name)(a, 2), x)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_float_minus_inf_windows_at_padded_borders_point_at_real_elements(torch, nd):
    # The same tie as an integer minimum: -inf equals the padding's fill, and PyTorch's loop never
    # reads the padding, so the index (and the gradient) goes to the window's first real element.
    a = np.full((1, 2) + (3,) * nd, -np.inf)
    a[0, 1, (1,) * nd] = 2.0  # one plane all -inf, one with a real maximum
    outs = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        pool = getattr(lib.nn.functional, f"max_pool{nd}d")
        y, idx = pool(x, 3, stride=1, padding=1, return_indices=True)
        y.backward(lib.ones_like(y))
        outs.append((idx.tolist(), x.grad.tolist()))
    assert outs[0] == outs[1]
