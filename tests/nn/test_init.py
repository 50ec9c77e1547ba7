"""nn.init: gains and fans as PyTorch, the distributions' bounds and moments, orthogonality,
reproducibility, and the default initialisation of every layer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.nn import init
from glassgrad.nn.init import _calculate_fan_in_and_fan_out


def _sample_std_ok(x: np.ndarray, std: float, rel: float = 0.02) -> bool:
    return abs(x.std() - std) < rel * std and abs(x.mean()) < 5 * std / math.sqrt(x.size)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ["linear", "conv1d", "conv2d", "conv_transpose2d", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-12)
    for param in [None, 0.2, math.sqrt(5), 1]:
        assert init.calculate_gain("leaky_relu", param) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", param), rel=1e-12
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative slope"):
        init.calculate_gain("leaky_relu", "big")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (6, 2, 7), (1, 1), (5, 4, 3, 2, 1)])
def test_fan_in_and_fan_out_match_torch(shape):
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert _calculate_fan_in_and_fan_out(gg.empty(*shape)) == expected


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(5,\)"):
        init.xavier_uniform_(gg.empty(5))
    with pytest.raises(ValueError, match="mode 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(gg.empty(2, 2), mode="fan_avg")


def test_simple_fills_work_in_place_on_parameters():
    p = nn.Parameter(gg.empty(3, 4))
    arr = p._data
    assert init.constant_(p, 0.25) is p and p._data is arr and np.all(arr == 0.25)
    assert init.ones_(p) is p and np.all(arr == 1)
    assert init.zeros_(p) is p and np.all(arr == 0)
    assert init.eye_(p) is p
    np.testing.assert_array_equal(arr, np.eye(3, 4))
    assert p.grad_fn is None and p.dtype == gg.float32 and p.requires_grad
    with pytest.raises(ValueError, match="eye_: expected a 2-D tensor"):
        init.eye_(gg.empty(2, 2, 2))


def test_uniform_and_normal_moments():
    t = gg.empty(200, 500)
    init.uniform_(t, -2.0, 3.0)
    assert t._data.min() >= -2.0 and t._data.max() < 3.0 and t.dtype == gg.float32
    assert abs(t._data.mean() - 0.5) < 0.02 and abs(t._data.std() - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.0, 0.5)
    assert abs(t._data.mean() - 1.0) < 0.005 and abs(t._data.std() - 0.5) < 0.005


@pytest.mark.parametrize("shape", [(300, 400), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_bounds_and_std(shape, gain):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(gg.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    t = init.xavier_uniform_(gg.empty(*shape), gain=gain)
    bound = math.sqrt(3.0) * std
    assert np.abs(t._data).max() <= bound and np.abs(t._data).max() > 0.99 * bound
    assert _sample_std_ok(t._data, std)
    t = init.xavier_normal_(gg.empty(*shape), gain=gain)
    assert _sample_std_ok(t._data, std)


@pytest.mark.parametrize("shape", [(300, 400), (64, 32, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(("nonlinearity", "a"), [("relu", 0), ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming_bounds_and_std(shape, mode, nonlinearity, a):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(gg.empty(*shape))
    fan = fan_in if mode == "fan_in" else fan_out
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = init.kaiming_uniform_(gg.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3.0) * std
    assert np.abs(t._data).max() <= bound and np.abs(t._data).max() > 0.99 * bound
    assert _sample_std_ok(t._data, std)
    t = init.kaiming_normal_(gg.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    assert _sample_std_ok(t._data, std)


def test_kaiming_on_zero_element_tensor_is_a_no_op():
    t = gg.empty(0, 3)
    assert init.kaiming_uniform_(t) is t and init.kaiming_normal_(t) is t


@pytest.mark.parametrize(
    ("shape", "gain"), [((4, 10), 1.0), ((10, 4), 2.0), ((6, 6), 1.0), ((3, 2, 2, 2), 0.5)]
)
def test_orthogonal(shape, gain):
    t = init.orthogonal_(gg.empty(*shape), gain=gain)
    w = t._data.reshape(shape[0], -1).astype(np.float64)  # (rows, cols)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.orthogonal_(gg.empty(3))


def test_trunc_normal():
    t = init.trunc_normal_(gg.empty(400, 500), mean=0.5, std=1.0, a=-1.0, b=1.5)
    assert t._data.min() >= -1.0 and t._data.max() <= 1.5
    # moments of N(0.5, 1) truncated to [-1, 1.5], i.e. alpha = -1.5, beta = 1.0 in standard units
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    al, be = -1.5, 1.0
    Z = cdf(be) - cdf(al)
    mean = 0.5 + (pdf(al) - pdf(be)) / Z
    var = 1 + (al * pdf(al) - be * pdf(be)) / Z - ((pdf(al) - pdf(be)) / Z) ** 2
    assert abs(t._data.mean() - mean) < 0.005 and abs(t._data.std() - math.sqrt(var)) < 0.005
    with pytest.raises(ValueError, match="expected a < b"):
        init.trunc_normal_(gg.empty(2), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="holds only"):
        init.trunc_normal_(gg.empty(2), a=30.0, b=31.0)


def test_draws_are_reproducible_and_take_a_generator():
    gg.manual_seed(123)
    a = init.kaiming_uniform_(gg.empty(5, 5))._data.copy()
    gg.manual_seed(123)
    b = init.kaiming_uniform_(gg.empty(5, 5))._data.copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = gg.Generator(7), gg.Generator(7)
    x = init.normal_(gg.empty(4), generator=g1)._data.copy()
    y = init.normal_(gg.empty(4), generator=g2)._data.copy()
    np.testing.assert_array_equal(x, y)
    gg.manual_seed(1)
    m1 = nn.Linear(3, 3)
    gg.manual_seed(1)
    m2 = nn.Linear(3, 3)
    np.testing.assert_array_equal(m1.weight._data, m2.weight._data)


# ------------------------------------------------------------------ default layer inits (PyTorch's)
def test_linear_default_init_bounds():
    fan_in = 256
    lin = nn.Linear(fan_in, 512)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = lin.weight._data, lin.bias._data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert _sample_std_ok(w, bound / math.sqrt(3))
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert w.dtype == np.float32 and lin.weight.requires_grad
    assert nn.Linear(2, 3, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=gg.float64).weight.dtype == gg.float64
    empty = nn.Linear(0, 3)
    assert empty.weight.shape == (3, 0) and np.all(empty.bias._data == 0)


def test_bilinear_default_init_bounds():
    bl = nn.Bilinear(50, 30, 40)
    bound = 1 / math.sqrt(50)
    assert np.abs(bl.weight._data).max() <= bound and np.abs(bl.weight._data).max() > 0.99 * bound
    assert np.abs(bl.bias._data).max() <= bound


def test_embedding_layernorm_batchnorm_default_init():
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = np.delete(emb.weight._data, 3, axis=0)
    assert _sample_std_ok(w, 1.0) and np.all(emb.weight._data[3] == 0)
    ln = nn.LayerNorm((4, 5))
    assert np.all(ln.weight._data == 1) and np.all(ln.bias._data == 0) and ln.weight.shape == (4, 5)
    bn = nn.BatchNorm1d(7)
    assert np.all(bn.weight._data == 1) and np.all(bn.bias._data == 0)
    assert np.all(bn.running_mean._data == 0) and np.all(bn.running_var._data == 1)
    assert bn.num_batches_tracked.dtype == gg.int64 and bn.num_batches_tracked.shape == ()


def test_reset_parameters_redraws():
    lin = nn.Linear(4, 4)
    before = lin.weight._data.copy()
    lin.reset_parameters()
    assert not np.array_equal(before, lin.weight._data)
    bn = nn.BatchNorm1d(3)
    bn.running_mean._data[:] = 5
    bn.num_batches_tracked._data[...] = 9
    bn.reset_parameters()
    assert np.all(bn.running_mean._data == 0) and int(bn.num_batches_tracked.item()) == 0
    emb = nn.Embedding(5, 2, padding_idx=1)
    emb.reset_parameters()
    assert np.all(emb.weight._data[1] == 0)
