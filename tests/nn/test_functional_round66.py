"""Round 66: nn.functional differences found by replaying PyTorch's OpInfo samples (op_db)."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _gg(t):
    return gg.from_numpy(t.detach().numpy().copy())


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
def test_int64_dilated_convolutions_run_as_pytorch(torch, nd, transposed):
    gen = torch.Generator().manual_seed(nd)
    x = torch.randint(-5, 5, (2, 4) + (6,) * nd, generator=gen)
    w = torch.randint(-3, 3, ((4, 3) if transposed else (6, 2)) + (3,) * nd, generator=gen)
    b = torch.randint(-3, 3, (6,), generator=gen)
    name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    kw = dict(dilation=2, groups=2, padding=1, stride=2 if transposed else 1)
    want = getattr(torch.nn.functional, name)(x, w, b, **kw)
    got = getattr(F, name)(_gg(x), _gg(w), _gg(b), **kw)
    assert str(got.dtype) == "glassgrad.int64" and want.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int16"])
def test_other_integer_dilated_or_transposed_convolutions_refuse_as_pytorch(torch, dtype):
    tdt = getattr(torch, dtype)
    x, w = torch.ones(1, 2, 6, dtype=tdt), torch.ones(2, 2, 3, dtype=tdt)
    cases = [("conv1d", dict(dilation=2)), ("conv_transpose1d", {})]
    for name, kw in cases:
        with pytest.raises(NotImplementedError):
            getattr(torch.nn.functional, name)(x, w, **kw)
        with pytest.raises(NotImplementedError, match=name):
            getattr(F, name)(_gg(x), _gg(w), **kw)
    # the plain integer convolution runs in both
    np.testing.assert_array_equal(F.conv1d(_gg(x), _gg(w)).numpy(), torch.nn.functional.conv1d(x, w).numpy())


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("divisor", [-3, -1, 5])
def test_avg_pool_negative_divisor_override(torch, nd, divisor):
    gen = torch.Generator().manual_seed(0)
    name = f"avg_pool{nd}d"
    x = torch.randn((2, 3) + (5,) * nd, dtype=torch.float64, generator=gen, requires_grad=True)
    kw = dict(kernel_size=2, stride=1, padding=1, divisor_override=divisor)
    want = getattr(torch.nn.functional, name)(x, **kw)
    cot = torch.randn(want.shape, dtype=torch.float64, generator=gen)
    want.backward(cot)
    gx = _gg(x).requires_grad_()
    got = getattr(F, name)(gx, **kw)
    got.backward(_gg(cot))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-12)
    # integers: the window sum divided with truncation toward zero, whatever the signs
    xi = torch.randint(-20, 20, (2, 3) + (5,) * nd, generator=gen)
    for cip in (True, False):
        kw_i = dict(kw, count_include_pad=cip)
        want_i = getattr(torch.nn.functional, name)(xi, **kw_i)
        np.testing.assert_array_equal(getattr(F, name)(_gg(xi), **kw_i).numpy(), want_i.numpy())
    with pytest.raises(RuntimeError):
        getattr(F, name)(_gg(x), 2, divisor_override=0)
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(x, 2, divisor_override=0)


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int8", "int16", "int64"])
def test_integer_bilinear_keeps_its_dtype(torch, dtype):
    tdt = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(1)
    a, b = (
        torch.randint(0, 100, (4, 3), dtype=tdt, generator=gen),
        torch.randint(0, 100, (4, 5), dtype=tdt, generator=gen),
    )
    w, bias = (
        torch.randint(0, 100, (2, 3, 5), dtype=tdt, generator=gen),
        torch.randint(0, 100, (2,), dtype=tdt, generator=gen),
    )
    want = torch.nn.functional.bilinear(a, b, w, bias)  # wraps around as the dtype does
    got = F.bilinear(_gg(a), _gg(b), _gg(w), _gg(bias))
    assert str(got.dtype) == f"glassgrad.{dtype}"
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# per_sample_weights go with mode='sum' only
@pytest.mark.parametrize(("mode", "weighted"), [("sum", False), ("mean", False), ("sum", True)])
def test_float16_embedding_bag_sums_in_float32(torch, mode, weighted):
    gen = torch.Generator().manual_seed(2)
    table = (torch.randn(10, 16, generator=gen) * 5).half()
    ids = torch.randint(0, 10, (40,), generator=gen)
    offsets = torch.tensor([0, 7, 7, 20, 33])
    psw = (torch.randn(40, generator=gen) * 5).half() if weighted else None
    want = torch.nn.functional.embedding_bag(ids, table, offsets, mode=mode, per_sample_weights=psw)
    got = F.embedding_bag(
        _gg(ids), _gg(table), _gg(offsets), mode=mode, per_sample_weights=None if psw is None else _gg(psw)
    )
    assert str(got.dtype) == "glassgrad.float16"
    # one rounding to float16 at the end: the same values as PyTorch's, up to float32 summation order
    torch.testing.assert_close(torch.from_numpy(got.numpy()), want, rtol=1e-3, atol=1e-5)


def test_argument_refusals_are_runtime_errors(torch):
    x = torch.randn(4)
    for fn in (
        lambda F_, t: F_.softshrink(t, -0.5),
        lambda F_, t: F_.rrelu(t, 0.3, 0.1),
        lambda F_, t: F_.rrelu(t, 0.3, 0.1, training=True),
    ):
        with pytest.raises(RuntimeError):
            fn(torch.nn.functional, x)
        with pytest.raises(RuntimeError):
            fn(F, _gg(x))


def test_linear_cross_entropy_ignore_index_with_probabilities_is_a_runtime_error(torch):
    x, w, p = torch.randn(2, 3), torch.randn(4, 3), torch.softmax(torch.randn(2, 4), -1)
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified"):
        torch.nn.functional.linear_cross_entropy(x, w, p, ignore_index=0)
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified"):
        F.linear_cross_entropy(_gg(x), _gg(w), _gg(p), ignore_index=0)


@pytest.mark.parametrize("p, training", [(0.5, False), (0.0, True), (0.0, False)])
def test_feature_alpha_dropout_passes_any_rank_through_when_it_drops_nothing(torch, p, training):
    x = torch.randn(5)
    assert torch.nn.functional.feature_alpha_dropout(x, p, training) is x
    gx = _gg(x)
    assert F.feature_alpha_dropout(gx, p, training) is gx
    with pytest.raises(RuntimeError):
        torch.nn.functional.feature_alpha_dropout(x, 0.5, True)
    with pytest.raises(RuntimeError):
        F.feature_alpha_dropout(gx, 0.5, True)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
@pytest.mark.parametrize("value", [-9, 255, 256, 3.7, -1.5, 127, 128, -129])
def test_integer_threshold_converts_value_as_pytorch(torch, dtype, value):
    x = torch.tensor([0, 1, 5, 2, 3], dtype=getattr(torch, dtype))
    try:
        want = torch.nn.functional.threshold(x, 2, value)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="overflow"):
            F.threshold(_gg(x), 2, value)
        return
    got = F.threshold(_gg(x), 2, value)
    assert str(got.dtype) == f"glassgrad.{dtype}"
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_bool_threshold_is_refused_as_pytorch(torch):
    with pytest.raises(NotImplementedError):
        torch.nn.functional.threshold(torch.tensor([True, False]), 0, 1)
    with pytest.raises(NotImplementedError, match="threshold_cpu"):
        F.threshold(gg.tensor([True, False]), 0, 1)
