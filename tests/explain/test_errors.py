"""Shape errors name the module path and give a hint; anomaly mode stops at the first NaN gradient."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.autograd import (
    AnomalyError,
    detect_anomaly,
    is_anomaly_enabled,
    observers,
    set_detect_anomaly,
)
from glassgrad.errors import ShapeError
from glassgrad.explain.hints import shape_hint
from glassgrad.nn.hooks import _global_forward_hooks, _global_forward_pre_hooks


class Block(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.proj = nn.Linear(n_in, n_out)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.proj(x))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Block(4, 3), Block(4, 3)])  # layer 1 is wrong: 3 -> 4

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()

    def forward(self, x):
        return self.encoder(x).sum()


def test_shape_error_names_nested_module_path_once():
    with pytest.raises(ShapeError) as info:
        Model()(gg.randn(2, 4))
    msg = str(info.value)
    assert msg.startswith("in encoder.layers.1.proj (Linear): ")
    assert msg.count("encoder.layers.1.proj") == 1 and msg.count("in encoder") == 1
    assert "(2, 3)" in msg and "hint: the input has 3 features where Linear wants 4" in msg


def test_shape_error_top_level_and_sequential():
    with pytest.raises(ShapeError, match=r"^in 1 \(Linear\)"):
        nn.Sequential(nn.Linear(2, 3), nn.Linear(5, 1))(gg.randn(1, 2))
    with pytest.raises(ShapeError, match=r"^in Linear: "):
        nn.Linear(2, 3)(gg.randn(1, 4))


def test_shape_hints_for_common_cases():
    class Conv:
        in_channels = 3

    assert "channels-last: use x.permute(0, 3, 1, 2)" in shape_hint("conv2d: ...", Conv(), [(8, 32, 32, 3)])

    class MHA:
        embed_dim, num_heads, batch_first = 10, 3, False

    assert "must split evenly into num_heads 3" in shape_hint("reshape: ...", MHA(), [(5, 2, 10)])
    MHA.embed_dim = 12
    assert "batch_first=False" in shape_hint("matmul: ...", MHA(), [(2, 5, 12)])
    assert "needs inputs whose last dim is 12, got (2, 5, 8)" in shape_hint("x: ...", MHA(), [(2, 5, 8)])

    class LSTM:
        input_size, batch_first = 4, True

    assert "LSTM(input_size=4) needs inputs whose last dim is 4" in shape_hint("x", LSTM(), [(2, 5, 3)])

    class Plain:
        pass

    assert "(..., n, k) @ (..., k, m)" in shape_hint("matmul: expected ...", Plain(), [(2, 3)])
    assert shape_hint("cat: ...", Plain(), [(2, 3)]) is None


class LogNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x).log()  # the line anomaly mode must point at


def _net():
    net = nn.Sequential(nn.Linear(2, 2), LogNet())
    with gg.no_grad():
        net[0].weight.copy_(gg.eye(2))
        net[0].bias.zero_()
        net[1].fc.weight.fill_(-1.0)  # fc(x) < 0 for positive x: log of a negative number
        net[1].fc.bias.zero_()
    return net


def test_detect_anomaly_names_node_module_and_line():
    net = _net()
    with gg.no_grad():
        net[1].fc.weight.zero_()  # LogNet's log() sees 0 everywhere
    enabled = pytest.warns(UserWarning, match="Anomaly Detection has been enabled")
    with enabled, detect_anomaly(), np.errstate(all="ignore"):
        assert is_anomaly_enabled()
        out = net(gg.tensor([[1.0, 5.0]]))  # log(0) = -inf: no anomaly in forward (PyTorch's)
        detected = pytest.warns(UserWarning, match="Error detected in LogBackward0")
        with detected, pytest.raises(AnomalyError) as info:
            (out * 0.0).sum().backward()  # LogBackward0: 0 / 0
    msg = str(info.value)
    assert msg.startswith("Function 'LogBackward0' returned nan values in its 0th output.")
    assert "in module 1 (LogNet)" in msg
    assert "test_errors.py" in msg and "self.fc(x).log()" in msg
    assert not is_anomaly_enabled()
    assert not observers.forward and not observers.backward
    assert not _global_forward_hooks and not _global_forward_pre_hooks


def test_without_anomaly_nan_flows_silently():
    with np.errstate(invalid="ignore"):
        out = _net()(gg.tensor([[1.0, 5.0]]))
    assert np.isnan(out.detach().numpy()).all()


def test_detect_anomaly_in_backward():
    x = gg.tensor([0.0, 1.0], requires_grad=True)
    with (
        set_detect_anomaly(True),
        np.errstate(all="ignore"),
        pytest.warns(UserWarning, match="SqrtBackward0"),
    ):
        y = (x.sqrt() * 0.0).sum()  # forward is finite; sqrt'(0) = inf, times 0 upstream is NaN
        with pytest.raises(
            AnomalyError, match=r"Function 'SqrtBackward0' returned nan values in its 0th output"
        ) as info:
            y.backward()
    assert "x.sqrt() * 0.0" in str(info.value)
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_decorator_lets_inf_and_nan_forward_through():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):

        @detect_anomaly()
        def f(x):
            return x.exp(), x.log()

    with np.errstate(all="ignore"):
        big, neg = f(gg.tensor([1000.0, -1.0]))
    assert np.isinf(big.numpy()[0]) and np.isnan(neg.numpy()[1])
    assert f.__name__ == "f" and not is_anomaly_enabled()


def test_shape_error_path_in_real_transformer():
    if not hasattr(nn, "TransformerEncoderLayer"):
        pytest.skip("nn.TransformerEncoderLayer is not on this branch yet (attention branch)")
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, dropout=0.0)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.TransformerEncoder(layer, 2)

        def forward(self, x):
            return self.encoder(x)

    with pytest.raises(ShapeError) as info:
        Model()(gg.randn(2, 5, 6))
    msg = str(info.value)
    assert msg.startswith("in encoder.layers.0.self_attn (MultiheadAttention): ")
    assert "hint: MultiheadAttention(embed_dim=8) needs inputs whose last dim is 8, got (2, 5, 6)" in msg
