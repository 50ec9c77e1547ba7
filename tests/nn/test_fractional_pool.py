"""Fractional max pooling: F.fractional_max_pool2d/3d and nn.FractionalMaxPool2d/3d.

Windows from hand-worked interval sequences, a float64 gradcheck, and PyTorch parity on random
configurations (values, indices, gradients, and which inputs are refused) including ties, NaNs,
infinities, empty batches, outputs of size 0 and float32/float16 samples.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, ShapeError


def _samples(*rows: tuple[float, ...], dtype=gg.float64) -> gg.Tensor:
    return gg.tensor([[list(r) for r in rows]], dtype=dtype)


def test_square_windows_of_an_arange_by_hand():
    # alpha = (4 - 2) / (2 - 1) = 2: starts [int(0.5 * 2) - int(0.5 * 2), 4 - 2] = [0, 2] in both dims
    x = gg.arange(16.0).reshape(1, 1, 4, 4)
    y, idx = F.fractional_max_pool2d(
        x, 2, output_size=2, return_indices=True, _random_samples=_samples((0.5, 0.5), dtype=gg.float32)
    )
    assert y.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert idx.tolist() == [[[[5, 7], [13, 15]]]]


def test_interval_sequence_by_hand_and_which_sample_drives_which_dim():
    # Height 7, output 4, pool 2, sample u = 0.8: alpha = 5 / 3, starts
    # [int(0.8a) - int(0.8a), int(1.8a) - 1, int(2.8a) - 1, 7 - 2] = [0, 2, 3, 5]. An increasing column
    # has its maximum at the window's end: start + 1. The width sample (first, as PyTorch's) is 0.3:
    # width 9, output 3, pool 3, alpha 3: starts [0, int(3.9) - int(0.9), 6] = [0, 3, 6], ends 2, 5, 8.
    x = (gg.arange(7.0, dtype=gg.float64).reshape(7, 1) * 100 + gg.arange(9.0, dtype=gg.float64)).reshape(
        1, 1, 7, 9
    )
    y = F.fractional_max_pool2d(x, (2, 3), output_size=(4, 3), _random_samples=_samples((0.3, 0.8)))
    rows, cols = [1, 3, 4, 6], [2, 5, 8]
    assert y.tolist() == [[[[100.0 * r + c for c in cols] for r in rows]]]
    # 3-D reads its samples in the dims' order: time, height, width
    v = gg.arange(7.0, dtype=gg.float64).reshape(7, 1, 1).expand(7, 3, 3).reshape(1, 1, 7, 3, 3)
    z = F.fractional_max_pool3d(
        v, (2, 1, 1), output_size=(4, 2, 2), _random_samples=_samples((0.8, 0.1, 0.1))
    )
    assert z[0, 0, :, 0, 0].tolist() == [1.0, 3.0, 4.0, 6.0]


def test_ties_take_the_first_and_nans_the_last():
    s = _samples((0.5, 0.5))
    _, idx = F.fractional_max_pool2d(
        gg.zeros(1, 1, 4, 4, dtype=gg.float64), 2, output_size=2, return_indices=True, _random_samples=s
    )
    assert idx.tolist() == [[[[0, 2], [8, 10]]]]
    x = gg.zeros(1, 1, 4, 4, dtype=gg.float64)
    x[0, 0, 0, 1] = float("nan")
    x[0, 0, 1, 0] = float("nan")
    y, idx = F.fractional_max_pool2d(x, 2, output_size=2, return_indices=True, _random_samples=s)
    assert idx[0, 0, 0, 0].item() == 4 and np.isnan(y[0, 0, 0, 0].item())


def test_gradcheck_float64_2d_and_3d():
    rng = np.random.default_rng(0)
    x2 = gg.tensor(rng.permutation(2 * 3 * 9 * 8).reshape(2, 3, 9, 8) / 7.0, requires_grad=True)
    s2 = gg.tensor(rng.random((2, 3, 2)))
    assert gradcheck(
        lambda t: F.fractional_max_pool2d(t, (3, 2), output_size=(4, 5), _random_samples=s2), (x2,)
    )
    x3 = gg.tensor(rng.permutation(1 * 2 * 6 * 5 * 7).reshape(1, 2, 6, 5, 7) / 7.0, requires_grad=True)
    s3 = gg.tensor(rng.random((1, 2, 3)))
    assert gradcheck(lambda t: F.fractional_max_pool3d(t, 2, output_ratio=0.5, _random_samples=s3), (x3,))


def test_unbatched_input_and_unpooling_round_trip():
    x = gg.randn(3, 8, 8, dtype=gg.float64)
    s = gg.rand(1, 3, 2, dtype=gg.float64)
    y, idx = F.fractional_max_pool2d(x, 2, output_size=5, return_indices=True, _random_samples=s)
    yb, idxb = F.fractional_max_pool2d(
        x.unsqueeze(0), 2, output_size=5, return_indices=True, _random_samples=s
    )
    assert y.shape == (3, 5, 5) and gg.equal(y, yb[0]) and gg.equal(idx, idxb[0])
    back = F.max_unpool2d(y, idx, 1, stride=2, output_size=(8, 8))
    assert gg.equal(back.flatten(1).gather(1, idx.flatten(1)), y.flatten(1))


def test_a_number_as_ratio_in_the_functional_form():
    # PyTorch's functional 2-D form raises TypeError at len(0.5) (a listed difference); its module takes it
    s = gg.rand(1, 2, 2, dtype=gg.float64)
    x = gg.randn(1, 2, 9, 7, dtype=gg.float64)
    a = F.fractional_max_pool2d(x, 2, output_ratio=0.5, _random_samples=s)
    b = F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5), _random_samples=s)
    assert a.shape == (1, 2, 4, 3) and gg.equal(a, b)


def test_drawn_samples_follow_the_seed():
    x = gg.randn(2, 3, 12, 12)
    gg.manual_seed(3)
    a = F.fractional_max_pool2d(x, 3, output_ratio=(0.5, 0.5), return_indices=True)[1]
    gg.manual_seed(3)
    b = F.fractional_max_pool2d_with_indices(x, 3, output_ratio=(0.5, 0.5))[1]
    assert a.shape == (2, 3, 6, 6) and gg.equal(a, b)


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (
            lambda: F.fractional_max_pool2d(gg.zeros(1, 2, 8, 8, dtype=gg.int64), 2, output_size=3),
            DTypeError,
            "floating point",
        ),
        (
            lambda: F.fractional_max_pool2d(gg.zeros(1, 2, 8, 8), 5, output_size=5),
            ShapeError,
            "pool height 5 too large",
        ),
        (
            lambda: F.fractional_max_pool3d(gg.zeros(1, 1, 6, 6, 6), 2, output_size=(3, 3, 5)),
            ShapeError,
            "pool width 2 too large",
        ),
        (
            lambda: F.fractional_max_pool2d(gg.zeros(2, 0, 8, 8), 2, output_size=3),
            ShapeError,
            "non-zero size",
        ),
        (
            lambda: F.fractional_max_pool2d(gg.zeros(8, 8), 2, output_size=3),
            ShapeError,
            "3-D (unbatched) or 4-D",
        ),
        (
            lambda: F.fractional_max_pool2d(gg.zeros(1, 2, 8, 8), 2),
            ValueError,
            "either an output_size or an output_ratio",
        ),
        (
            lambda: F.fractional_max_pool2d(
                gg.zeros(2, 2, 8, 8), 2, output_size=3, _random_samples=gg.rand(1, 2, 2)
            ),
            ShapeError,
            "(>= 2, 2, 2)",
        ),
        (
            lambda: F.fractional_max_pool2d(
                gg.zeros(1, 2, 8, 8), 2, output_size=3, _random_samples=gg.rand(1, 2, 3)
            ),
            ShapeError,
            "_random_samples of shape",
        ),
        (
            lambda: F.fractional_max_pool2d(
                gg.zeros(1, 2, 8, 8), 2, output_size=3, _random_samples=gg.rand(1, 2, 2, dtype=gg.float64)
            ),
            DTypeError,
            "input's dtype",
        ),
        (
            lambda: F.fractional_max_pool2d(
                gg.zeros(1, 1, 8, 8), 2, output_size=3, _random_samples=gg.full((1, 1, 2), float("nan"))
            ),
            ValueError,
            "finite",
        ),
        (lambda: nn.FractionalMaxPool2d(2), ValueError, "either an output size, or a pooling ratio"),
        (lambda: nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5), ValueError, "only one of"),
        (lambda: nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError, "between 0 and 1"),
        (lambda: nn.FractionalMaxPool3d(0, output_ratio=0.5), ValueError, "greater than 0"),
    ],
)
def test_bad_input_is_refused_clearly(call, error, text):
    with pytest.raises(error, match=None) as info:
        call()
    assert text in str(info.value)


def test_layers_store_arguments_and_samples_as_pytorch(torch):
    for ours, theirs, args in (
        (nn.FractionalMaxPool2d, torch.nn.FractionalMaxPool2d, dict(kernel_size=3, output_ratio=0.5)),
        (
            nn.FractionalMaxPool3d,
            torch.nn.FractionalMaxPool3d,
            dict(kernel_size=(1, 2, 3), output_size=4, return_indices=True),
        ),
    ):
        a, b = ours(**args), theirs(**args)
        assert repr(a) == repr(b) and dict(a.state_dict()) == {} == dict(b.state_dict())
        for name in ("kernel_size", "output_size", "output_ratio", "return_indices"):
            assert getattr(a, name) == getattr(b, name), name
    samples = np.random.default_rng(1).random((2, 3, 2))
    a = nn.FractionalMaxPool2d(2, output_size=4, _random_samples=gg.tensor(samples))
    b = torch.nn.FractionalMaxPool2d(2, output_size=4, _random_samples=torch.tensor(samples))
    assert list(a.state_dict()) == list(b.state_dict()) == ["_random_samples"]
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 9))
    assert np.array_equal(a(gg.tensor(x)).numpy(), b(torch.tensor(x)).numpy())
    c = nn.FractionalMaxPool2d(2, output_size=4)
    c.load_state_dict(dict(b.state_dict()), strict=False)


def _config(rng, nd):
    n, c = int(rng.integers(0, 3)), int(rng.integers(1, 4))
    sizes = tuple(int(v) for v in rng.integers(1, 9, size=nd))
    kernel = tuple(int(rng.integers(1, s + 1)) for s in sizes)
    out = tuple(int(rng.integers(0, s - k + 2)) for s, k in zip(sizes, kernel))  # 3-D refuses the largest
    return n, c, sizes, kernel, out


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_random_configurations_match_pytorch(torch, nd, dtype):
    rng = np.random.default_rng(nd * 10 + len(dtype))
    ours_f = F.fractional_max_pool2d if nd == 2 else F.fractional_max_pool3d
    theirs_f = (
        torch.nn.functional.fractional_max_pool2d if nd == 2 else torch.nn.functional.fractional_max_pool3d
    )
    ran = 0
    for trial in range(120):
        n, c, sizes, kernel, out = _config(rng, nd)
        x = rng.standard_normal((n, c, *sizes)).astype(dtype)
        if trial % 4 == 0:
            x = np.round(x)  # ties
        if trial % 5 == 0 and x.size:
            x.flat[rng.integers(0, x.size, size=3)] = rng.choice([np.nan, -np.inf, np.inf])
        samples = rng.random((max(n, 1) + int(rng.integers(0, 2)), c, nd)).astype(dtype)
        xt, xg = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
        try:
            yt, it = theirs_f(
                xt, kernel, output_size=out, return_indices=True, _random_samples=torch.tensor(samples)
            )
        except RuntimeError:
            with pytest.raises(ShapeError):
                ours_f(xg, kernel, output_size=out, return_indices=True, _random_samples=gg.tensor(samples))
            continue
        yg, ig = ours_f(xg, kernel, output_size=out, return_indices=True, _random_samples=gg.tensor(samples))
        assert np.array_equal(it.numpy(), ig.numpy())
        np.testing.assert_array_equal(yt.detach().numpy(), yg.detach().numpy())
        w = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        (yt * torch.tensor(w)).sum().backward()
        (yg * gg.tensor(w)).sum().backward()
        gt = xt.grad.numpy() if xt.grad is not None else np.zeros_like(x)
        np.testing.assert_allclose(xg.grad.numpy(), gt, rtol=1e-6, atol=1e-6)
        ran += 1
    assert ran > 30  # most configurations pool; the rest were refused by both


def test_float32_and_float16_samples_give_pytorchs_windows(torch):
    rng = np.random.default_rng(5)
    for dtype in ("float32", "float16"):
        for _ in range(40):
            h, w = (int(v) for v in rng.integers(20, 80, size=2))
            out = (int(rng.integers(2, h // 2)), int(rng.integers(2, w // 2)))
            x = rng.standard_normal((1, 2, h, w)).astype(dtype)
            s = rng.random((1, 2, 2)).astype(dtype)
            theirs = torch.nn.functional.fractional_max_pool2d(
                torch.tensor(x), 3, output_size=out, return_indices=True, _random_samples=torch.tensor(s)
            )[1]
            ours = F.fractional_max_pool2d(
                gg.tensor(x), 3, output_size=out, return_indices=True, _random_samples=gg.tensor(s)
            )[1]
            assert np.array_equal(theirs.numpy(), ours.numpy())


def test_node_name_is_pytorchs(torch):
    x = gg.randn(1, 1, 6, 6, requires_grad=True)
    y = F.fractional_max_pool2d(x, 2, output_size=3)
    t = torch.nn.functional.fractional_max_pool2d(
        torch.randn(1, 1, 6, 6, requires_grad=True), 2, output_size=3
    )
    assert y.grad_fn.name() == t.grad_fn.name()
