"""Round 47, speech separation (asteroid): ``repeat`` returns a new row-major tensor, as PyTorch's.

asteroid's FasNetTAC does ``ctx.unsqueeze(2).repeat(1, 1, n_src, 1, 1).view(1, -1, k)`` on a
transposed ``ctx``; with ``n_src == 1`` every repeat size is 1, NumPy's ``tile`` then copies in the
input's own (transposed) layout, and ``view`` refused the result where PyTorch's contiguous copy
views fine.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


def _transposed(lib, shape=(2, 3, 4)):
    n = int(np.prod(shape))
    return lib.arange(float(n)).reshape(*shape).transpose(-1, -2)


SIZES = [(1, 1, 1), (1, 1, 1, 1), (1, 2, 1), (2, 1, 1, 1), (1, 1, 3)]


@pytest.mark.parametrize("sizes", SIZES)
def test_repeat_of_a_transposed_tensor_is_row_major_as_torchs(torch, sizes):
    a, b = _transposed(torch).repeat(*sizes), _transposed(gg).repeat(*sizes)
    assert tuple(b.shape) == tuple(a.shape)
    assert b.stride() == a.stride()
    assert b.is_contiguous() and a.is_contiguous()
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    np.testing.assert_array_equal(b.view(-1).numpy(), a.view(-1).numpy())


@pytest.mark.parametrize("shape", [(3, 1, 2), (1, 4, 1), (0, 3, 2)])
def test_repeat_strides_with_size_one_and_empty_dims_as_torchs(torch, shape):
    def run(lib):
        x = lib.zeros(*shape).transpose(0, 2)
        return [x.repeat(*r).stride() for r in [(1, 1, 1), (2, 1, 1, 1), (1, 3, 1)]]

    assert run(gg) == [tuple(s) for s in run(torch)]


@pytest.mark.parametrize("dims", [(1, 1), (1,), (1, 1, 1, 1), (2, 1)])
def test_tile_of_a_transposed_tensor_is_row_major_as_torchs(torch, dims):
    a, b = torch.tile(_transposed(torch), dims), gg.tile(_transposed(gg), dims)
    assert b.stride() == a.stride()
    np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_repeat_with_sizes_one_copies_and_does_not_alias():
    x = _transposed(gg)
    y = x.repeat(1, 1, 1)
    y[0, 0, 0] = -5.0
    assert x[0, 0, 0].item() == 0.0  # PyTorch's repeat always copies


def test_fasnet_style_repeat_then_view(torch):
    def run(lib):
        ctx = lib.arange(2 * 128 * 526.0).reshape(2, 1, 128, 526).transpose(-1, -2)  # (B, mics, L, k)
        rep = ctx.unsqueeze(2).repeat(1, 1, 1, 1, 1)
        return rep.view(1, -1, 128).numpy()

    np.testing.assert_array_equal(run(gg), run(torch))


@pytest.mark.parametrize(
    "shape,sizes", [((3, 4), (1, 1)), ((2, 3, 4), (1, 1, 1, 1)), ((3, 1, 2), (2, 1, 3, 1)), ((4,), (1, 1, 2))]
)
def test_repeat_of_a_transposed_input_gradcheck(shape, sizes):
    rng = np.random.default_rng(len(shape) + len(sizes))
    full = (1,) * (len(sizes) - len(shape)) + shape
    out_shape = tuple(r * n for r, n in zip(sizes, full, strict=True))
    x = gg.tensor(rng.standard_normal(shape[::-1]), requires_grad=True)
    w = gg.tensor(rng.standard_normal((1,) * (len(out_shape) - 1) + out_shape[-1:]), requires_grad=True)

    def f(x, w):
        t = x.permute(*reversed(range(x.ndim)))  # a non-contiguous input of ``shape``
        r = t.repeat(*sizes)
        return (r * w).view(-1).sin()  # w broadcasts over the result's leading dims

    assert gradcheck(f, (x, w))
